"""The engine as the executor uses it: caching, and templates inside real flows."""

from __future__ import annotations

import base64

from engine.template import TemplateEngine
from tests.template import FakeServices, context

HEADER = "id: t\nnamespace: company.team\n"


def test_compiled_templates_are_cached_by_source():
    engine = TemplateEngine()
    for _ in range(3):
        assert engine.render_value("{{ inputs.name }}!", context(), FakeServices()) == "Kestra!"
    info = engine._compile.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_a_simple_template_renders_again_from_the_cache_with_the_new_values():
    """Compiled once, rendered many times (how fast: benchmarks/template_render.py)."""
    engine = TemplateEngine()
    services = FakeServices()
    rendered = [engine.render_value("{{ taskrun.id }}-5", context(taskrun={"id": f"run{n}"}), services)
                for n in range(50)]
    assert rendered == [f"run{n}-5" for n in range(50)]
    info = engine._compile.cache_info()
    assert (info.misses, info.hits) == (1, 49)


def test_a_failed_compile_is_reported_every_time():
    engine = TemplateEngine()
    messages = set()
    for _ in range(2):
        try:
            engine.render_value("{{ 1 + }}", context(), FakeServices())
        except Exception as exc:  # noqa: BLE001 - the message is what is checked
            messages.add(getattr(exc, "message", ""))
    assert messages == {"syntax error at line 1: the expression ends too early; expected a value"}


def test_flow_properties_use_pebble_expressions(engine):
    result = engine.run(HEADER + """
inputs:
  - id: files
    type: JSON
    defaults: '["feb.csv", "mar.csv"]'
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ inputs.files }}"
    tasks:
      - id: name
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value | replace({'.csv': ''}) | upper }}"
  - id: summary
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.name['mar.csv'].value }} {{ execution.startDate | date('yyyy') | length }} {{ inputs.missing ?? 'none' }}"
""")
    assert result.state == "SUCCESS", result.logs()
    assert sorted(r.outputs["value"] for r in result.runs_of("name")) == ["FEB", "MAR"]
    assert result.run_of("summary").outputs["value"] == "MAR 4 none"


def test_secret_function_reads_the_runtime_secrets(tmp_path):
    from tests.conftest import Engine

    encoded = base64.b64encode(b"tok3n").decode()
    runner = Engine(tmp_path / "h", tmp_path, environ={"SECRET_API_TOKEN": encoded})
    try:
        result = runner.run(HEADER + """
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('API_TOKEN') | length }}"
  - id: bad
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('NOT_SET') }}"
""")
        assert result.run_of("r").outputs["value"] == "5"
        assert result.state == "FAILED"
        assert any("task 'bad' property 'format'" in line and "NOT_SET" in line for line in result.logs("bad"))
    finally:
        runner.close()


def test_template_errors_in_flows_name_task_property_and_variable(engine):
    result = engine.run(HEADER + """
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ inputs.nme }}"
""")
    assert result.state == "FAILED"
    assert any("task 'greet' property 'message'" in line and "variable 'inputs.nme' is not defined" in line
               for line in result.logs("greet"))
