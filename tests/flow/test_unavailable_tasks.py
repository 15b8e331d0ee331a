"""Flows using plugins Roost does not implement still open: their tasks load "unavailable".

A core type that does not exist, or a near miss of a known type, is still refused with
suggestions; `roost validate` says once per type that such tasks need a mock.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.core.errors import InvalidFlowError
from engine.flow.loader import load_flow, load_flow_text
from engine.flow.unavailable_types import unavailable_notices
from engine.tasks.unavailable import UnavailableTask

KESTRA_INVALID_TASK = Path("/tmp/kv/core/src/test/resources/flows/invalids/invalid-task.yaml")


def flow_of(tasks: str, extra: str = "") -> str:
    return textwrap.dedent("""\
        id: plugins
        namespace: company.team
        tasks:
        """) + textwrap.indent(textwrap.dedent(tasks), "  ") + textwrap.dedent(extra)


SLACK = """\
- id: notify
  type: io.kestra.plugin.slack.SlackIncomingWebhook
  url: https://hooks.slack.com/services/x
  payload: '{"text": "hi"}'
  allowFailure: true
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(InvalidFlowError) as raised:
        load_flow_text(text, "f.yml")
    return [str(error) for error in raised.value.errors]


def test_an_unknown_plugin_task_loads_as_unavailable_keeping_its_type_and_raw_properties():
    flow = load_flow_text(flow_of(SLACK), "f.yml")
    task = flow.tasks[0]
    assert isinstance(task, UnavailableTask)
    assert task.type == "io.kestra.plugin.slack.SlackIncomingWebhook"
    assert task.canonical_type == "io.kestra.plugin.slack.SlackIncomingWebhook"
    assert task.properties == {"url": "https://hooks.slack.com/services/x", "payload": '{"text": "hi"}'}
    assert task.allow_failure is True  # the properties every task has are still read


def test_common_properties_of_an_unavailable_task_are_still_checked():
    errors = errors_of(flow_of(SLACK.replace("allowFailure: true", "timeout: soon")))
    assert len(errors) == 1 and "task 'notify': 'timeout' must be an ISO-8601 duration" in errors[0]


def test_a_misspelt_core_type_is_still_refused_with_a_suggestion():
    errors = errors_of(flow_of("- id: log\n  type: io.kestra.plugin.core.log.Logg\n  message: hi\n"))
    assert "unknown task type 'io.kestra.plugin.core.log.Logg'; did you mean io.kestra.plugin.core.log.Log" in errors[0]


def test_an_unknown_name_under_the_core_packages_is_refused():
    errors = errors_of(flow_of("- id: x\n  type: io.kestra.plugin.core.debug.NoSuchTask\n"))
    assert "unknown task type 'io.kestra.plugin.core.debug.NoSuchTask'" in errors[0]
    legacy = errors_of(flow_of("- id: x\n  type: io.kestra.core.tasks.debug.NoSuchTask\n"))
    assert "unknown task type 'io.kestra.core.tasks.debug.NoSuchTask'" in legacy[0]


def test_a_near_miss_of_a_known_plugin_type_is_a_typo_not_a_plugin():
    errors = errors_of(flow_of("- id: py\n  type: io.kestra.plugin.scripts.python.Scrpt\n  script: x\n"))
    assert "did you mean io.kestra.plugin.scripts.python.Script" in errors[0]
    wrong_case = errors_of(flow_of("- id: py\n  type: io.kestra.plugin.scripts.python.script\n"))
    assert "did you mean io.kestra.plugin.scripts.python.Script" in wrong_case[0]


def test_a_type_outside_io_kestra_is_refused():
    errors = errors_of(flow_of("- id: x\n  type: com.example.MyTask\n"))
    assert "unknown task type 'com.example.MyTask'" in errors[0]


@pytest.mark.skipif(not KESTRA_INVALID_TASK.exists(), reason="Kestra's test flows are not unpacked")
def test_kestra_invalid_task_flow_is_still_refused():
    with pytest.raises(InvalidFlowError) as raised:
        load_flow(KESTRA_INVALID_TASK)
    assert "unknown task type" in str(raised.value)


def test_a_flowable_unknown_type_loads_and_its_notice_says_nested_tasks_are_not_checked():
    flow = load_flow_text(flow_of("""\
        - id: each
          type: io.kestra.plugin.ee.Loop
          tasks:
            - id: inner
              type: io.kestra.plugin.core.log.Logg
              message: not checked
        """), "f.yml")
    assert isinstance(flow.tasks[0], UnavailableTask) and flow.tasks[0].nested_task_properties() == ["tasks"]
    assert [t.id for t in flow.walk_tasks()] == ["each"]
    (notice,) = unavailable_notices(flow)
    assert "io.kestra.plugin.ee.Loop is not available in Roost" in notice
    assert "nor the tasks nested in each.tasks" in notice


def test_validate_exits_0_with_one_notice_per_unavailable_task_type(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROOST_HOME", str(tmp_path / "home"))
    path = tmp_path / "plugins.yml"
    path.write_text(flow_of(SLACK + SLACK.replace("id: notify", "id: again"), """\
        triggers:
          - id: kafka
            type: io.kestra.plugin.kafka.Trigger
            topic: t
        """))
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    notices = [line for line in captured.err.splitlines() if line.startswith("notice: ")]
    assert notices == [
        "notice: io.kestra.plugin.slack.SlackIncomingWebhook is not available in Roost: tasks of this "
        "type need a mock to run (roost.toml [[mocks]], --mock); task(s): notify, again",
        "notice: io.kestra.plugin.kafka.Trigger is not available in Roost: triggers of this type do "
        "not fire locally (start the flow with `roost run`); trigger: kafka",
    ]
    assert f"{path}: OK (company.team.plugins, 2 tasks)" in captured.out


def test_a_trigger_type_one_short_segment_away_from_a_known_one_is_a_plugin_not_a_typo():
    flow = load_flow_text(flow_of("- id: x\n  type: io.kestra.plugin.core.log.Log\n  message: hi\n", """\
        triggers:
          - id: sqs
            type: io.kestra.plugin.aws.sqs.Trigger
        """), "f.yml")
    assert "io.kestra.plugin.aws.sqs.Trigger is not available" in unavailable_notices(flow)[0]


def test_an_unknown_core_trigger_type_is_refused():
    errors = errors_of(flow_of("- id: x\n  type: io.kestra.plugin.core.log.Log\n  message: hi\n", """\
        triggers:
          - id: t
            type: io.kestra.plugin.core.trigger.Nightly
        """))
    assert "unknown trigger type 'io.kestra.plugin.core.trigger.Nightly'" in errors[0]


def test_blueprints_script_strips_the_extend_block_and_groups_the_refusals(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("blueprints_open", Path(__file__).parents[2] / "scripts" / "blueprints_open.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    (tmp_path / "plugin.yaml").write_text(flow_of(SLACK, """\
        extend:
          title: A blueprint
          tags:
            - Notifications
        """))
    (tmp_path / "typo.yaml").write_text(flow_of("- id: x\n  type: io.kestra.plugin.core.log.Logg\n"))
    assert script.main([str(tmp_path), "--target", "50"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("blueprints: 1 of 2 open (50.0%); 1 refused")
    assert "typo.yaml: task …: unknown task type 'io.kestra.plugin.core.log.Logg'" in out
    assert script.main([str(tmp_path)]) == 1  # below the 97% target


def test_newer_kestra_task_cache_and_assets_are_accepted_with_a_warning_that_they_are_not_applied():
    flow = load_flow_text(flow_of("""\
        - id: log
          type: io.kestra.plugin.core.log.Log
          message: hi
          taskCache:
            enabled: true
            ttl: PT24H
          assets:
            outputs:
              - id: raw
                type: io.kestra.plugin.ee.assets.Dataset
        """), "f.yml")
    assert flow.tasks[0].task_cache == {"enabled": True, "ttl": "PT24H"}
    assert any("'taskCache' is not applied by Roost: the task runs every time" in w for w in flow.warnings)
    assert any("'assets' is not recorded by Roost" in w for w in flow.warnings)
