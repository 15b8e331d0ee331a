"""The snapshot journal: one append-only file per execution, read back record by record."""

from __future__ import annotations

import json
from pathlib import Path

from engine.workdir.manifest import scan
from engine.workdir.snapshots import ExecutionSnapshots


def snapshots_in(tmp_path: Path) -> ExecutionSnapshots:
    return ExecutionSnapshots(tmp_path / "snapshots", "exec1", 1 << 30)


def journal(tmp_path: Path) -> Path:
    return tmp_path / "snapshots/exec1/journal.tsv"


def test_a_record_of_an_unchanged_directory_is_an_alias_that_restores_the_same_files(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_text("one")
    snaps = snapshots_in(tmp_path)
    manifest = scan(root)
    snaps.record("t1", root, manifest)

    snaps.record("t1.after", root, manifest)  # the same scan: nothing ran in between

    lines = journal(tmp_path).read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["S", "A"]
    assert lines[1] == "A\tt1.after\tt1"
    snaps.restore("t1.after", tmp_path / "restored")
    assert (tmp_path / "restored/a.txt").read_text() == "one"


def test_every_record_goes_to_one_journal_and_no_file_per_snapshot(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    snaps = snapshots_in(tmp_path)
    for step in range(5):
        (root / f"f{step}.txt").write_text(str(step))
        snaps.record(f"t{step}", root, scan(root))

    assert sorted(p.name for p in (tmp_path / "snapshots/exec1").iterdir()) == ["blobs", "journal.tsv", "tmp"]
    reader = ExecutionSnapshots.open_existing(tmp_path / "snapshots", "exec1")
    assert sorted(reader.manifest("t4").entries) == [f"f{i}.txt" for i in range(5)]


def test_a_torn_last_line_is_ignored_and_the_next_writer_cuts_it_off(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_text("one")
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", root, scan(root))
    snaps.close()
    with open(journal(tmp_path), "a", encoding="utf-8") as out:
        out.write('S\tt2\t{"version":1,"ba')  # a crash in the middle of a write

    assert not ExecutionSnapshots.open_existing(tmp_path / "snapshots", "exec1").has("t2")
    again = snapshots_in(tmp_path)
    (root / "b.txt").write_text("two")
    assert again.record("t3", root, scan(root)).stored

    reader = ExecutionSnapshots.open_existing(tmp_path / "snapshots", "exec1")
    assert reader.has("t1") and reader.has("t3") and not reader.has("t2")
    assert sorted(reader.manifest("t3").entries) == ["a.txt", "b.txt"]


def test_a_name_is_written_once_across_writers_of_one_execution(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    snapshots_in(tmp_path).record("t1", root, scan(root))
    (root / "late.txt").write_text("late")

    result = snapshots_in(tmp_path).record("t1", root, scan(root))

    assert not result.stored and "already recorded" in (result.reason or "")
    reader = ExecutionSnapshots.open_existing(tmp_path / "snapshots", "exec1")
    assert reader.manifest("t1").entries == {}


def test_snapshots_recorded_as_files_before_the_journal_are_still_read(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_text("old layout")
    snaps = snapshots_in(tmp_path)
    snaps.record("t1", root, scan(root))
    snaps.close()
    kind, name, data = journal(tmp_path).read_text().splitlines()[0].split("\t", 2)
    folder = tmp_path / "snapshots/exec1"
    (folder / "manifests").mkdir()
    (folder / "manifests" / f"{name}.json").write_text(data)
    (folder / "missing").mkdir()
    (folder / "missing/t2.txt").write_text("the snapshot cap was exceeded\n")
    journal(tmp_path).unlink()

    reader = ExecutionSnapshots.open_existing(tmp_path / "snapshots", "exec1")

    assert kind == "S" and reader.has("t1")
    assert reader.read("t1", "a.txt") == b"old layout"
    assert reader.missing_reason("t2") == "the snapshot cap was exceeded"
    assert json.loads(data)["base"] is None
