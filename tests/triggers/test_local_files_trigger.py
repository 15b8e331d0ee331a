"""io.kestra.plugin.fs.local.Trigger on real folders: watchfiles wakes it, polling backs it up."""

from __future__ import annotations

import time

from engine.store.storage import InternalStorage


def local_flow(folder, extra: str = "", interval: str = "PT1H") -> str:
    lines = "".join(f"\n    {line}" for line in extra.strip().splitlines())
    return f"""
id: files
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.files | jq('.[].name') | join(',') }}}}"
triggers:
  - id: watch
    type: io.kestra.plugin.fs.local.Trigger
    from: {folder}
    interval: {interval}{lines}
"""


def polls_done(harness) -> None:
    """The first poll and the follow-up one made once the watcher is up; the next is an hour away."""
    harness.wait_for(lambda: sum(line.startswith("INFO poll") for line in harness.logs()) >= 2,
                     what="the first two polls")


def drop_a_file(harness, tmp_path):
    """orders.csv written into the inbox of a running LocalFiles trigger, once its first polls
    are done: (the flow, the inbox, the one execution it started)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    flow = harness.engine.load(local_flow(inbox))
    harness.start(flow)
    polls_done(harness)
    (inbox / "orders.csv").write_text("id\n1\n")
    [execution] = harness.wait_executions(1)
    return flow, inbox, execution


def test_a_dropped_file_starts_an_execution_at_once_despite_an_hour_interval(harness, tmp_path):
    # the next poll is an hour away: only the watcher can start an execution within the wait
    _flow, inbox, execution = drop_a_file(harness, tmp_path)
    [found] = execution.trigger["files"]
    assert found["name"] == "orders.csv" and found["localPath"] == str(inbox / "orders.csv")
    assert found["size"] == 5 and found["directory"] is False and found["changeType"] == "CREATE"
    assert found["uri"] == f"kestra:///company/team/files/executions/{execution.id}/trigger/watch/orders.csv"
    assert InternalStorage(harness.engine.home.storage).read_bytes(found["uri"]) == b"id\n1\n"
    time.sleep(0.5)
    (inbox / "orders.csv").write_text("id\n1\n2\n")  # changed: fires again, as an UPDATE
    executions = harness.wait_executions(2)
    assert executions[1].trigger["files"][0]["changeType"] == "UPDATE"


def test_move_takes_matching_names_only_and_reports_where_they_went(harness, tmp_path):
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    (inbox / "a.csv").write_text("a")
    (inbox / "notes.txt").write_text("n")
    (inbox / "b.csv.part").write_text("b")
    flow = harness.engine.load(local_flow(inbox, f'regExp: ".*\\\\.csv"\naction: MOVE\nmoveDirectory: {archive}',
                                          interval="PT0.3S"))
    harness.start(flow)
    [execution] = harness.wait_executions(1)
    [found] = execution.trigger["files"]
    assert found["name"] == "a.csv" and found["localPath"] == str(archive / "a.csv")
    assert sorted(p.name for p in inbox.iterdir()) == ["b.csv.part", "notes.txt"]
    assert (archive / "a.csv").read_text() == "a"


def test_delete_and_recursive_take_files_of_sub_folders(harness, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "2024" / "01").mkdir(parents=True)
    (inbox / "top.txt").write_text("t")
    (inbox / "2024" / "01" / "deep.txt").write_text("d")
    flow = harness.engine.load(local_flow(inbox, "recursive: true\naction: DELETE", interval="PT0.3S"))
    harness.start(flow)
    [execution] = harness.wait_executions(1)
    assert sorted(f["name"] for f in execution.trigger["files"]) == ["deep.txt", "top.txt"]
    assert [p for p in inbox.rglob("*") if p.is_file()] == []


def test_a_missing_folder_fails_each_poll_until_it_exists(harness, tmp_path):
    inbox = tmp_path / "later"
    flow = harness.engine.load(local_flow(inbox, interval="PT0.3S"))
    harness.start(flow)
    harness.wait_for(lambda: len(harness.logs("ERROR")) >= 2, what="two failed polls")
    assert "does not exist" in harness.logs("ERROR")[0]
    inbox.mkdir()
    (inbox / "x.txt").write_text("x")
    [execution] = harness.wait_executions(1)
    assert execution.trigger["files"][0]["name"] == "x.txt"


def test_allowed_paths_refuse_a_folder_outside_them(harness, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    flow = harness.engine.load(local_flow(inbox, f"allowedPaths:\n  - {tmp_path / 'elsewhere'}",
                                          interval="PT0.3S"))
    harness.start(flow)
    harness.wait_for(lambda: bool(harness.logs("ERROR")), what="a refused poll")
    assert "not within allowedPaths" in harness.logs("ERROR")[0]
