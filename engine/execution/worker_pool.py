"""Reusable threads for Parallel and ForEach branches.

A ThreadPoolExecutor per flowable task pays for a new thread per branch (about
50 µs each, the bulk of a nested ForEach > Parallel's engine time), and one
shared bounded pool would deadlock: a branch that waits for its own nested
branches could hold the last worker. This pool never queues work behind a busy
thread: it hands a job to an idle thread or starts a new one, and idle threads
end after a while, so nesting is safe and warm executions start no threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

IDLE_SECONDS = 30.0


class _Worker:
    """One thread that runs the jobs handed to it, then offers itself back as idle."""

    def __init__(self, pool: ElasticPool, name: str) -> None:
        self._pool = pool
        # Held while there is no job; `give` releases it. A bare lock wakes the thread for less
        # than a Condition (no waiter lock made per wait): once per branch of a Parallel.
        self._wake = threading.Lock()
        self._wake.acquire()
        self._job: tuple[Callable[[], Any], Future[Any]] | None = None
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def give(self, job: Callable[[], Any], future: Future[Any]) -> None:
        """Only ever called for an idle worker (taken off the pool's idle list), so at most
        one job waits here and the lock is held."""
        self._job = (job, future)
        self._wake.release()

    def _loop(self) -> None:
        while True:
            if not self._wake.acquire(timeout=IDLE_SECONDS):
                if self._pool.retire(self):
                    return
                continue  # handed a job while retiring: the lock is free now, run it
            job, future = self._job  # type: ignore[misc]
            self._job = None
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:  # handed to whoever waits on the future
                    future.set_exception(exc)
            self._pool.offer(self)


class ElasticPool:
    """Runs callables on reused threads, starting a new one whenever none is idle."""

    def __init__(self, name: str = "roost") -> None:
        self._name = name
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._count = 0

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            worker = self._idle.pop() if self._idle else None
            if worker is None:
                self._count += 1
                worker = _Worker(self, f"{self._name}-{self._count}")
                start = True
            else:
                start = False
        worker.give(job, future)
        if start:
            worker.thread.start()
        return future

    def offer(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def retire(self, worker: _Worker) -> bool:
        """An idle worker asks to end; False when it was handed a job meanwhile."""
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return True
            return False

    @property
    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)
