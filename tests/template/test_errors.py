"""Errors are sentences: they name the variable, the missing key, the line; never Python internals."""

from __future__ import annotations

import pytest

from tests.template import error_of


def test_undefined_variable_names_the_full_path():
    assert error_of("{{ nope.value }}") == "variable 'nope.value' is not defined"


def test_missing_map_key_says_which_key_and_lists_the_others():
    assert error_of("{{ inputs.nme }}") == \
        "variable 'inputs.nme' is not defined: 'inputs' has no key 'nme' (its keys: name, n, count)"


def test_missing_key_deep_in_outputs_names_the_path_with_subscripts():
    outputs = {"my-task": {"value": 1}}
    assert error_of("{{ outputs['my-task'].vars.x }}", outputs=outputs) == \
        "variable 'outputs['my-task'].vars.x' is not defined: 'outputs['my-task']' has no key 'vars' (its keys: value)"


def test_missing_task_output_mentions_empty_outputs():
    assert error_of("{{ outputs.missing.value }}") == \
        "variable 'outputs.missing.value' is not defined: 'outputs' is an empty map"


def test_list_index_out_of_range():
    assert error_of("{{ inputs.l[5] }}", inputs={"l": [1, 2]}) == \
        "variable 'inputs.l[5]' is not defined: 'inputs.l' is a list of 2 items, which has no item 5"


def test_undefined_used_in_an_operation_fails_with_its_name():
    assert error_of("{{ inputs.nope + 1 }}").startswith("variable 'inputs.nope' is not defined")
    assert error_of("{% if inputs.nope %}x{% endif %}").startswith("variable 'inputs.nope' is not defined")
    assert error_of("{% for x in inputs.nope %}{% endfor %}").startswith("variable 'inputs.nope' is not defined")
    assert error_of("{{ inputs.nope | upper }}").startswith("variable 'inputs.nope' is not defined")


def test_missing_key_of_a_computed_value_still_says_which_key():
    assert error_of("{{ fromJson('{\"a\": 1}').b }}") == \
        "'b' is not defined: the value has no key 'b' (its keys: a)"


@pytest.mark.parametrize(("template", "message"), [
    ("{{ 1 + }}", "syntax error at line 1: the expression ends too early; expected a value"),
    ("{{ inputs.name", "syntax error at line 1: '{{' is never closed with '}}'"),
    ("a\nb\n{{ (1 }}", "syntax error at line 3: '(' is closed by '}'"),
    ("{{ 'open }}", "syntax error at line 1: a string is never closed"),
    ("{{ 1 ? 2 }}", "syntax error at line 1: the expression ends too early; expected ':'"),
    ("{{ }}", "syntax error at line 1: an empty expression"),
    ("{{ a b }}", "syntax error at line 1: unexpected 'b'"),
    ("{{ 1 }}{# never closed", "syntax error at line 1: a comment '{#' is never closed with '#}'"),
    ("{% raw %}x", "syntax error at line 1: '{% raw %}' is never closed with '{% endraw %}'"),
    ("{{ f(a=1, 2) }}", "syntax error at line 1: unknown function 'f'"),
    ("{{ now(timeZone='UTC', 2) }}", "syntax error at line 1: positional arguments must come before named ones"),
])
def test_syntax_errors_name_the_problem_and_the_line(template, message):
    assert error_of(template) == message


def test_runtime_errors_are_sentences_without_python_internals():
    for template in ("{{ 1 / 0 }}", "{{ 'a' - 1 }}", "{{ [1, 'a'] | sort }}", "{{ 'x' | slice(5) }}",
                     "{{ {'a': 1} | first }}", "{{ 'abc' | date('yyyy') }}"):
        message = error_of(template)
        assert "Traceback" not in message and "jinja" not in message.lower() and "fn__" not in message, message
