"""Pebble operators: ternary, null coalescing, concatenation, tests, ranges, arithmetic."""

from __future__ import annotations

import pytest

from tests.template import error_of, render


def test_ternary_picks_the_branch_named_by_the_condition():
    assert render("{{ 1 > 2 ? 'a' : 'b' }}") == "b"
    assert render("{{ inputs.count == 3 ? 'three' : 'other' }}") == "three"


def test_ternary_does_not_evaluate_the_unused_branch():
    assert render("{{ true ? 'ok' : missing.value }}") == "ok"
    assert render("{{ false ? secret('NOPE') : 'safe' }}") == "safe"


def test_nested_ternaries_associate_to_the_right():
    template = "{{ inputs.count > 5 ? 'big' : inputs.count > 1 ? 'medium' : 'small' }}"
    assert render(template) == "medium"


def test_null_coalescing_falls_back_on_undefined_and_null():
    assert render("{{ inputs.n ?? 'default' }}") == "default"
    assert render("{{ inputs.nope ?? 'default' }}") == "default"
    assert render("{{ inputs.name ?? 'default' }}") == "Kestra"


def test_null_coalescing_reaches_through_a_missing_parent():
    assert render("{{ parent.taskrun.value ?? 'none' }}") == "none"


def test_null_coalescing_keeps_falsy_values():
    assert render("{{ inputs.zero ?? 'default' }}", inputs={"zero": 0}) == "0"
    assert render("{{ inputs.no ?? 'default' }}", inputs={"no": False}) == "false"


def test_null_coalescing_does_not_evaluate_the_fallback_when_not_needed():
    assert render("{{ inputs.name ?? secret('MISSING') }}") == "Kestra"


def test_null_coalescing_binds_tighter_than_filters_and_concatenation():
    assert render("{{ inputs.nope ?? 'x' | upper }}") == "X"
    assert render("{{ 'a' ~ inputs.nope ?? 'b' }}") == "ab"


def test_undefined_coalescing_keeps_null_but_replaces_undefined():
    assert render("{{ inputs.nope ??? 'fallback' }}") == "fallback"
    assert render("{{ inputs.n ??? 'fallback' }}") == ""


def test_tilde_concatenates_and_applies_before_the_filter_as_in_pebble():
    assert render("{{ 'a' ~ 'b' | upper }}") == "AB"
    assert render("{{ 'n=' ~ inputs.count }}") == "n=3"
    assert render("{{ 'x' ~ inputs.n ~ 'y' }}") == "xy"


def test_plus_concatenates_when_a_side_is_a_string():
    assert render("{{ 'v' + 1 }}") == "v1"
    assert render("{{ 1 + 2 }}") == "3"


def test_integer_division_truncates_like_java():
    assert render("{{ 7 / 2 }}") == "3"
    assert render("{{ -7 / 2 }}") == "-3"
    assert render("{{ 7 / 2.0 }}") == "3.5"
    assert render("{{ -7 % 3 }}") == "-1"


def test_arithmetic_precedence_follows_pebble():
    assert render("{{ 2 + 3 * 4 }}") == "14"
    assert render("{{ (2 + 3) * 4 }}") == "20"
    assert render("{{ -inputs.count + 1 }}") == "-2"


def test_boolean_operators_and_not():
    assert render("{{ true and false }}") == "false"
    assert render("{{ true or false }}") == "true"
    assert render("{{ not false }}") == "true"
    assert render("{{ inputs.count > 1 and inputs.count < 5 }}") == "true"


def test_and_short_circuits():
    assert render("{{ false and missing.value }}") == "false"


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ 1 == 1.0 }}", "true"),
    ("{{ 'a' equals 'a' }}", "true"),
    ("{{ 'a' != 'b' }}", "true"),
    ("{{ 2 >= 2 }}", "true"),
    ("{{ 3 < 2 }}", "false"),
    ("{{ inputs.n > 1 }}", "false"),
])
def test_comparisons(template, expected):
    assert render(template) == expected


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ inputs.name is defined }}", "true"),
    ("{{ inputs.nope is defined }}", "false"),
    ("{{ inputs.nope is not defined }}", "true"),
    ("{{ inputs.n is null }}", "true"),
    ("{{ inputs.name is not null }}", "true"),
    ("{{ '  ' is empty }}", "true"),
    ("{{ [] is empty }}", "true"),
    ("{{ {'a': 1} is empty }}", "false"),
    ("{{ 4 is even }}", "true"),
    ("{{ 3 is odd }}", "true"),
    ("{{ [1] is iterable }}", "true"),
    ("{{ 'abc' is iterable }}", "false"),
    ("{{ {'a': 1} is map }}", "true"),
    ("{{ '{\"a\": 1}' is json }}", "true"),
    ("{{ 'nope' is json }}", "false"),
])
def test_is_tests(template, expected):
    assert render(template) == expected


def test_in_and_contains():
    assert render("{{ 'foo' in ['foo', 'bar'] }}") == "true"
    assert render("{{ 'baz' not in ['foo', 'bar'] }}") == "true"
    assert render("{{ ['apple', 'orange'] contains 'apple' }}") == "true"
    assert render("{{ {'k': 1} contains 'k' }}") == "true"
    assert render("{{ 'hello' contains 'ell' }}") == "true"
    assert render("{{ 1 in [1.0, 2] }}") == "true"


def test_inclusive_ranges():
    assert render("{{ 1..5 }}") == "[1,2,3,4,5]"
    assert render("{% for i in 0..3 %}{{ i }}{% endfor %}") == "0123"
    assert render("{{ range(2, 6, 2) }}") == "[2,4,6]"


def test_range_size_is_bounded():
    assert "at most" in error_of("{{ 1..100000000 }}")


def test_string_literals_take_both_quotes_and_escapes():
    assert render("""{{ "double" ~ 'single' }}""") == "doublesingle"
    assert render(r"""{{ 'it\'s' }}""") == "it's"
    assert render(r"""{{ "say \"hi\"" }}""") == 'say "hi"'


def test_double_quoted_strings_interpolate():
    assert render('{{ "Hello #{inputs.name | upper}!" }}') == "Hello KESTRA!"
    assert render("{{ 'no #{interpolation}' }}") == "no #{interpolation}"


def test_pebble_syntax_inside_strings_is_left_alone():
    assert render("{{ 'a ? b : c ?? d ~ e' }}") == "a ? b : c ?? d ~ e"
    assert render("{{ '{{ not a tag }}' }}") == "{{ not a tag }}"


def test_map_and_list_literals_and_subscripts():
    assert render("{{ {'k': 'v'}['k'] }}") == "v"
    assert render("{{ [10, 20, 30][1] }}") == "20"
    assert render("{{ {'a': [1, {'b': true}]} }}") == '{"a":[1,{"b":true}]}'


def test_keys_with_dashes_and_dots_are_reachable_with_subscripts():
    outputs = {"my-task": {"value": "dash"}, "process": {"feb.csv": {"outputFiles": {"out.csv": "kestra:///x"}}}}
    assert render("{{ outputs['my-task'].value }}", outputs=outputs) == "dash"
    assert render("{{ outputs.process['feb.csv'].outputFiles | keys | first }}", outputs=outputs) == "out.csv"


def test_for_each_outputs_are_read_by_value():
    outputs = {"inner": {"a": {"value": "A"}, "b": {"value": "B"}}}
    assert render("{{ outputs.inner['b'].value }}", outputs=outputs) == "B"
    assert render("{{ outputs.inner[taskrun.value].value }}", outputs=outputs,
                  taskrun={"id": "r", "value": "a"}) == "A"


def test_map_keys_win_over_dict_methods():
    outputs = {"vals": {"values": {"greeting": "hi"}, "keys": 1, "items": 2}}
    assert render("{{ outputs.vals.values.greeting }}-{{ outputs.vals.keys }}", outputs=outputs) == "hi-1"
