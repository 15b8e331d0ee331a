"""WorkdirTracker with its inotify watch: what a task changed, without walking the tree."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from engine.core.events import Event
from engine.workdir import manifest as manifest_module
from engine.workdir import rescan as rescan_module
from engine.workdir.tracking import WorkdirTracker, after_name

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")


def tracker_in(tmp_path: Path, watch: bool = True) -> WorkdirTracker:
    events: list[Event] = []
    return WorkdirTracker(tmp_path / "snapshots", "exec1", 1 << 30, events.append,
                          lambda *args: None, watch=watch)


def changed(tracker: WorkdirTracker, run: str, directory: Path) -> list[tuple[str, str]]:
    changes = tracker.after(run, run, directory)
    assert changes is not None
    return [(c.path, c.kind.value) for c in changes.changes]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    (root / "sub").mkdir(parents=True)
    (root / "sub/kept.txt").write_text("kept")
    return root


def test_a_task_that_changes_nothing_is_not_walked_and_its_snapshots_are_aliases(tmp_path, work, monkeypatch):
    tracker = tracker_in(tmp_path)
    tracker.before("t1", "t1", work)
    assert changed(tracker, "t1", work) == []

    def no_walk(*args, **kwargs):
        raise AssertionError("the tree was walked")
    monkeypatch.setattr(manifest_module, "scan", no_walk)
    monkeypatch.setattr(rescan_module, "walk_watching", no_walk)
    tracker.before("t2", "t2", work)
    assert changed(tracker, "t2", work) == []

    tracker.close()
    lines = (tmp_path / "snapshots/exec1/journal.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["S", "A", "A", "A"]
    assert sorted(tracker.snapshots.manifest(after_name("t2")).entries) == ["sub/kept.txt"]


def test_files_written_in_a_new_folder_and_later_inside_it_are_reported(tmp_path, work):
    tracker = tracker_in(tmp_path)
    tracker.before("t1", "t1", work)
    (work / "new/deeper").mkdir(parents=True)
    (work / "new/deeper/a.txt").write_text("a")
    assert changed(tracker, "t1", work) == [("new/deeper/a.txt", "added")]

    tracker.before("t2", "t2", work)
    (work / "new/deeper/b.txt").write_text("b")  # the new folder is watched now
    (work / "sub/kept.txt").unlink()
    assert changed(tracker, "t2", work) == [("new/deeper/b.txt", "added"), ("sub/kept.txt", "deleted")]
    tracker.close()


def test_a_change_made_between_two_tasks_is_in_the_next_tasks_snapshot_not_its_changes(tmp_path, work):
    tracker = tracker_in(tmp_path)
    tracker.before("t1", "t1", work)
    changed(tracker, "t1", work)
    (work / "late.txt").write_text("written after t1 ended, by a process it left")

    tracker.before("t2", "t2", work)
    assert changed(tracker, "t2", work) == []
    assert sorted(tracker.snapshots.manifest("t2").entries) == ["late.txt", "sub/kept.txt"]
    tracker.close()


def test_a_same_size_rewrite_that_keeps_the_mtime_is_reported(tmp_path, work):
    target = work / "sub/kept.txt"
    tracker = tracker_in(tmp_path)
    tracker.before("t1", "t1", work)
    stat = target.stat()
    target.write_text("KEPT")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert changed(tracker, "t1", work) == [("sub/kept.txt", "modified")]
    tracker.close()


def test_a_moved_folder_is_followed_under_its_new_name(tmp_path, work):
    tracker = tracker_in(tmp_path)
    tracker.before("t1", "t1", work)
    (work / "sub").rename(work / "moved")
    assert changed(tracker, "t1", work) == [("moved/kept.txt", "added"), ("sub/kept.txt", "deleted")]

    tracker.before("t2", "t2", work)
    (work / "moved/more.txt").write_text("more")
    assert changed(tracker, "t2", work) == [("moved/more.txt", "added")]
    tracker.close()


def test_without_a_watch_every_task_walks_and_still_sees_its_changes(tmp_path, work):
    tracker = tracker_in(tmp_path, watch=False)
    tracker.before("t1", "t1", work)
    (work / "sub/kept.txt").write_text("changed!")
    (work / "added.txt").write_text("new")
    assert changed(tracker, "t1", work) == [("added.txt", "added"), ("sub/kept.txt", "modified")]
    tracker.close()
