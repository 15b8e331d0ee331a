"""Kestra's functions: secret, read, fileSize, fromJson, yaml, render, uuid, range, ..."""

from __future__ import annotations

import json
import re

from tests.template import ENGINE, FakeServices, context, error_of, render


def test_secret_reads_through_the_services():
    assert render("Bearer {{ secret('API_KEY') }}") == "Bearer s3cr3t"


def test_missing_secret_error_comes_from_the_services():
    assert error_of("{{ secret('NOPE') }}") == "secret 'NOPE' is not defined"


def test_read_file_size_and_file_exists():
    assert render("{{ read('data/hello.txt') | trim }}") == "hello from a file"
    assert render("{{ fileSize('data/hello.txt') }}") == "18"
    assert render("{{ fileExists('data/hello.txt') }}-{{ fileExists('nope.txt') }}") == "true-false"
    assert error_of("{{ read('nope.txt') }}") == "cannot read 'nope.txt': No such file or directory"


def test_from_json_and_json_parse_strings():
    assert render("""{{ fromJson('{"a": [1, 2]}').a[1] }}""") == "2"
    assert render("""{{ json('{"k": "v"}').k }}""") == "v"
    assert "not valid JSON" in error_of("{{ fromJson('{nope') }}")


def test_yaml_function_parses_yaml():
    assert render("{{ yaml(inputs.doc).b | last }}", inputs={"doc": "a: 1\nb: [x, y]"}) == "y"


def test_backslash_n_in_a_string_literal_stays_two_characters_as_in_pebble():
    assert render("{{ 'a\\nb' | length }}") == "4"


def test_render_re_renders_a_string_against_the_same_context():
    variables = {"template": "flow is {{ flow.id }}", "nested": "{{ vars.template }}"}
    assert render("{{ render(vars.template) }}", vars=variables) == "flow is hello"
    assert render("{{ render(vars.nested) }}", vars=variables) == "flow is hello"
    assert render("{{ render(vars.nested, recursive=false) }}", vars=variables) == "flow is {{ flow.id }}"


def test_render_recursion_is_bounded():
    looping = {"a": "{{ render(vars.a) }}"}
    assert "nested more than" in error_of("{{ render(vars.a) }}", vars=looping)


def test_uuid_and_random_int():
    assert re.fullmatch(r"[0-9a-f-]{36}", render("{{ uuid() }}"))
    assert render("{{ uuid() }}") != render("{{ uuid() }}")
    assert int(render("{{ randomInt(5, 6) }}")) == 5


def test_range_max_min():
    assert render("{{ range(1, 3) }}") == "[1,2,3]"
    assert render("{{ max(1, 5, 3) }}-{{ min(4, 2) }}") == "5-2"


def test_now_accepts_named_arguments():
    assert render("{{ now(timeZone='UTC', format='yyyy') | length }}") == "4"


def test_print_context_is_json_of_the_variables():
    printed = json.loads(render("{{ printContext() }}"))
    assert printed["flow"]["id"] == "hello"
    assert printed["execution"]["startDate"] == "2024-01-02T03:04:05.123Z"
    assert not any(key.startswith("fn__") for key in printed)


def test_current_each_output_picks_the_current_iteration():
    outputs = {"inner": {"a": {"value": "A"}, "b": {"value": "B"}}}
    assert render("{{ currentEachOutput(outputs.inner).value }}", outputs=outputs,
                  taskrun={"id": "r", "value": "b"}) == "B"


def test_unknown_and_server_only_functions_are_reported():
    assert error_of("{{ nope() }}") == "syntax error at line 1: unknown function 'nope'"
    assert "needs a Kestra server" in error_of("{{ isPublicHoliday() }}")


def test_evaluate_returns_python_values():
    services = FakeServices()
    assert ENGINE.evaluate("inputs.count * 2", context(), services) == 6
    assert ENGINE.evaluate("[1, 2] | length", context(), services) == 2
    assert ENGINE.evaluate("{'a': inputs.name}", context(), services) == {"a": "Kestra"}
    assert ENGINE.evaluate("inputs.n ?? 'x'", context(), services) == "x"
    assert ENGINE.evaluate("secret('API_KEY')", context(), services) == "s3cr3t"
