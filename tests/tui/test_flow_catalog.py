"""The flow catalog: discovery, last good flow on errors, reload kinds."""

from __future__ import annotations

from pathlib import Path

from tui.models.flow_catalog import FlowCatalog, ReloadKind, is_flow_file

GOOD = "id: a\nnamespace: t.ns\ntasks:\n  - id: x\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"


def test_scan_finds_flows_but_not_namespace_files_or_hidden_folders(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "namespaces" / "t.ns").mkdir(parents=True)
    (tmp_path / "namespaces" / "t.ns" / "conf.yml").write_text("x: 1\n")
    (tmp_path / ".roost").mkdir()
    (tmp_path / ".roost" / "b.yml").write_text(GOOD)
    catalog = FlowCatalog(tmp_path)
    entries = catalog.scan()
    assert [e.path.name for e in entries] == ["a.yml"]
    assert entries[0].key == "t.ns.a" and entries[0].valid
    assert not is_flow_file(tmp_path, tmp_path / "namespaces" / "t.ns" / "conf.yml")
    assert is_flow_file(tmp_path, tmp_path / "sub" / "c.yaml")


def test_an_invalid_version_keeps_the_last_good_flow(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text(GOOD)
    catalog = FlowCatalog(tmp_path)
    catalog.scan()
    path.write_text(GOOD.replace("core.log.Log", "core.log.Logg"))
    result = catalog.reload(path)
    assert result.kind is ReloadKind.CHANGED
    entry = result.entry
    assert entry.stale and entry.flow is not None and entry.flow.find_task("x") is not None
    assert entry.errors[0].line == 5
    assert catalog.reload(path).kind is ReloadKind.UNCHANGED
    path.unlink()
    assert catalog.reload(path).kind is ReloadKind.DELETED


def test_a_file_that_never_parsed_is_listed_by_its_declared_id(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("id: bad_one\nnamespace: t.ns\ntasks: [\n")
    entry = FlowCatalog(tmp_path).scan()[0]
    assert entry.flow is None and entry.errors
    assert (entry.namespace, entry.flow_id) == ("t.ns", "bad_one")


def test_scan_first_only_parses_the_first_flow_and_load_rest_the_others(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(GOOD.replace("id: a", "id: b"))
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "c.yml").write_text(GOOD.replace("id: a", "id: c").replace("core.log.Log", "core.log.Logg"))
    catalog = FlowCatalog(tmp_path)
    entries = catalog.scan(first_only=True)
    assert [e.flow_id for e in entries] == ["a", "b", "c"]  # listed by what they declare
    assert [e.flow is not None for e in entries] == [True, False, False]
    assert catalog.load_rest(1, prefer=tmp_path / "c.yml")  # the one selected first
    assert catalog.unparsed(tmp_path / "b.yml") and not catalog.unparsed(tmp_path / "c.yml")
    entries = catalog.sorted_entries()
    assert entries[2].flow is None and entries[2].errors  # the one that does not load says so
    assert not catalog.load_rest()
    assert catalog.sorted_entries()[1].flow is not None
