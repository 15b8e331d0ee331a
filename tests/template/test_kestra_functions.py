"""Template values, functions, secrets and run-context variables as Kestra gives them to a task."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest

from engine.template.values import format_datetime, java_duration
from tests.conftest import Engine
from tests.template import render

HEADER = """
id: kestra_functions
namespace: company.team
"""


def _encoded(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _engine(tmp_path: Path, **environ: str) -> Engine:
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    return Engine(tmp_path / "home", flows, environ={**os.environ, **environ})


def _value(engine: Engine, tasks: str, inputs: dict[str, object] | None = None, task_id: str = "t") -> str:
    """What a Return task `t` gave, after the whole flow ran."""
    result = engine.run(HEADER + tasks, inputs)
    assert result.state == "SUCCESS", result.logs(min_level="ERROR")
    return str(result.run_of(task_id).outputs["value"])


def _return(expression: str) -> str:
    return f"""
tasks:
  - id: t
    type: io.kestra.plugin.core.debug.Return
    format: "{expression}"
"""


# --- durations and dates ----------------------------------------------------------------

def test_duration_input_renders_as_java_iso_duration(engine):
    flow = """
inputs:
  - id: d
    type: DURATION
""" + _return("{{ inputs.d }}")
    assert _value(engine, flow, {"d": "PT1M30S"}) == "PT1M30S"


def test_duration_of_more_than_a_day_renders_in_hours_as_java_does(engine):
    flow = """
inputs:
  - id: d
    type: DURATION
""" + _return("{{ inputs.d }}")
    assert _value(engine, flow, {"d": "P1DT12H"}) == "PT36H"


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(0), "PT0S"), (timedelta(seconds=0.1), "PT0.1S"), (timedelta(hours=1), "PT1H"),
    (timedelta(seconds=-5), "PT-5S"), (timedelta(seconds=-90), "PT-1M-30S"),
    (timedelta(seconds=-0.5), "PT-0.5S"), (timedelta(minutes=2, microseconds=1500), "PT2M0.0015S"),
])
def test_duration_text_is_javas_duration_to_string(value, text):
    assert java_duration(value) == text


def test_duration_inside_a_map_is_written_as_iso_text(engine):
    flow = """
inputs:
  - id: d
    type: DURATION
""" + _return("{{ inputs | json }}")
    assert json.loads(_value(engine, flow, {"d": "PT5S"})) == {"d": "PT5S"}


def test_execution_start_date_renders_as_an_utc_instant(engine):
    result = engine.run(HEADER + _return("{{ execution.startDate }}"))
    text = result.run_of("t").outputs["value"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z", text), text
    assert result.execution.start_date is not None
    assert text == format_datetime(result.execution.start_date)


# --- secrets ----------------------------------------------------------------------------

def test_secret_name_is_upper_cased_to_find_its_variable(tmp_path):
    engine = _engine(tmp_path, SECRET_DB_PASS=_encoded("hunter2-pass"))
    try:
        assert _value(engine, _return("{{ secret('db_pass') | length }}")) == "12"
    finally:
        engine.close()


def test_secret_variable_suffix_matches_whatever_its_case(tmp_path):
    engine = _engine(tmp_path, SECRET_Mixed_Case=_encoded("abcdef"))
    try:
        assert _value(engine, _return("{{ secret('mixed_case') | upper }}")) == "ABCDEF"
    finally:
        engine.close()


def test_secret_value_wrapped_over_several_lines_is_decoded(tmp_path):
    long_value = "passwordveryveryveyrlong" * 5
    wrapped = "\n".join(_encoded(long_value)[i:i + 76] for i in range(0, len(_encoded(long_value)), 76))
    engine = _engine(tmp_path, SECRET_NEW_LINE=wrapped)
    try:
        assert _value(engine, _return("{{ secret('NEW_LINE') | length }}")) == str(len(long_value))
    finally:
        engine.close()


def test_secret_reaches_the_task_in_clear_and_its_log_is_masked_with_eight_stars(tmp_path):
    engine = _engine(tmp_path, SECRET_PASSWORD=_encoded("password"))
    try:
        result = engine.run(HEADER + """
tasks:
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ secret('PASSWORD') == 'password' }}"
    then:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "john {{ secret('PASSWORD') }} doe"
""")
        assert result.state == "SUCCESS"
        assert result.logs("log") == ["john ******** doe"]
    finally:
        engine.close()


def test_secret_input_is_masked_in_logs(engine):
    result = engine.run(HEADER + """
inputs:
  - id: secret
    type: SECRET
    defaults: password
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "This is my secret: {{ inputs.secret }}"
""")
    assert result.logs("log") == ["This is my secret: ********"]


def test_missing_secret_names_the_variable_to_export(engine):
    result = engine.run(HEADER + _return("{{ secret('not_there') }}"))
    assert result.state == "FAILED"
    assert any("export SECRET_NOT_THERE" in line for line in result.logs(min_level="ERROR"))


# --- run-context variables --------------------------------------------------------------

def test_flow_variable_has_id_namespace_and_revision(engine):
    assert json.loads(_value(engine, _return("{{ flow | json }}"))) == {
        "id": "kestra_functions", "namespace": "company.team", "revision": 1}


def test_task_variable_has_id_and_type(engine):
    assert json.loads(_value(engine, _return("{{ task | json }}"))) == {
        "id": "t", "type": "io.kestra.plugin.core.debug.Return"}


def test_taskrun_outside_a_foreach_has_no_value_and_no_parent(engine):
    assert _value(engine, _return("{{ taskrun | keys | join(',') }}")) == "id,startDate,attemptsCount"


def test_taskrun_inside_a_foreach_has_its_value_and_parent_id(engine):
    result = engine.run(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a"]
    tasks:
      - id: t
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }} {{ taskrun.parentId }}"
""")
    assert result.run_of("t").outputs["value"] == f"a {result.run_of('each').id}"


def test_parents_is_an_empty_list_at_the_top_level(engine):
    assert _value(engine, _return("{{ parents | json }} {{ parent ?? 'none' }}")) == "[] none"


def test_tasks_variable_gives_the_state_of_earlier_tasks(engine):
    flow = """
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: t
    type: io.kestra.plugin.core.debug.Return
    format: "{{ tasks.first.state }}"
"""
    assert _value(engine, flow) == "SUCCESS"


def test_execution_variable_has_id_start_date_and_original_id(engine):
    result = engine.run(HEADER + _return("{{ execution | keys | join(',') }} {{ execution.originalId }}"))
    assert result.run_of("t").outputs["value"] == f"id,startDate,originalId {result.execution.id}"


def test_envs_are_prefixed_environment_variables_lower_cased(tmp_path):
    engine = _engine(tmp_path, ENV_MY_SETTING="from-env", KESTRA_OTHER="from-kestra")
    try:
        assert _value(engine, _return("{{ envs.my_setting }} {{ envs.other }}")) == "from-env from-kestra"
    finally:
        engine.close()


def test_labels_and_globals_are_maps(engine):
    flow = "labels:\n  team: data\n" + _return("{{ labels.team }} {{ globals | json }}")
    assert _value(engine, flow) == "data {}"


# --- functions --------------------------------------------------------------------------

def test_file_uri_is_the_storage_uri_of_a_namespace_file(engine):
    assert _value(engine, _return("{{ fileURI('/data/a.txt') }}")) == "kestra:///company/team/_files/data/a.txt"


def test_file_uri_refuses_a_path_that_climbs_out(engine):
    result = engine.run(HEADER + _return("{{ fileURI('../secret.txt') }}"))
    assert result.state == "FAILED"
    assert any("Path must not contain '../'" in line for line in result.logs(min_level="ERROR"))


def test_read_of_a_file_uri_reads_the_namespace_file(engine):
    folder = engine.flow_dir / "namespaces" / "company.team" / "data"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("hello file")
    assert _value(engine, _return("{{ read(fileURI('data/a.txt')) }}")) == "hello file"


def test_from_ion_reads_a_struct(engine):
    flow = _return("{{ fromIon('{date:2024-04-21T23:00:00.000Z, title:\\\"Main_Page\\\",views:109787}').title }}")
    assert _value(engine, flow) == "Main_Page"


def test_from_ion_of_null_renders_nothing(engine):
    assert _value(engine, _return("[{{ fromIon(null) }}]")) == "[]"


def test_from_ion_refuses_text_that_is_not_ion(engine):
    result = engine.run(HEADER + _return("{{ fromIon('{not: ion') }}"))
    assert result.state == "FAILED"
    assert any("Invalid ion" in line for line in result.logs(min_level="ERROR"))


def test_error_logs_lists_the_executions_error_lines(engine):
    flow = """
tasks:
  - id: complain
    type: io.kestra.plugin.core.log.Log
    level: ERROR
    message: first error message
  - id: t
    type: io.kestra.plugin.core.debug.Return
    format: "{{ errorLogs() | length }} {{ errorLogs()[0].message }} {{ errorLogs()[0].taskId }}"
"""
    assert _value(engine, flow) == "1 first error message complain"


def test_error_logs_is_an_empty_list_without_errors(engine):
    assert _value(engine, _return("{{ errorLogs() }}")) == "[]"


def test_encrypt_is_reported_as_not_available(engine):
    result = engine.run(HEADER + _return("{{ encrypt('key', 'text') }}"))
    assert result.state == "FAILED"
    assert any("encrypt()" in line and "not available in Roost" in line for line in result.logs(min_level="ERROR"))


def test_ksuid_is_27_base62_characters_led_by_the_time(engine):
    first, second = _value(engine, _return("{{ ksuid() }} {{ ksuid() }}")).split()
    assert re.fullmatch(r"[0-9A-Za-z]{27}", first) and first != second
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = 0
    for char in first:
        number = number * 62 + alphabet.index(char)
    seconds = (number >> 128) + 1_400_000_000  # segmentio's epoch, 2014-05-13
    assert abs(seconds - time.time()) < 600


def test_nano_id_has_21_url_safe_characters_by_default(engine):
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}", _value(engine, _return("{{ nanoId() }}")))


def test_nano_id_takes_a_length_and_an_alphabet(engine):
    assert re.fullmatch(r"[ab]{10}", _value(engine, _return("{{ nanoId(length=10, alphabet='ab') }}")))


def test_secret_holding_json_is_parsed_and_its_field_passed_on_in_clear(tmp_path):
    engine = _engine(tmp_path, SECRET_API_CONFIG=_encoded('{"token":"tok-123"}'))
    try:
        result = engine.run(HEADER + """
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fromJson(secret('api_config')).token }}"
  - id: t
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.read.value == 'tok-123' }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "config {{ secret('api_config') }}"
""")
        assert result.run_of("read").outputs["value"] == "tok-123"
        assert result.run_of("t").outputs["value"] == "true"
        assert result.logs("log") == ["config ********"]
    finally:
        engine.close()


def test_taskrun_value_outside_a_foreach_is_a_missing_variable(engine):
    result = engine.run(HEADER + _return("{{ taskrun.value }}"))
    assert result.state == "FAILED"
    assert any("taskrun.value" in line for line in result.logs(min_level="ERROR"))


def test_globals_come_from_the_variables_globals_table_of_roost_toml(engine, tmp_path):
    from engine.core.config import RoostConfig

    toml = tmp_path / "roost.toml"
    toml.write_text('[variables.globals]\nregion = "eu-west-1"\nretries = 3\n')
    engine.with_config(RoostConfig.load(toml))
    assert _value(engine, _return("{{ globals.region }} {{ globals.retries + 1 }}")) == "eu-west-1 4"


# --- filters ----------------------------------------------------------------------------

ION_VARS = {"string": "string", "int": 1, "float": 1.5, "list": ["string", 1, 1.5], "bool": True,
            "map": {"int": 1, "my key": "v"}}


@pytest.mark.parametrize(("expression", "text"), [
    ("vars.string", '"string"'), ("vars.int", "1"), ("vars.float", "1.5e0"),
    ("vars.list", '["string",1,1.5e0]'), ("vars.bool", "true"), ("null", "null"),
    ("{'empty_object': {}}", "{empty_object:{}}"), ("vars.map", "{int:1,'my key':\"v\"}"),
])
def test_to_ion_writes_ion_text_as_kestras_ion_mapper(expression, text):
    assert render(f"{{{{ {expression} | toIon }}}}", vars=ION_VARS) == text


def test_to_ion_output_reads_back_with_from_ion():
    assert render("{{ fromIon(vars.map | toIon)['my key'] }}", vars=ION_VARS) == "v"


@pytest.mark.parametrize(("expression", "name"), [
    ("'text'", "java.lang.String"), ("1", "java.lang.Integer"), ("10000000000", "java.lang.Long"),
    ("1.5", "java.lang.Double"), ("true", "java.lang.Boolean"), ("[1]", "java.util.ArrayList"),
    ("{'a': 1}", "java.util.LinkedHashMap"),
])
def test_class_name_names_the_java_class_of_the_value(expression, name):
    assert render(f"{{{{ {expression} | className }}}}") == name


def test_now_is_written_in_the_iso_format_with_six_fraction_digits():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", render("{{ now() }}"))
    assert re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d", render("{{ now(timeZone='Asia/Tokyo') }}"))
