"""Bad input on the command line and a broken ROOST_HOME: one clear line, exit 2, no traceback."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO_ROOT
from tests.reliability.conftest import roost

CLI = pytest.mark.reliability("Bad input: command line, roost.toml, a damaged ROOST_HOME",
                              "exit 2 with one line naming the file, input or option; no traceback")

FLOW = """
id: inputs
namespace: reliability.cli
inputs:
  - id: size
    type: INT
  - id: when
    type: DATETIME
    required: false
  - id: data
    type: FILE
    required: false
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.size }}"
"""

# (arguments, a line the user must see); FLOW is at {flow}, a scratch folder at {dir}
USAGE_CASES = [
    (["run", "{flow}", "-i", "size=abc"], "{flow}: input 'size': 'abc' is not an integer"),
    (["run", "{flow}"], "{flow}: input 'size' is required and has no default"),
    (["run", "{flow}", "-i", "size=99999999999"],
     "{flow}: input 'size': '99999999999' is outside the INT range -2147483648 to 2147483647"),
    (["run", "{flow}", "-i", "size=1", "-i", "when=yesterday"],
     "{flow}: input 'when': 'yesterday' is not an ISO-8601 date-time such as 2024-01-31T10:15:30Z"),
    (["run", "{flow}", "-i", "size=1", "-i", "data={dir}/missing.csv"],
     "{flow}: input 'data': '{dir}/missing.csv' does not exist"),
    (["run", "{flow}", "-i", "size"], "roost: input 'size' must look like KEY=VALUE"),
    (["run", "{dir}/missing.yml"], "{dir}/missing.yml:1:1: file not found"),
    (["run", "{dir}"], "{dir}:1:1: this is a folder, not a flow file"),
    (["run", "{flow}", "-i", "size=1", "--trigger", "{dir}/missing.json"],
     "roost: --trigger {dir}/missing.json: No such file or directory"),
    (["run", "{flow}", "-i", "size=1", "--trigger", "{dir}/broken.json"],
     "roost: --trigger {dir}/broken.json:2:1: invalid JSON: Expecting property name enclosed in double quotes"),
    (["run", "{flow}", "-i", "size=1", "--namespace-files", "company"],
     "roost: --namespace-files 'company' must look like KEY=VALUE"),
    (["run", "{flow}", "--runner", "podman"], "roost: argument --runner: invalid choice: 'podman'"),
    (["execution", "NOPE"], "roost: no execution 'NOPE' in the history (see `roost executions`)"),
    (["storage", "get", "not-a-uri"], "roost: 'not-a-uri' is not an internal storage URI (kestra:///...)"),
    (["validate", "{dir}/missing.yml"], "{dir}/missing.yml:1:1: file not found"),
]


@CLI
@pytest.mark.parametrize(("args", "expected"), USAGE_CASES, ids=[" ".join(c[0][:1] + c[0][2:4]) for c in USAGE_CASES])
def test_bad_command_lines_exit_2_with_one_clear_line(args, expected, home, flows):
    (flows / "inputs.yml").write_text(FLOW)
    (flows / "broken.json").write_text("{\n")
    fill = {"flow": str(flows / "inputs.yml"), "dir": str(flows)}
    if args[0] == "execution":  # a history must exist for this one to be about the id
        roost("run", fill["flow"], "-i", "size=1", home=home)
    result = roost(*(a.format(**fill) for a in args), home=home)
    assert result.returncode == 2, result.stderr
    assert expected.format(**fill) in result.stderr, result.stderr
    if args[0] == "run":
        listed = roost("executions", "--json", home=home)
        assert json.loads(listed.stdout or "[]") == [], "a refused run left an execution behind"


@CLI
@pytest.mark.parametrize("name", ["yaml_tab_indentation", "task_unknown_type", "many_mistakes",
                                  "task_nested_too_deep", "not_utf8"])
def test_roost_run_refuses_a_broken_flow_like_validate(name, home):
    folder = REPO_ROOT / "tests" / "flows" / "invalid"
    result = roost("run", f"{name}.yml", home=home, cwd=folder)
    assert result.returncode == 2
    assert result.stderr.splitlines() == (folder / f"{name}.expected").read_text().splitlines()


@CLI
@pytest.mark.parametrize(("damage", "expected"), [
    ("garbage-db", "history.db: file is not a database; move it aside"),
    ("truncated-db", "history.db: database disk image is malformed; move it aside"),
    ("home-is-a-file", "exists and is not a folder"),
    ("workdirs-is-a-file", "workdirs exists and is not a folder"),
    ("toml-syntax", "roost.toml: Expected ']' at the end of a table declaration"),
    ("toml-types", "roost.toml: a setting has the wrong shape or type"),
])
def test_a_damaged_roost_home_or_config_is_named_not_a_traceback(damage, expected, tmp_path, flows):
    home = tmp_path / "home"
    flow = flows / "ok.yml"
    flow.write_text("id: ok\nnamespace: reliability.cli\ntasks:\n  - id: sh\n"
                    "    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['echo hi']\n")
    if damage == "garbage-db":
        home.mkdir()
        (home / "history.db").write_bytes(bytes(range(256)) * 20)
    elif damage == "truncated-db":
        assert roost("run", str(flow), home=home).returncode == 0
        with (home / "history.db").open("r+b") as db:
            db.truncate(3000)
    elif damage == "home-is-a-file":
        home.write_text("not a folder")
    elif damage == "workdirs-is-a-file":
        home.mkdir()
        (home / "workdirs").write_text("not a folder")
    elif damage == "toml-syntax":
        (flows / "roost.toml").write_text("[runner\n")
    elif damage == "toml-types":
        (flows / "roost.toml").write_text('[workdirs]\nkeep = "many"\n')
    result = roost("run", str(flow), home=home)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("roost: ")
    assert expected in result.stderr, result.stderr
    if damage.endswith("-db"):
        listed = roost("executions", home=home)
        assert listed.returncode == 2 and expected in listed.stderr
