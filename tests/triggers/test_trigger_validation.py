"""Trigger definitions are checked when a flow loads, each problem at file:line:col."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from engine.core.errors import InvalidFlowError
from engine.flow.loader import load_flow_text
from tests.conftest import REPO_ROOT

HEAD = """\
id: checked
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
"""


def errors_of(triggers: str, extra_defaults=()) -> list[str]:
    text = HEAD + textwrap.indent(textwrap.dedent(triggers).strip() + "\n", "  ")
    try:
        load_flow_text(text, "flow.yml", extra_defaults)
    except InvalidFlowError as exc:
        return [str(e) for e in exc.errors]
    return []


def test_unknown_type_suggests_the_closest_supported_one():
    assert errors_of("""
        - id: t
          type: io.kestra.plugin.core.trigger.Schedul
          cron: "@daily"
        """) == ["flow.yml:9:11: trigger 't': unknown trigger type 'io.kestra.plugin.core.trigger.Schedul'; "
                 "did you mean io.kestra.plugin.core.trigger.Schedule?"]
    assert errors_of("- id: t\n  type: Webhook\n  key: k") == [
        "flow.yml:9:11: trigger 't': unknown trigger type 'Webhook'; "
        "did you mean io.kestra.plugin.core.trigger.Webhook?"]


def test_kestra_types_roost_does_not_run_still_load():
    assert errors_of("""
        - id: after
          type: io.kestra.plugin.core.trigger.Flow
          conditions: []
        - id: legacy
          type: io.kestra.core.models.triggers.types.Schedule
          cron: "0 * * * *"
        """) == []


def test_properties_are_checked_where_they_are_written():
    assert errors_of("""
        - id: s3
          type: io.kestra.plugin.aws.s3.Trigger
          bucket: b
          intervall: PT1S
          action: MOVE
          filter: FILE
          maxKeys: lots
        """) == [
        "flow.yml:8:5: trigger 's3': action MOVE needs 'moveTo' with a 'key'",
        "flow.yml:11:5: trigger 's3': unknown property 'intervall' for type io.kestra.plugin.aws.s3.Trigger; "
        "did you mean 'interval'?",
        "flow.yml:13:13: trigger 's3': 'filter' must be one of FILES, DIRECTORY, BOTH, not 'FILE'",
        "flow.yml:14:14: trigger 's3': 'maxKeys' must be an integer",
    ]


def test_missing_required_properties_and_bad_durations():
    assert errors_of("""
        - id: s3
          type: io.kestra.plugin.aws.s3.Trigger
          region: eu-west-1
        - id: files
          type: io.kestra.plugin.fs.local.Trigger
          from: /data
          interval: 5 minutes
        """) == [
        "flow.yml:8:5: trigger 's3': missing required property 'bucket'",
        "flow.yml:8:5: trigger 's3': missing required property 'action' (MOVE, DELETE, NONE)",
        "flow.yml:14:15: trigger 'files': 'interval' is invalid: '5 minutes' is not an ISO-8601 duration "
        "such as PT30S, PT5M, PT1H30M or P1D",
    ]


@pytest.mark.parametrize(("cron", "seconds", "message"), [
    ("61 * * * *", False, "cron '61 * * * *': minute '61' is out of range (0-59)"),
    ("* * * * * *", False, "cron '* * * * * *' has 6 fields, expected 5; set withSeconds: true for a seconds field"),
    ("*/5 * * * *", True, "cron '*/5 * * * *' has 5 fields, expected 6; with withSeconds: true the first field "
                          "is the second"),
    ("@dayly", False, "unknown cron nickname '@dayly' (use one of @yearly, @annually, @monthly, @weekly, "
                      "@daily, @midnight, @hourly)"),
    ("0 9 * * MON-FRY", False, "cron '0 9 * * MON-FRY': day of week 'MON-FRY' uses 'FRY', which is not a "
                               "number or a name (SUN-SAT)"),
])
def test_bad_crons_are_reported_at_the_cron(cron, seconds, message):
    extra = "\n  withSeconds: true" if seconds else ""
    assert errors_of(f'- id: s\n  type: io.kestra.plugin.core.trigger.Schedule\n  cron: "{cron}"{extra}') == [
        f"flow.yml:10:11: trigger 's': {message}"]


def test_good_schedules_pass():
    assert errors_of("""
        - id: a
          type: io.kestra.plugin.core.trigger.Schedule
          cron: "*/10 * * * * *"
          withSeconds: true
          timezone: Europe/Paris
          recoverMissedSchedules: LAST
        - id: b
          type: io.kestra.plugin.core.trigger.Schedule
          cron: "0 0 L * *"
        - id: c
          type: io.kestra.core.models.triggers.types.Schedule
          cron: "@weekly"
        """) == []


def test_plugin_defaults_provide_required_properties():
    s3 = "- id: s3\n  type: io.kestra.plugin.aws.s3.Trigger\n  action: NONE"
    assert errors_of(s3) == ["flow.yml:8:5: trigger 's3': missing required property 'bucket'"]
    assert errors_of(s3, [{"type": "io.kestra.plugin.aws", "values": {"bucket": "from-roost-toml"}}]) == []


def test_webhook_key_and_schedule_time_zone():
    assert errors_of("""
        - id: w
          type: io.kestra.plugin.core.trigger.Webhook
          key: a/b
        - id: s
          type: io.kestra.plugin.core.trigger.Schedule
          cron: "@hourly"
          timezone: Mars/Olympus
        """) == [
        "flow.yml:10:10: trigger 'w': 'key' must not contain '/' (it is one segment of the webhook URL)",
        "flow.yml:14:15: trigger 's': unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Paris)",
    ]


def test_roost_validate_reports_trigger_errors_without_loading_trigger_libraries(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(HEAD + '  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: "99 * * * *"\n')
    code = ("import sys\nfrom engine.cli.main import main\n"
            f"status = main(['validate', {str(bad)!r}, {str(REPO_ROOT / 'sample_flows')!r}])\n"
            "heavy = sorted(m for m in ('boto3', 'botocore', 'croniter', 'watchfiles') if m in sys.modules)\n"
            "print(status, heavy)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.stdout.strip().splitlines()[-1] == "2 []", result.stderr
    assert f"{bad}:10:11: trigger 's': cron '99 * * * *': minute '99' is out of range (0-59)" in result.stderr
