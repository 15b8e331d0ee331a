"""Pebble's and Kestra's filters, with expressions taken from their documentation."""

from __future__ import annotations

import pytest

from tests.template import error_of, render


def test_jq_always_returns_a_list_and_first_takes_its_head():
    trigger = {"objects": [{"uri": "kestra:///a.csv", "key": "raw/a.csv"}, {"uri": "kestra:///b.csv"}]}
    assert render("{{ trigger.objects | jq('.[].uri') | first }}", trigger=trigger) == "kestra:///a.csv"
    assert render("{{ trigger.objects | jq('.[].uri') }}", trigger=trigger) == '["kestra:///a.csv","kestra:///b.csv"]'
    assert render("{{ trigger.objects | jq('length') }}", trigger=trigger) == "[2]"


def test_jq_parses_a_json_string_input():
    assert render("""{{ '{"a": {"b": 5}}' | jq('.a.b') | first }}""") == "5"
    assert render("{{ outputs.t.body | jq('.items[] | select(.ok) | .name') }}",
                  outputs={"t": {"body": '{"items": [{"name": "x", "ok": true}, {"name": "y", "ok": false}]}'}}) == '["x"]'


def test_jq_errors_are_template_errors():
    assert error_of("{{ [1] | jq('.[') }}").startswith("jq: cannot compile '.['")
    assert "not JSON" in error_of("{{ 'plain' | jq('.') }}")


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ [1, 2, 3] | first }}", "1"),
    ("{{ [1, 2, 3] | last }}", "3"),
    ("{{ 'abc' | first }}", "a"),
    ("{{ [1, 2, 3] | length }}", "3"),
    ("{{ 'hello' | length }}", "5"),
    ("{{ {'a': 1, 'b': 2} | keys }}", '["a","b"]'),
    ("{{ {'a': 1, 'b': 2} | values }}", "[1,2]"),
    ("{{ [[1, 2], [3], 4] | flatten }}", "[1,2,3,4]"),
    ("{{ [1, 2, 3] | chunk(2) }}", "[[1,2],[3]]"),
    ("{{ [1, 2, 1, 3] | distinct }}", "[1,2,3]"),
    ("{{ [1, 2, 3] | reverse }}", "[3,2,1]"),
    ("{{ [3, 1, 2] | sort }}", "[1,2,3]"),
    ("{{ [3, 1, 2] | rsort }}", "[3,2,1]"),
    ("{{ [1, 2, 3, 4] | slice(1, 3) }}", "[2,3]"),
    ("{{ 'abcdef' | slice(2) }}", "cdef"),
    ("{{ ['apple', 'banana'] | join(', ') }}", "apple, banana"),
    ("{{ {'a': 1} | merge({'b': 2}) }}", '{"a":1,"b":2}'),
    ("{{ -5 | abs }}", "5"),
    ("{{ 2.567 | round(2) }}", "2.57"),
    ("{{ 2.5 | round }}", "3"),
])
def test_collection_and_number_filters(template, expected):
    assert render(template) == expected


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ 'hello' | upper }}", "HELLO"),
    ("{{ 'HeLLo' | lower }}", "hello"),
    ("{{ '  padded  ' | trim }}", "padded"),
    ("{{ 'article title' | capitalize }}", "Article title"),
    ("{{ 'article title' | title }}", "Article Title"),
    ("{{ 'this is a long sentence.' | abbreviate(7) }}", "this..."),
    ("{{ 'apple,orange,,' | split(',') }}", '["apple","orange"]'),
    ("{{ 'a.b.c' | split('\\\\.') }}", '["a","b","c"]'),
    ("{{ 'Hello World & Friends!' | slugify }}", "hello-world-friends"),
    ("{{ 'Crème brûlée' | slugify }}", "creme-brulee"),
    ("{{ 'archive.tar.gz' | substringBefore('.') }}", "archive"),
    ("{{ 'archive.tar.gz' | substringAfter('.') }}", "tar.gz"),
    ("{{ 'archive.tar.gz' | substringBeforeLast('.') }}", "archive.tar"),
    ("{{ 'archive.tar.gz' | substringAfterLast('.') }}", "gz"),
    ("{{ 'no-dot' | substringAfter('.') }}", ""),
    ("{{ 'report.csv' | startsWith('report') }}", "true"),
    ("{{ 'report.csv' | endsWith('.json') }}", "false"),
    ("{{ 'a b&c' | urlencode }}", "a+b%26c"),
    ("{{ 'a+b%26c' | urldecode }}", "a b&c"),
    ("{{ 'hello' | base64encode }}", "aGVsbG8="),
    ("{{ 'aGVsbG8=' | base64decode }}", "hello"),
    ("{{ 'hello' | sha256 }}", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    ("{{ 'hello' | md5 }}", "5d41402abc4b2a76b9719d911017c592"),
    ("{{ 'hello' | sha1 }}", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
    ("{{ \"it's\" | escapeChar('single') }}", "it\\'s"),
    ("{{ \"it's\" | escapeChar('shell') }}", "it'\\''s"),
    ("{{ 'a\"b' | escapeChar('double') }}", 'a\\"b'),
    ("{{ 12 | string }}", "12"),
])
def test_string_filters(template, expected):
    assert render(template) == expected


def test_replace_takes_pebble_map_form_and_the_pair_form():
    assert render("{{ taskrun.value | replace({'.csv': ''}) }}", taskrun={"id": "r", "value": "feb.csv"}) == "feb"
    assert render("{{ 'I like %this% and %that%.' | replace({'%this%': inputs.name, '%that%': 'bar'}) }}") \
        == "I like Kestra and bar."
    assert render("{{ 'a-b-c' | replace('-', '_') }}") == "a_b_c"


def test_replace_with_regexp_uses_java_group_references():
    assert render("{{ 'v1.2.3' | replace({'v(\\\\d+)\\\\..*': 'major $1'}, regexp=true) }}") == "major 1"


def test_replace_walks_maps_and_lists():
    assert render("{{ {'a': 'x.csv', 'b': ['y.csv']} | replace({'.csv': ''}) }}") == '{"a":"x","b":["y"]}'


def test_indent_skips_the_first_line_and_nindent_starts_with_a_newline():
    assert render("{{ inputs.t | indent(2) }}", inputs={"t": "a\nb\nc"}) == "a\n  b\n  c"
    assert render("{{ inputs.t | nindent(2) }}", inputs={"t": "a\nb"}) == "\n  a\n  b"
    assert render("{{ inputs.t | indent(1, prefix='>') }}", inputs={"t": "a\nb"}) == "a\n>b"


def test_to_json_and_json_write_compact_json():
    assert render("{{ {'a': [1, 'x', null, true]} | toJson }}") == '{"a":[1,"x",null,true]}'
    assert render("{{ 'text' | json }}") == '"text"'
    assert render("{{ inputs.n | toJson }}") == "null"


def test_yaml_filter_writes_block_yaml():
    assert render("{{ {'name': 'x', 'items': [1, 2]} | yaml }}") == "name: x\nitems:\n  - 1\n  - 2\n"


def test_number_parses_strings():
    assert render("{{ '42' | number + 1 }}") == "43"
    assert render("{{ '1.5' | number * 2 }}") == "3.0"
    assert render("{{ '7' | number('DOUBLE') }}") == "7.0"
    assert render("{{ '0x1F' | number }}") == "31"
    assert error_of("{{ 'abc' | number }}") == "'abc' is not a number"


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ 3.141592653 | numberFormat('#.##') }}", "3.14"),
    ("{{ 1234567.891 | numberFormat('#,##0.00') }}", "1,234,567.89"),
    ("{{ 5 | numberFormat('000') }}", "005"),
    ("{{ 0.256 | numberFormat('#%') }}", "26%"),
    ("{{ 1234.5 | numberFormat }}", "1,234.5"),
])
def test_number_format_follows_decimal_format(template, expected):
    assert render(template) == expected


def test_default_replaces_missing_null_and_empty_values():
    assert render("{{ inputs.nope | default('d') }}") == "d"
    assert render("{{ inputs.n | default('d') }}") == "d"
    assert render("{{ '' | default('d') }}") == "d"
    assert render("{{ inputs.name | default('d') }}") == "Kestra"


def test_filters_return_null_for_null_input():
    assert render("{{ inputs.n | upper }}") == ""
    assert render("{{ inputs.n | length }}") == "0"


def test_filter_misuse_is_reported_in_words():
    assert error_of("{{ 'abc' | chunk(2) }}") == "the 'chunk' filter needs a list, got a string"
    assert "unknown filter 'nope'" in error_of("{{ 1 | nope }}")
    assert "was called wrongly" in error_of("{{ 'a' | upper(bogus=1) }}")
