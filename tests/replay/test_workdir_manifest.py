"""workdir_manifest: what a scan records, what it reuses, and what compare calls a change."""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.workdir import manifest as workdir_manifest
from engine.workdir.manifest import (
    SMALL_FILE_BYTES,
    ChangeKind,
    ChangeSet,
    FileChange,
    Manifest,
    compare,
    digest_bytes,
    scan,
)

SETTLE = 0.06  # longer than the racy window: files older than this keep their digest


def write(root: Path, relative: str, data: bytes | str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def rewrite_in_place_keeping_mtime(path: Path, data: bytes) -> None:
    """What `tar -x` or a careful tool does: same inode, same size, same mtime."""
    before = path.stat()
    assert len(data) == before.st_size
    with open(path, "r+b") as handle:
        handle.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)


def on_file_open(monkeypatch, before: Callable[[str, int | None], None]) -> None:
    """Call before(name, dir_fd) ahead of each file (not folder) the scan opens to hash."""
    real_open = os.open

    def patched_open(path, flags, *args, dir_fd=None, **kwargs):
        if not flags & os.O_DIRECTORY:
            before(os.fspath(path), dir_fd)
        return real_open(path, flags, *args, dir_fd=dir_fd, **kwargs)

    monkeypatch.setattr(workdir_manifest.os, "open", patched_open)


@pytest.fixture()
def opened(monkeypatch) -> list[str]:
    """Names of the files the scan opens to hash."""
    seen: list[str] = []
    on_file_open(monkeypatch, lambda name, _fd: seen.append(name))
    return seen


def test_scan_records_files_with_digest_size_mode_and_every_directory(tmp_path):
    write(tmp_path, "a.txt", "hello")
    script = write(tmp_path, "bin/run.sh", "#!/bin/sh\n")
    script.chmod(0o755)
    (tmp_path / "empty" / "deeper").mkdir(parents=True)

    manifest = scan(tmp_path)

    assert set(manifest.entries) == {"a.txt", "bin/run.sh"}
    assert manifest.directories == frozenset({"bin", "empty", "empty/deeper"})
    entry = manifest.entries["a.txt"]
    assert (entry.path, entry.size, entry.digest) == ("a.txt", 5, digest_bytes(b"hello"))
    assert entry.inode == (tmp_path / "a.txt").stat().st_ino
    assert manifest.entries["bin/run.sh"].mode & 0o777 == 0o755
    assert len(manifest) == 2 and manifest.total_size == 5 + 10


def test_files_above_the_small_limit_get_no_digest(tmp_path):
    write(tmp_path, "big.bin", b"x" * (SMALL_FILE_BYTES + 1))
    write(tmp_path, "edge.bin", b"x" * SMALL_FILE_BYTES)
    manifest = scan(tmp_path)
    assert manifest.entries["big.bin"].digest is None
    assert manifest.entries["edge.bin"].digest == digest_bytes(b"x" * SMALL_FILE_BYTES)


def test_symlinks_are_recorded_never_followed(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "secret.txt", "s")
    root = tmp_path / "root"
    root.mkdir()
    (root / "to_outside").symlink_to(outside, target_is_directory=True)
    (root / "dangling").symlink_to("nowhere.txt")

    manifest = scan(root)

    assert set(manifest.entries) == {"to_outside", "dangling"}
    assert manifest.entries["to_outside"].link == str(outside)
    assert manifest.entries["to_outside"].digest is None
    assert manifest.entries["dangling"].link == "nowhere.txt"
    assert manifest.directories == frozenset()


def test_a_folder_swapped_for_a_symlink_mid_scan_is_not_followed(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    write(outside, "secret.txt", "s")
    root = tmp_path / "root"
    write(root, "sub/mine.txt", "m")
    real_open = os.open

    def swap_then_open(path, flags, *args, **kwargs):
        if flags & os.O_DIRECTORY and os.fspath(path).endswith("/sub"):
            (root / "sub" / "mine.txt").unlink()
            (root / "sub").rmdir()
            (root / "sub").symlink_to(outside)  # after its lstat said "directory"
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(workdir_manifest.os, "open", swap_then_open)
    manifest = scan(root)
    assert "sub/secret.txt" not in manifest.entries


def test_deep_trees_scan_without_recursion(tmp_path):
    deep = tmp_path.joinpath(*["d"] * 150)
    deep.mkdir(parents=True)
    write(deep, "leaf.txt", "x")
    depth = len(inspect.stack(0))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 60)  # a recursive walk 150 deep would hit this
    try:
        manifest = scan(tmp_path)
    finally:
        sys.setrecursionlimit(limit)
    assert "/".join(["d"] * 150) + "/leaf.txt" in manifest.entries
    assert len(manifest.directories) == 150


def test_a_missing_root_scans_as_empty(tmp_path):
    manifest = scan(tmp_path / "gone")
    assert len(manifest) == 0 and manifest.directories == frozenset()


def test_added_modified_and_deleted_files_are_told_apart(tmp_path):
    write(tmp_path, "keep.txt", "same")
    write(tmp_path, "edit.txt", "short")
    write(tmp_path, "drop.txt", "bye")
    before = scan(tmp_path)
    write(tmp_path, "edit.txt", "much longer now")
    (tmp_path / "drop.txt").unlink()
    write(tmp_path, "sub/new.txt", "new!")

    changes = compare(before, scan(tmp_path, before))

    assert changes.changes == (
        FileChange("drop.txt", ChangeKind.DELETED, 3, None),
        FileChange("edit.txt", ChangeKind.MODIFIED, 5, 15),
        FileChange("sub/new.txt", ChangeKind.ADDED, None, 4),
    )
    assert [c.path for c in changes.added] == ["sub/new.txt"]
    assert [c.path for c in changes.modified] == ["edit.txt"]
    assert [c.path for c in changes.deleted] == ["drop.txt"]
    assert changes.summary() == "1 added, 1 modified, 1 deleted (+11 B)"


def test_same_size_rewrite_with_the_same_mtime_is_caught_by_the_digest(tmp_path):
    path = write(tmp_path, "data.csv", "a,b\n1,2\n")
    before = scan(tmp_path)
    rewrite_in_place_keeping_mtime(path, b"a,b\n9,9\n")

    changes = compare(before, scan(tmp_path))

    assert [(c.path, c.kind) for c in changes.changes] == [("data.csv", "modified")]


def test_same_stat_rewrite_is_caught_even_with_a_previous_manifest(tmp_path):
    path = write(tmp_path, "data.csv", "a,b\n1,2\n")
    time.sleep(SETTLE)
    before = scan(tmp_path)
    time.sleep(SETTLE)
    rewrite_in_place_keeping_mtime(path, b"a,b\n9,9\n")  # only the ctime moves

    after = scan(tmp_path, before)

    assert after.entries["data.csv"].digest == digest_bytes(b"a,b\n9,9\n")
    assert [c.kind for c in compare(before, after).changes] == ["modified"]


def test_unchanged_files_reuse_their_digest_without_being_opened(tmp_path, opened):
    for i in range(20):
        write(tmp_path, f"d{i % 3}/f{i}.txt", f"content {i}")
    time.sleep(SETTLE)
    first = scan(tmp_path)
    assert len(opened) == 20
    opened.clear()
    write(tmp_path, "d0/f0.txt", "changed content")
    write(tmp_path, "added.txt", "added")

    second = scan(tmp_path, first)

    assert sorted(Path(p).name for p in opened) == ["added.txt", "f0.txt"]
    assert second.entries["d1/f1.txt"] is first.entries["d1/f1.txt"]
    assert second.entries["d0/f0.txt"].digest == digest_bytes(b"changed content")


def test_files_written_just_before_a_scan_are_hashed_again_next_time(tmp_path, opened):
    # Within a clock tick of the scan, a rewrite could keep the very same stat.
    for _attempt in range(20):  # a busy machine may pause between the write and the scan
        path = write(tmp_path, "fresh.txt", "x")
        first = scan(tmp_path)
        if first.scanned_ns - path.stat().st_ctime_ns < 40_000_000:
            break
    opened.clear()
    scan(tmp_path, first)
    assert opened == ["fresh.txt"]


def test_touch_alone_is_not_a_modification_but_the_exec_bit_is(tmp_path):
    path = write(tmp_path, "run.sh", "echo hi\n")
    before = scan(tmp_path)
    os.utime(path, ns=(1, 1_000_000_000))
    assert compare(before, scan(tmp_path)).is_empty
    path.chmod(0o755)
    assert [c.kind for c in compare(before, scan(tmp_path)).changes] == ["modified"]


def test_symlink_retarget_and_type_change_are_modifications(tmp_path):
    (tmp_path / "link").symlink_to("a.txt")
    write(tmp_path, "thing", "file")
    before = scan(tmp_path)
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("b.txt")
    (tmp_path / "thing").unlink()
    (tmp_path / "thing").symlink_to("elsewhere")

    changes = compare(before, scan(tmp_path))

    assert [(c.path, c.kind) for c in changes.changes] == [("link", "modified"), ("thing", "modified")]


def test_a_recreated_symlink_with_the_same_target_is_no_change(tmp_path):
    (tmp_path / "link").symlink_to("a.txt")
    before = scan(tmp_path)
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("a.txt")
    assert compare(before, scan(tmp_path)).is_empty


def test_big_files_without_digest_compare_by_size_then_mtime(tmp_path):
    path = write(tmp_path, "big.bin", b"a" * (SMALL_FILE_BYTES + 10))
    before = scan(tmp_path)
    os.utime(path, ns=(1, before.entries["big.bin"].mtime_ns + 1_000_000))
    assert [c.kind for c in compare(before, scan(tmp_path)).changes] == ["modified"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_recorded_without_digest(tmp_path):
    path = write(tmp_path, "locked.txt", "secret")
    path.chmod(0)
    try:
        manifest = scan(tmp_path)
    finally:
        path.chmod(0o644)
    assert manifest.entries["locked.txt"].digest is None
    assert manifest.entries["locked.txt"].size == 6


def test_permission_denied_on_open_records_the_file_without_digest(tmp_path, monkeypatch):
    write(tmp_path, "locked.txt", "secret")
    write(tmp_path, "fine.txt", "ok")

    def deny(name, _fd):
        if name.endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", name)

    on_file_open(monkeypatch, deny)
    manifest = scan(tmp_path)
    assert manifest.entries["locked.txt"].digest is None
    assert manifest.entries["fine.txt"].digest == digest_bytes(b"ok")


def test_files_vanishing_during_the_scan_are_left_out_without_error(tmp_path, monkeypatch):
    for name in ("a.txt", "b.txt", "c.txt"):
        write(tmp_path, f"sub/{name}", name)
    real_scandir = os.scandir

    def scandir_then_delete(path):
        with real_scandir(path) as listing:
            listed = list(listing)
        if "b.txt" in [item.name for item in listed]:
            (tmp_path / "sub" / "b.txt").unlink()  # listed, then gone before its lstat
        return contextlib.nullcontext(iter(listed))

    monkeypatch.setattr(workdir_manifest.os, "scandir", scandir_then_delete)
    manifest = scan(tmp_path)
    assert set(manifest.entries) == {"sub/a.txt", "sub/c.txt"}


def test_a_file_removed_between_lstat_and_hash_gets_no_digest(tmp_path, monkeypatch):
    write(tmp_path, "a.txt", "a")
    on_file_open(monkeypatch, lambda name, fd: os.unlink(name, dir_fd=fd))
    assert scan(tmp_path).entries["a.txt"].digest is None


def test_a_file_growing_while_hashed_gets_no_digest_rather_than_a_wrong_one(tmp_path, monkeypatch):
    path = write(tmp_path, "log.txt", "line 1\n")

    def append(_name, _fd):
        with open(path, "ab") as handle:
            handle.write(b"line 2\n")

    on_file_open(monkeypatch, append)
    entry = scan(tmp_path).entries["log.txt"]
    assert (entry.size, entry.digest) == (7, None)


def test_fifos_are_left_out_instead_of_blocking_the_scan(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    write(tmp_path, "a.txt", "a")
    assert set(scan(tmp_path).entries) == {"a.txt"}


def test_manifest_and_changeset_survive_a_json_round_trip(tmp_path):
    import json

    write(tmp_path, "x/y.txt", "y")
    (tmp_path / "link").symlink_to("x/y.txt")
    (tmp_path / "empty").mkdir()
    manifest = scan(tmp_path)
    assert Manifest.from_json(json.loads(json.dumps(manifest.to_json()))) == manifest
    changes = compare(Manifest({}, frozenset()), manifest)
    assert ChangeSet.from_json(json.loads(json.dumps(changes.to_json()))) == changes


@pytest.mark.parametrize("data", [
    {"version": 2, "entries": {}, "directories": []},
    {"version": 1, "entries": {"a": [1, 2]}, "directories": []},
    {"version": 1, "entries": {"a": ["1", 2, 3, 4, None, None, 0]}, "directories": []},
    {"version": 1, "entries": {}},
    ["not", "a", "dict"],
])
def test_malformed_manifest_json_is_a_value_error(data):
    with pytest.raises(ValueError):
        Manifest.from_json(data)


@pytest.mark.parametrize(("changes", "text"), [
    ((), "no changes"),
    ((FileChange("a", ChangeKind.ADDED, None, 3174),), "1 added (+3.1 KiB)"),
    ((FileChange("a", ChangeKind.DELETED, 512, None),
      FileChange("b", ChangeKind.MODIFIED, 10, 10)), "1 modified, 1 deleted (-512 B)"),
    ((FileChange("a", ChangeKind.MODIFIED, 4, 4),), "1 modified (±0 B)"),
])
def test_summary_counts_each_kind_and_the_net_size(changes, text):
    assert ChangeSet(changes).summary() == text
