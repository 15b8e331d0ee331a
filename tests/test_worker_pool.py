"""The elastic pool behind Parallel and ForEach: reused threads, nesting that cannot deadlock."""

from __future__ import annotations

import threading

import pytest

from engine.execution.worker_pool import ElasticPool


def test_idle_threads_are_reused_instead_of_starting_new_ones():
    pool = ElasticPool("t")
    names = set()
    for _ in range(20):
        names.add(pool.submit(lambda: threading.current_thread().name).result(5))
    assert len(names) == 1
    assert pool.idle_count == 1


def test_busy_threads_never_queue_work_so_nested_waits_finish():
    pool = ElasticPool("t")

    def parent() -> int:
        # Each parent waits on children submitted to the same pool: a bounded pool would hang.
        children = [pool.submit(lambda i=i: i * 2) for i in range(4)]
        return sum(child.result(5) for child in children)

    parents = [pool.submit(parent) for _ in range(4)]
    assert [p.result(10) for p in parents] == [12, 12, 12, 12]


def test_jobs_run_side_by_side():
    pool = ElasticPool("t")
    barrier = threading.Barrier(3, timeout=5)
    futures = [pool.submit(barrier.wait) for _ in range(3)]
    assert sorted(f.result(5) for f in futures) == [0, 1, 2]


def test_an_exception_reaches_whoever_waits_and_the_thread_survives():
    pool = ElasticPool("t")

    def boom() -> None:
        raise ValueError("bad branch")

    with pytest.raises(ValueError, match="bad branch"):
        pool.submit(boom).result(5)
    assert pool.submit(lambda: "still works").result(5) == "still works"
