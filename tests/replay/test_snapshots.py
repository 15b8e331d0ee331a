"""ExecutionSnapshots: a restore gives back the directory exactly as it was recorded."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from engine.workdir import snapshots as snapshots_module
from engine.workdir.manifest import SMALL_FILE_BYTES, Manifest, scan
from engine.workdir.snapshots import ExecutionSnapshots, SnapshotError, prune_snapshots

MiB = 1 << 20


JOURNAL = "snapshots/exec1/journal.tsv"


def stored_record(tmp_path: Path, name: str) -> dict:
    """The JSON of `name`'s stored record in the execution's snapshot journal."""
    for line in (tmp_path / JOURNAL).read_text().splitlines():
        kind, key, rest = line.split("\t", 2)
        if (kind, key) == ("S", name):
            return json.loads(rest)
    raise KeyError(name)


def rewrite_record(tmp_path: Path, name: str, data: dict) -> None:
    """Tamper with the journal: `name`'s stored record replaced by `data`."""
    path = tmp_path / JOURNAL
    lines = [f"S\t{name}\t{json.dumps(data)}" if line.startswith(f"S\t{name}\t") else line
             for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


def write(root: Path, relative: str, data: bytes | str, mode: int | None = None,
          mtime_ns: int | None = None) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        path.chmod(mode)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def tree_state(root: Path) -> dict[str, tuple]:
    """Everything a restore promises, per relative path: type, bytes or link target,
    permission bits and (for files) mtime_ns; directories by name only."""
    state: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if os.path.islink(full):
                state[rel] = ("link", os.readlink(full))
            elif os.path.isdir(full):
                state[rel] = ("dir",)
            else:
                with open(full, "rb") as handle:
                    state[rel] = ("file", handle.read(), st.st_mode & 0o7777, st.st_mtime_ns)
    return state


@pytest.fixture()
def workdir(tmp_path) -> Path:
    root = tmp_path / "work"
    write(root, "data.csv", "id,value\n1,10\n2,20\n", mtime_ns=1_600_000_000_123_456_789)
    write(root, "bin/run.sh", "#!/bin/sh\necho hi\n", mode=0o750)
    write(root, "secret.key", "k" * 40, mode=0o600)
    write(root, "nested/deep/blob.bin", bytes(range(256)) * 8)
    (root / "empty" / "inner").mkdir(parents=True)
    (root / "current").symlink_to("data.csv")
    (root / "python").symlink_to("/usr/bin/python3")
    return root


def snapshots_in(tmp_path: Path, cap: int = 64 * MiB) -> ExecutionSnapshots:
    return ExecutionSnapshots(tmp_path / "snapshots", "exec1", cap)


def test_restore_recreates_files_modes_mtimes_symlinks_and_empty_dirs(tmp_path, workdir):
    snaps = snapshots_in(tmp_path)
    original = tree_state(workdir)

    result = snaps.record("before_task2", workdir, scan(workdir))
    snaps.restore("before_task2", tmp_path / "restored")

    assert result.stored and result.reason is None and result.bytes_added > 0
    assert tree_state(tmp_path / "restored") == original
    assert original["bin/run.sh"][2] == 0o750 and original["empty/inner"] == ("dir",)


def test_a_file_rewritten_in_place_after_the_snapshot_restores_as_it_was(tmp_path, workdir):
    snaps = snapshots_in(tmp_path)
    original = tree_state(workdir)
    snaps.record("t1", workdir, scan(workdir))

    data = workdir / "data.csv"
    before = data.stat()
    with open(data, "r+b") as handle:  # same inode: a hard-linked "snapshot" would change too
        handle.write(b"ID,VALUE\n9,99\n8,88\n")
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    (workdir / "bin/run.sh").chmod(0o700)
    (workdir / "nested/deep/blob.bin").unlink()
    write(workdir, "new.txt", "new")

    snaps.restore("t1", tmp_path / "restored")

    assert tree_state(tmp_path / "restored") == original
    assert (tmp_path / "restored/data.csv").read_bytes() == b"id,value\n1,10\n2,20\n"


def test_two_snapshots_of_the_same_content_store_it_once(tmp_path, workdir):
    snaps = snapshots_in(tmp_path)
    first = snaps.record("t1", workdir, scan(workdir))
    second = snaps.record("t2", workdir, scan(workdir))
    assert first.bytes_added == 18 + 19 + 40 + 2048
    assert second.stored and second.bytes_added == 0
    blobs = [p for p in (tmp_path / "snapshots/exec1/blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 4


def test_a_renamed_or_duplicated_file_is_not_copied_again(tmp_path, workdir, monkeypatch):
    snaps = snapshots_in(tmp_path)
    first = scan(workdir)
    snaps.record("t1", workdir, first)
    (workdir / "data.csv").rename(workdir / "renamed.csv")
    write(workdir, "elsewhere/run-copy.sh", (workdir / "bin/run.sh").read_bytes())
    copies: list[int] = []
    real = snapshots_module.copy_hashing
    monkeypatch.setattr(snapshots_module, "copy_hashing",
                        lambda src, tmp, size: copies.append(size) or real(src, tmp, size))

    result = snaps.record("t2", workdir, scan(workdir, first))

    assert (result.bytes_added, copies) == (0, [])
    assert snaps.read("t2", "renamed.csv") == b"id,value\n1,10\n2,20\n"
    assert snaps.read("t2", "elsewhere/run-copy.sh") == b"#!/bin/sh\necho hi\n"


def test_identical_files_share_one_blob(tmp_path):
    root = tmp_path / "work"
    for i in range(3):
        write(root, f"copy{i}.txt", "same bytes")
    result = snapshots_in(tmp_path).record("t1", root, scan(root))
    assert result.bytes_added == len("same bytes")


def test_incremental_snapshot_copies_only_changed_files(tmp_path, workdir, monkeypatch):
    snaps = snapshots_in(tmp_path)
    first_manifest = scan(workdir)
    snaps.record("t1", workdir, first_manifest)
    write(workdir, "data.csv", "id,value\n1,11\n")
    copied: list[str] = []
    real_copy = snaps._copy_file

    def counting_copy(directory, entry, added):
        copied.append(entry.path)
        return real_copy(directory, entry, added)

    monkeypatch.setattr(snaps, "_copy_file", counting_copy)
    result = snaps.record("t2", workdir, scan(workdir, first_manifest))

    assert copied == ["data.csv"]
    assert result.bytes_added == len("id,value\n1,11\n")
    snaps.restore("t2", tmp_path / "r2")
    assert (tmp_path / "r2/data.csv").read_text() == "id,value\n1,11\n"
    snaps.restore("t1", tmp_path / "r1")
    assert (tmp_path / "r1/data.csv").read_text() == "id,value\n1,10\n2,20\n"


def test_delta_manifests_resolve_to_the_full_state_and_stay_small(tmp_path):
    root = tmp_path / "work"
    for i in range(50):
        write(root, f"f{i}.txt", f"file {i}")
    snaps = snapshots_in(tmp_path)
    states = []
    for step in range(20):  # longer than the delta chain limit
        write(root, f"f{step}.txt", f"changed at {step}")
        (root / f"f{step + 25}.txt").unlink(missing_ok=True)
        (root / f"dir{step}").mkdir()
        snaps.record(f"t{step}", root, scan(root))
        states.append(tree_state(root))
    assert stored_record(tmp_path, "t1")["base"] == "t0"
    assert len(json.dumps(stored_record(tmp_path, "t1"))) < len(json.dumps(stored_record(tmp_path, "t0"))) / 4
    for step in (0, 7, 15, 16, 19):
        snaps.restore(f"t{step}", tmp_path / f"r{step}")
        assert tree_state(tmp_path / f"r{step}") == states[step]


def test_big_files_are_hashed_while_copied_and_not_copied_again_when_unchanged(tmp_path, monkeypatch):
    root = tmp_path / "work"
    big = write(root, "big.bin", os.urandom(SMALL_FILE_BYTES + 4096))
    time.sleep(0.06)  # older than the racy window, so its stat vouches for it next time
    snaps = snapshots_in(tmp_path)
    manifest = scan(root)
    assert manifest.entries["big.bin"].digest is None
    first = snaps.record("t1", root, manifest)
    copies: list[int] = []
    real = snapshots_module.copy_hashing
    monkeypatch.setattr(snapshots_module, "copy_hashing",
                        lambda src, tmp, size: copies.append(size) or real(src, tmp, size))

    second = snaps.record("t2", root, scan(root))  # a fresh scan: only the stat cache knows it

    assert first.bytes_added == SMALL_FILE_BYTES + 4096
    assert (second.bytes_added, copies) == (0, [])
    assert snaps.read("t2", "big.bin") == big.read_bytes()
    assert snaps.manifest("t2").entries["big.bin"].digest is not None


def test_cap_exceeded_stores_nothing_and_tells_why(tmp_path):
    root = tmp_path / "work"
    write(root, "small.txt", "x" * 1000)
    snaps = snapshots_in(tmp_path, cap=1500)
    assert snaps.record("t1", root, scan(root)).stored
    write(root, "more.txt", "y" * 1000)

    result = snaps.record("t2", root, scan(root))

    assert not result.stored and result.bytes_added == 0
    assert "snapshot cap of 1.5 KiB (roost.toml [replay] snapshotCapMB) would be exceeded" in result.reason
    assert "2 KiB needed" in result.reason
    assert not snaps.has("t2")
    assert snaps.missing_reason("t2") == result.reason
    assert snaps.missing_reason("t1") is None
    assert snaps.missing_reason("never") == "no snapshot was recorded"
    with pytest.raises(SnapshotError, match="snapshot cap"):
        snaps.restore("t2", tmp_path / "restored")


def test_a_file_growing_past_the_cap_while_copied_leaves_no_blob_counted(tmp_path, monkeypatch):
    root = tmp_path / "work"
    write(root, "a.txt", "a" * 100)
    grows = write(root, "grows.txt", "b" * 100)
    scanned = scan(root)
    # a.txt is copied first, then grows.txt turns out too big: a.txt's blob must go too.
    manifest = Manifest({p: scanned.entries[p] for p in ("a.txt", "grows.txt")}, frozenset(),
                        scanned.scanned_ns)
    grows.write_bytes(b"b" * 5000)  # after the scan: the plan fits, the copy does not
    snaps = snapshots_in(tmp_path, cap=1000)

    result = snaps.record("t1", root, manifest)

    assert not result.stored
    assert snaps._used == 0
    assert not [p for p in (tmp_path / "snapshots/exec1/blobs").rglob("*") if p.is_file()]
    assert not any((tmp_path / "snapshots/exec1/tmp").iterdir())
    write(root, "grows.txt", "b" * 100)
    assert snaps.record("t2", root, scan(root)).bytes_added == 200


def test_zero_cap_disables_snapshots_with_a_reason(tmp_path, workdir):
    snaps = snapshots_in(tmp_path, cap=0)
    result = snaps.record("t1", workdir, scan(workdir))
    assert not result.stored and "snapshots are off" in result.reason
    assert snaps.missing_reason("t1") == result.reason


@pytest.mark.parametrize("bad_path", ["../escaped.txt", "{tmp}/out/abs.txt", "a/../../x", "a//b", "./a"])
def test_a_tampered_manifest_cannot_write_outside_the_target(tmp_path, bad_path):
    bad_path = bad_path.format(tmp=tmp_path)
    (tmp_path / "out").mkdir()
    root = tmp_path / "work"
    write(root, "ok.txt", "fine")
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", root, scan(root))
    data = stored_record(tmp_path, "t1")
    data["entries"][bad_path] = data["entries"].pop("ok.txt")
    rewrite_record(tmp_path, "t1", data)

    with pytest.raises(SnapshotError, match="not a path inside"):
        snaps.restore("t1", tmp_path / "out" / "restored")

    assert list((tmp_path / "out").iterdir()) == []


def test_a_tampered_blob_key_cannot_read_outside_the_store(tmp_path):
    root = tmp_path / "work"
    write(root, "ok.txt", "fine")
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", root, scan(root))
    data = stored_record(tmp_path, "t1")
    data["entries"]["ok.txt"][4] = "../../../../etc/passwd"
    rewrite_record(tmp_path, "t1", data)
    with pytest.raises(SnapshotError, match="no valid content key"):
        snaps.restore("t1", tmp_path / "restored")


def test_a_symlink_in_the_manifest_cannot_redirect_a_restored_file(tmp_path):
    root = tmp_path / "work"
    write(root, "sub/file.txt", "inside")
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", root, scan(root))
    data = stored_record(tmp_path, "t1")
    outside = tmp_path / "outside"
    outside.mkdir()
    link = [len(str(outside)), 0, 1, 0o120777, None, str(outside), 0]
    data["entries"] = {"sub": link, **data["entries"]}  # the link comes first
    data["directories"] = []
    rewrite_record(tmp_path, "t1", data)

    with pytest.raises(SnapshotError):
        snaps.restore("t1", tmp_path / "restored")
    assert list(outside.iterdir()) == []


def test_restore_refuses_a_non_empty_target_and_a_missing_snapshot(tmp_path, workdir):
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", workdir, scan(workdir))
    occupied = tmp_path / "occupied"
    write(occupied, "keep.txt", "mine")
    with pytest.raises(SnapshotError, match="empty directory"):
        snaps.restore("t1", occupied)
    assert (occupied / "keep.txt").read_text() == "mine"
    with pytest.raises(SnapshotError, match="no snapshot t9.*no snapshot was recorded"):
        snaps.restore("t9", tmp_path / "x")
    empty = tmp_path / "empty_target"
    empty.mkdir()
    snaps.restore("t1", empty)
    assert (empty / "data.csv").is_file()


def test_read_gives_a_files_bytes_as_in_that_snapshot(tmp_path, workdir):
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", workdir, scan(workdir))
    write(workdir, "data.csv", "rewritten")
    snaps.record("t2", workdir, scan(workdir))
    assert snaps.read("t1", "data.csv") == b"id,value\n1,10\n2,20\n"
    assert snaps.read("t2", "data.csv") == b"rewritten"
    assert snaps.read("t1", "absent.txt") is None
    assert snaps.read("t1", "current") is None  # a symlink has no bytes of its own
    assert snaps.read("t9", "data.csv") is None


def test_an_unreadable_file_refuses_the_snapshot_instead_of_storing_it_incomplete(tmp_path, monkeypatch):
    root = tmp_path / "work"
    write(root, "locked.txt", "secret")
    manifest = scan(root)
    real_open = os.open

    def denying_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(snapshots_module.os, "open", denying_open)
    result = snapshots_in(tmp_path).record("t1", root, manifest)
    assert not result.stored and "locked.txt cannot be read (Permission denied)" in result.reason


def test_a_file_deleted_between_scan_and_record_is_left_out(tmp_path):
    root = tmp_path / "work"
    write(root, "stays.txt", "s")
    write(root, "goes.txt", "g")
    manifest = scan(root)
    (root / "goes.txt").unlink()
    snaps = snapshots_in(tmp_path)
    assert snaps.record("t1", root, manifest).stored
    assert set(snaps.manifest("t1").entries) == {"stays.txt"}


def test_names_are_write_once_and_must_be_plain(tmp_path, workdir):
    snaps = snapshots_in(tmp_path)
    assert snaps.record("t1", workdir, scan(workdir)).stored
    write(workdir, "data.csv", "later")
    again = snaps.record("t1", workdir, scan(workdir))
    assert not again.stored and "already recorded" in again.reason
    assert snaps.read("t1", "data.csv") == b"id,value\n1,10\n2,20\n"
    for bad in ("../up", "a/b", ".hidden", ""):
        with pytest.raises(SnapshotError):
            snaps.record(bad, workdir, scan(workdir))


def test_parallel_records_of_different_directories_all_restore(tmp_path):
    snaps = snapshots_in(tmp_path)
    roots = []
    for i in range(6):
        root = tmp_path / f"work{i}"
        for j in range(30):
            write(root, f"f{j}.txt", f"dir {i} file {j % 10}")
        roots.append(root)
    results = {}

    def record(i):
        results[i] = snaps.record(f"t{i}", roots[i], scan(roots[i]))

    threads = [threading.Thread(target=record, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.stored for r in results.values())
    assert sum(r.bytes_added for r in results.values()) == snaps._used
    for i, root in enumerate(roots):
        snaps.restore(f"t{i}", tmp_path / f"r{i}")
        assert tree_state(tmp_path / f"r{i}") == tree_state(root)


def test_open_existing_reads_what_an_earlier_process_recorded(tmp_path, workdir):
    snapshots_in(tmp_path).record("t1", workdir, scan(workdir))
    reader = ExecutionSnapshots.open_existing(tmp_path / "snapshots", "exec1")
    assert reader.has("t1")
    assert isinstance(reader.manifest("t1"), Manifest)
    reader.restore("t1", tmp_path / "restored")
    assert tree_state(tmp_path / "restored") == tree_state(workdir)
    with pytest.raises(SnapshotError, match="read-only"):
        reader.record("t2", workdir, scan(workdir))


def test_a_reopened_writer_keeps_counting_toward_the_cap(tmp_path):
    root = tmp_path / "work"
    write(root, "a.txt", "a" * 800)
    snapshots_in(tmp_path, cap=1000).record("t1", root, scan(root))
    write(root, "b.txt", "b" * 800)
    result = snapshots_in(tmp_path, cap=1000).record("t2", root, scan(root))
    assert not result.stored and "800 B already stored" in result.reason


def test_prune_removes_executions_not_kept(tmp_path, workdir):
    root = tmp_path / "snapshots"
    for execution in ("old1", "old2", "keep"):
        ExecutionSnapshots(root, execution, MiB).record("t1", workdir, scan(workdir))
    (root / "stray.txt").write_text("not an execution")
    assert prune_snapshots(root, ["keep"]) == 2
    assert sorted(p.name for p in root.iterdir()) == ["keep", "stray.txt"]
    assert prune_snapshots(tmp_path / "nowhere", []) == 0


def test_a_symlink_below_another_symlink_is_refused(tmp_path):
    root = tmp_path / "work"
    write(root, "ok.txt", "fine")
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", root, scan(root))
    data = stored_record(tmp_path, "t1")
    outside = tmp_path / "outside"
    outside.mkdir()
    data["entries"]["a"] = [1, 0, 1, 0o120777, None, str(outside), 0]
    data["entries"]["a/planted"] = [1, 0, 2, 0o120777, None, "/etc/passwd", 0]
    rewrite_record(tmp_path, "t1", data)

    with pytest.raises(SnapshotError, match="below a symlink"):
        snaps.restore("t1", tmp_path / "restored")
    assert list(outside.iterdir()) == []


def test_a_delta_chain_that_loops_is_reported_as_damage(tmp_path):
    root = tmp_path / "work"
    write(root, "ok.txt", "fine")
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", root, scan(root))
    data = stored_record(tmp_path, "t1")
    rewrite_record(tmp_path, "t1", {**data, "base": "t1"})
    with pytest.raises(SnapshotError, match="damaged: its manifests form a loop"):
        snaps.manifest("t1")
