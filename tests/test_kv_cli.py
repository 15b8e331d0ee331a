"""`roost kv list|get|set|delete`: the KV store from the command line, and what flows then read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.store.kv_store import KvStore


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROOST_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def roost_kv(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["kv", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_set_deduces_the_type_and_get_prints_the_value(home, capsys):
    assert roost_kv(capsys, "set", "company.team", "count", "42")[0] == 0
    assert roost_kv(capsys, "set", "company.team", "conf", '{"a": [1, 2]}')[0] == 0
    assert roost_kv(capsys, "set", "company.team", "word", "hello world")[0] == 0
    assert roost_kv(capsys, "get", "company.team", "count")[1] == "42\n"
    assert roost_kv(capsys, "get", "company.team", "conf")[1] == '{"a": [1, 2]}\n'
    assert roost_kv(capsys, "get", "company.team", "word")[1] == "hello world\n"
    store = KvStore(home / "history.db")
    try:
        assert [(e.key, e.type.value) for e in store.entries("company.team")] == [
            ("conf", "JSON"), ("count", "NUMBER"), ("word", "STRING")]
    finally:
        store.close()


def test_set_with_type_converts_and_with_ttl_expires(home, capsys):
    assert roost_kv(capsys, "set", "a", "n", "42", "--type", "string")[0] == 0
    assert roost_kv(capsys, "set", "a", "d", "P1D", "--type", "DURATION", "--ttl", "PT1H")[0] == 0
    code, out, _ = roost_kv(capsys, "get", "a", "n", "--json")
    entry = json.loads(out)
    assert code == 0 and entry["type"] == "STRING" and entry["value"] == "42"
    entry = json.loads(roost_kv(capsys, "get", "a", "d", "--json")[1])
    assert entry["type"] == "DURATION" and entry["value"] == "P1D" and entry["expirationDate"] is not None
    assert entry["namespace"] == "a" and entry["key"] == "d"


def test_list_shows_every_namespace_or_one_and_json_on_request(home, capsys):
    roost_kv(capsys, "set", "a", "k1", "v1")
    roost_kv(capsys, "set", "b", "k2", "true")
    code, out, _ = roost_kv(capsys, "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["NAMESPACE", "KEY", "TYPE", "EXPIRES", "VALUE"]
    assert [line.split()[:3] for line in lines[1:]] == [["a", "k1", "STRING"], ["b", "k2", "BOOLEAN"]]
    entries = json.loads(roost_kv(capsys, "list", "b", "--json")[1])
    assert [(e["key"], e["value"]) for e in entries] == [("k2", True)]


def test_list_of_an_empty_namespace_says_so(home, capsys):
    code, out, err = roost_kv(capsys, "list", "nothing")
    assert code == 0 and out == "" and "no KV entries in namespace 'nothing'" in err


def test_delete_removes_a_key_and_a_missing_key_exits_1(home, capsys):
    roost_kv(capsys, "set", "a", "k", "v")
    assert roost_kv(capsys, "delete", "a", "k")[0] == 0
    code, _, err = roost_kv(capsys, "delete", "a", "k")
    assert code == 1 and "no key 'k' in namespace 'a'" in err
    code, _, err = roost_kv(capsys, "get", "a", "k")
    assert code == 1 and "no key 'k' in namespace 'a'" in err


@pytest.mark.parametrize(("args", "message"), [
    (("set", "a", "bad key", "v"), "key 'bad key': Key must start with an alphanumeric character"),
    (("set", "Not.Valid", "k", "v"), "'Not.Valid' is not a namespace"),
    (("set", "a", "k", "v", "--type", "TEXT"), "unknown KV type 'TEXT'"),
    (("set", "a", "k", "abc", "--type", "NUMBER"), "'abc' is not a NUMBER"),
    (("set", "a", "k", "v", "--ttl", "1h"), "--ttl 1h:"),
    (("get", "a"), "the following arguments are required: key"),
])
def test_bad_input_exits_2_with_one_clear_line(home, capsys, args, message):
    code, _, err = roost_kv(capsys, *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_a_value_set_from_the_cli_is_what_a_flow_reads(home, tmp_path, capsys):
    assert roost_kv(capsys, "set", "company.team", "greeting", '{"text": "hi"}')[0] == 0
    flow = tmp_path / "reads.yml"
    flow.write_text("id: reads\nnamespace: company.team\ntasks:\n"
                    "  - id: say\n    type: io.kestra.plugin.core.debug.Return\n"
                    "    format: \"{{ kv('greeting').text }}\"\n"
                    "  - id: set\n    type: io.kestra.plugin.core.kv.Set\n    key: seen\n    value: yes\n")
    assert main(["run", str(flow), "--json"]) == 0
    runs = {r["taskId"]: r for r in json.loads(capsys.readouterr().out)["taskRunList"]}
    assert runs["say"]["outputs"] == {"value": "hi"}
    assert roost_kv(capsys, "get", "company.team", "seen") == (0, "yes\n", "")
