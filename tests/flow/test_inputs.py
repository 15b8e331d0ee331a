"""Flow inputs: Kestra's definition rules at load time and its typed values at run time."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.flow.input_values import resolve_inputs
from engine.flow.inputs import (
    INPUT_TYPES,
    InputDefinition,
    InputError,
    parse_input_definitions,
)


def _no_files(input_id: str, path: Path) -> str:
    raise AssertionError("no FILE input expected")


def definitions(*raw: dict[str, Any]) -> list[InputDefinition]:
    parsed, problems = parse_input_definitions(list(raw))
    assert problems == []
    return parsed


def problems_of(*raw: Any) -> list[tuple[int, str]]:
    return parse_input_definitions(list(raw))[1]


def resolve(raw: dict[str, Any], provided: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    return resolve_inputs(definitions(raw), provided or {}, store_file=_no_files, **kwargs)


def value_of(raw: dict[str, Any], value: Any) -> Any:
    return resolve(raw, {raw["id"]: value})[raw["id"]]


def refusal(raw: dict[str, Any], value: Any) -> str:
    with pytest.raises(InputError) as info:
        resolve(raw, {raw["id"]: value})
    assert info.value.input_id == raw["id"]
    return info.value.message


# ------------------------------------------------------------------ definitions


def test_definition_is_required_by_default_and_keeps_type_specific_options():
    (n,) = definitions({"id": "n", "type": "INT", "min": 1, "max": 10, "description": "count",
                        "displayName": "Count"})
    assert (n.id, n.type, n.required, n.defaults, n.has_default) == ("n", "INT", True, None, False)
    assert (n.description, n.display_name) == ("count", "Count")
    assert n.options == {"min": 1, "max": 10}


def test_definition_with_optional_default_is_accepted():
    (n,) = definitions({"id": "n", "type": "INT", "defaults": 3, "required": False, "min": 1, "max": 10})
    assert n.required is False and n.has_default and n.defaults == 3


def test_legacy_name_key_is_accepted_as_the_id():
    (old,) = definitions({"name": "who", "type": "STRING"})
    assert old.id == "who"


def test_unknown_type_suggests_close_names():
    [(index, message)] = problems_of({"id": "a", "type": "STRING"}, {"id": "n", "type": "INTEGER"})
    assert index == 1
    assert message == "input 'n': unknown type 'INTEGER'; did you mean 'INT'?"


def test_unknown_type_without_close_name_lists_the_types():
    [(_, message)] = problems_of({"id": "n", "type": "WIDGET"})
    assert "unknown type 'WIDGET'" in message and "STRING" in message and "DURATION" in message


def test_lower_case_type_is_refused_with_the_upper_case_name():
    [(_, message)] = problems_of({"id": "n", "type": "int"})
    assert "types are upper case: 'INT'" in message


def test_missing_id_and_missing_type_are_reported():
    problems = problems_of({"type": "INT"}, {"id": "t"})
    assert problems[0] == (0, "input #1 has no 'id'")
    assert problems[1][0] == 1 and "input 't' has no 'type'" in problems[1][1]


@pytest.mark.parametrize("bad_id", ["-x", "_x", ".x", "a b", "naïve", "a/b", ""])
def test_bad_input_id_is_reported(bad_id):
    [(_, message)] = problems_of({"id": bad_id, "type": "STRING"})
    assert f"input id '{bad_id}' is invalid" in message


def test_ids_with_dots_dashes_and_underscores_are_valid():
    assert [d.id for d in definitions({"id": "a.b-c_d", "type": "STRING"}, {"id": "9lives", "type": "INT"})] \
        == ["a.b-c_d", "9lives"]


def test_duplicate_id_is_reported_at_the_second_entry():
    raw = [{"id": "n", "type": "INT"}, {"id": "n", "type": "STRING"}]
    parsed, problems = parse_input_definitions(raw)
    assert problems == [(1, "input 'n' is declared twice")]
    assert [d.type for d in parsed] == ["INT"]


def test_dotted_id_clashing_with_a_plain_id_is_reported():
    [(index, message)] = problems_of({"id": "db", "type": "STRING"}, {"id": "db.host", "type": "STRING"})
    assert index == 1 and "clashes with input 'db'" in message


def test_select_without_values_is_reported():
    [(_, message)] = problems_of({"id": "env", "type": "SELECT"})
    assert message == "input 'env': SELECT inputs need 'values', the list of choices"


def test_select_with_only_an_expression_is_accepted():
    (env,) = definitions({"id": "env", "type": "SELECT", "expression": "{{ kv('envs') }}"})
    assert env.options["expression"] == "{{ kv('envs') }}"


def test_array_without_item_type_is_reported():
    [(_, message)] = problems_of({"id": "xs", "type": "ARRAY"})
    assert message == "input 'xs': ARRAY inputs need an 'itemType', e.g. itemType: STRING"


@pytest.mark.parametrize("item_type", ["ARRAY", "SECRET", "SELECT", "MULTISELECT", "ENUM"])
def test_array_item_type_refuses_what_kestra_refuses(item_type):
    [(_, message)] = problems_of({"id": "xs", "type": "ARRAY", "itemType": item_type})
    assert f"'itemType' cannot be {item_type}" in message


def test_array_item_type_must_be_a_known_type():
    [(_, message)] = problems_of({"id": "xs", "type": "ARRAY", "itemType": "NUMBER"})
    assert "'itemType': unknown type 'NUMBER'" in message


def test_multiselect_with_both_values_and_legacy_options_is_reported():
    [(_, message)] = problems_of({"id": "m", "type": "MULTISELECT", "values": ["a"], "options": ["b"]})
    assert "can't define both `values` and `options`" in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"id": "n", "type": "INT", "defaults": "3.5"}, "'3.5' is not an integer"),
        ({"id": "n", "type": "INT", "defaults": 11, "max": 10}, "'11' is more than the maximum '10'"),
        ({"id": "e", "type": "SELECT", "values": ["a", "b"], "defaults": "c"}, "'c' is not one of: a, b"),
        ({"id": "d", "type": "DURATION", "defaults": "5m"}, "'5m' is not an ISO-8601 duration"),
        ({"id": "t", "type": "DATETIME", "defaults": "2024-01-01T10:00:00"}, "add 'Z' or an offset"),
        ({"id": "j", "type": "JSON", "defaults": "{oops"}, "is not valid JSON"),
    ],
)
def test_defaults_value_that_does_not_parse_is_reported(raw, expected):
    [(_, message)] = problems_of(raw)
    assert message.startswith(f"input '{raw['id']}': its defaults value is invalid: ")
    assert expected in message


def test_defaults_written_as_expressions_are_not_checked_at_load():
    (when,) = definitions({"id": "when", "type": "DATETIME", "defaults": "{{ now() }}"})
    assert when.defaults == "{{ now() }}"


def test_misspelled_property_is_reported_with_a_suggestion():
    [(_, message)] = problems_of({"id": "s", "type": "STRING", "default": "x"})
    assert message == "input 's': unknown property 'default'; did you mean 'defaults'?"


def test_property_of_another_input_type_is_reported():
    [(_, message)] = problems_of({"id": "s", "type": "STRING", "min": 3})
    assert message == "input 's': property 'min' does not apply to STRING inputs"


def test_invalid_validator_regex_is_reported():
    [(_, message)] = problems_of({"id": "s", "type": "STRING", "validator": "([a-z"})
    assert "'validator' is not a valid regular expression" in message


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "n", "type": "INT", "min": "one"},
        {"id": "d", "type": "DURATION", "max": "1 hour"},
        {"id": "t", "type": "DATETIME", "after": "yesterday"},
        {"id": "t", "type": "DATE", "before": "2024-13-01"},
    ],
)
def test_invalid_bound_is_reported(raw):
    [(_, message)] = problems_of(raw)
    assert "is invalid" in message


def test_required_must_be_a_boolean():
    [(_, message)] = problems_of({"id": "s", "type": "STRING", "required": "sometimes"})
    assert "'required' must be true or false" in message


def test_defaults_and_prefill_cannot_be_combined():
    [(_, message)] = problems_of({"id": "s", "type": "STRING", "defaults": "a", "prefill": "b"})
    assert "cannot also have a 'prefill'" in message


def test_depends_on_must_list_input_ids():
    assert problems_of({"id": "s", "type": "STRING", "dependsOn": {"inputs": ["a"], "condition": "{{ true }}"}}) == []
    [(_, message)] = problems_of({"id": "s", "type": "STRING", "dependsOn": "a"})
    assert "'dependsOn' must be a mapping" in message


def test_entry_that_is_not_a_mapping_is_reported():
    assert problems_of("name") == [(0, "input #1 must be a mapping with 'id' and 'type'")]


def test_select_auto_select_first_makes_the_first_value_the_default():
    raw = {"id": "env", "type": "SELECT", "values": ["dev", "prod"], "autoSelectFirst": True}
    assert resolve(raw) == {"env": "dev"}


def test_every_kestra_type_is_known():
    for kind in ("STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "SELECT", "MULTISELECT", "ARRAY", "JSON",
                 "YAML", "DATETIME", "DATE", "TIME", "DURATION", "URI", "FILE", "EMAIL", "SECRET"):
        assert kind in INPUT_TYPES


# ------------------------------------------------------- required and defaults


def test_missing_required_input_without_default_is_refused():
    with pytest.raises(InputError) as info:
        resolve({"id": "n", "type": "INT"})
    assert info.value.input_id == "n"
    assert info.value.message == str(info.value) == "input 'n' is required and has no default"


def test_missing_optional_input_is_none():
    assert resolve({"id": "n", "type": "INT", "required": False}) == {"n": None}


def test_default_is_used_and_typed_when_no_value_is_given():
    assert resolve({"id": "n", "type": "INT", "defaults": "3"}) == {"n": 3}
    assert resolve({"id": "n", "type": "INT", "defaults": 3}, {"n": None}) == {"n": 3}


def test_given_value_overrides_the_default():
    assert resolve({"id": "n", "type": "INT", "defaults": 3}, {"n": "7"}) == {"n": 7}


def test_unknown_provided_input_is_ignored_listing_the_declared_ones():
    # Kestra drops values for undeclared inputs; Roost says so in a WARN line.
    defs = definitions({"id": "a", "type": "STRING", "required": False},
                       {"id": "b", "type": "STRING", "required": False})
    told: list[str] = []
    assert resolve_inputs(defs, {"x": "1"}, store_file=_no_files, on_unknown=told.append) == {
        "a": None, "b": None}
    assert told == ["input 'x' is not declared by the flow and is ignored; the flow declares: a, b"]


def test_unknown_input_for_a_flow_without_inputs_says_so():
    told: list[str] = []
    assert resolve_inputs([], {"x": "1"}, store_file=_no_files, on_unknown=told.append) == {}
    assert told == ["input 'x' is not declared by the flow and is ignored; the flow declares no inputs"]


def test_first_bad_input_is_the_one_named():
    defs = definitions({"id": "a", "type": "INT"}, {"id": "b", "type": "INT"})
    with pytest.raises(InputError) as info:
        resolve_inputs(defs, {"a": "x", "b": "y"}, store_file=_no_files)
    assert info.value.input_id == "a"


def test_dotted_ids_nest_as_in_kestra():
    defs = definitions({"id": "db.host", "type": "STRING"}, {"id": "db.port", "type": "INT"},
                       {"id": "name", "type": "STRING"})
    assert resolve_inputs(defs, {"db.host": "h", "db.port": "5432", "name": "n"}, store_file=_no_files) \
        == {"db": {"host": "h", "port": 5432}, "name": "n"}


def test_expression_default_needs_a_renderer():
    raw = {"id": "day", "type": "DATE", "defaults": "{{ today }}"}
    with pytest.raises(InputError, match="is an expression, which cannot be evaluated here"):
        resolve(raw)
    assert resolve(raw, render=lambda text: "2024-05-01") == {"day": date(2024, 5, 1)}


def test_failing_expression_default_is_an_input_error():
    def broken(text: Any) -> Any:
        raise RuntimeError("no such function")

    with pytest.raises(InputError, match="defaults expression failed: no such function"):
        resolve({"id": "s", "type": "STRING", "defaults": "{{ nope() }}"}, render=broken)


# ------------------------------------------------------------------ each type


def test_string_input_keeps_text_and_writes_typed_values_as_java_would():
    raw = {"id": "s", "type": "STRING"}
    assert value_of(raw, "hello") == "hello"
    assert value_of(raw, "") == ""
    assert value_of(raw, 3) == "3"
    assert value_of(raw, True) == "true"


def test_string_validator_must_match_the_whole_value():
    raw = {"id": "code", "type": "STRING", "validator": "[A-Z]{3}"}
    assert value_of(raw, "ABC") == "ABC"
    assert refusal(raw, "ABCD") == "input 'code': 'ABCD' does not match the pattern `[A-Z]{3}`"


def test_int_input_accepts_digit_strings_and_ints():
    raw = {"id": "n", "type": "INT"}
    assert value_of(raw, "3") == 3
    assert value_of(raw, "-42") == -42
    assert value_of(raw, 7) == 7


def test_int_input_refuses_non_numbers():
    assert refusal({"id": "n", "type": "INT"}, "12x") == "input 'n': '12x' is not an integer"


def test_int_input_refuses_decimal_string():
    message = refusal({"id": "n", "type": "INT"}, "3.5")
    assert "'3.5' is not an integer" in message and "FLOAT" in message
    assert "is not an integer" in refusal({"id": "n", "type": "INT"}, 3.0)


def test_int_input_refuses_booleans_spaces_and_32_bit_overflow():
    raw = {"id": "n", "type": "INT"}
    assert "is not an integer" in refusal(raw, True)
    assert "is not an integer" in refusal(raw, " 3")
    assert "outside the INT range" in refusal(raw, "2147483648")
    assert value_of(raw, "2147483647") == 2**31 - 1


def test_int_min_and_max_are_inclusive():
    raw = {"id": "n", "type": "INT", "min": 1, "max": 10}
    assert value_of(raw, "1") == 1 and value_of(raw, "10") == 10
    assert refusal(raw, "0") == "input 'n': '0' is less than the minimum '1'"
    assert refusal(raw, "11") == "input 'n': '11' is more than the maximum '10'"


def test_float_input_parses_numbers():
    raw = {"id": "x", "type": "FLOAT"}
    assert value_of(raw, "1.5") == 1.5
    assert value_of(raw, "-2e3") == -2000.0
    assert value_of(raw, 2) == 2.0 and isinstance(value_of(raw, 2), float)


def test_float_input_refuses_text_and_non_finite_values():
    raw = {"id": "x", "type": "FLOAT"}
    assert refusal(raw, "abc") == "input 'x': 'abc' is not a number"
    assert "is not a number" in refusal(raw, "nan")
    assert "finite" in refusal(raw, float("inf"))


def test_float_min_and_max():
    raw = {"id": "x", "type": "FLOAT", "min": 0.5, "max": 1.5}
    assert value_of(raw, "1.5") == 1.5
    assert "less than the minimum" in refusal(raw, "0.1")


@pytest.mark.parametrize("kind", ["BOOLEAN", "BOOL"])
def test_boolean_input_takes_true_or_false_in_any_case(kind):
    raw = {"id": "b", "type": kind}
    assert value_of(raw, "true") is True
    assert value_of(raw, "FALSE") is False
    assert value_of(raw, False) is False


@pytest.mark.parametrize("value", ["yes", "1", "0", "", "ture"])
def test_boolean_input_refuses_anything_but_true_or_false(value):
    message = refusal({"id": "b", "type": "BOOLEAN"}, value)
    assert message == f"input 'b': '{value}' is not a boolean; use true or false"


def test_select_input_must_be_one_of_its_values():
    raw = {"id": "env", "type": "SELECT", "values": ["dev", "prod"]}
    assert value_of(raw, "prod") == "prod"
    assert refusal(raw, "qa") == "input 'env': 'qa' is not one of: dev, prod"


def test_select_allow_custom_value_accepts_anything():
    raw = {"id": "env", "type": "SELECT", "values": ["dev"], "allowCustomValue": True}
    assert value_of(raw, "qa") == "qa"


def test_select_values_may_be_label_value_mappings_and_numbers():
    raw = {"id": "env", "type": "SELECT", "values": [{"label": "Production", "value": "123"}, 7]}
    assert value_of(raw, "123") == "123"
    assert value_of(raw, 7) == "7"
    assert "is not one of: 123, 7" in refusal(raw, "Production")


def test_deprecated_enum_input_behaves_like_select():
    raw = {"id": "e", "type": "ENUM", "values": ["a", "b"]}
    assert value_of(raw, "a") == "a"
    assert "is not one of" in refusal(raw, "c")


def test_multiselect_accepts_a_json_list_a_comma_list_or_a_list():
    raw = {"id": "m", "type": "MULTISELECT", "values": ["a", "b", "c"]}
    assert value_of(raw, '["a", "c"]') == ["a", "c"]
    assert value_of(raw, "a, b") == ["a", "b"]
    assert value_of(raw, ["b"]) == ["b"]
    assert value_of(raw, "") == []


def test_multiselect_refuses_an_item_not_in_its_values():
    raw = {"id": "m", "type": "MULTISELECT", "values": ["a", "b"]}
    assert refusal(raw, "a,z") == "input 'm': 'z' is not one of: a, b"


def test_multiselect_legacy_options_and_custom_values():
    assert value_of({"id": "m", "type": "MULTISELECT", "options": ["a"]}, ["a"]) == ["a"]
    raw = {"id": "m", "type": "MULTISELECT", "values": ["a"], "allowCustomValue": True}
    assert value_of(raw, "a,z") == ["a", "z"]


def test_array_input_parses_a_json_array_and_types_its_items():
    raw = {"id": "xs", "type": "ARRAY", "itemType": "INT"}
    assert value_of(raw, "[1, 2, 3]") == [1, 2, 3]
    assert value_of(raw, ["4", 5]) == [4, 5]
    assert value_of({"id": "ds", "type": "ARRAY", "itemType": "DATE"}, '["2024-01-31"]') == [date(2024, 1, 31)]


def test_array_input_names_the_bad_item():
    raw = {"id": "xs", "type": "ARRAY", "itemType": "INT"}
    assert refusal(raw, '[1, "x"]') == "input 'xs': item 2: 'x' is not an integer"


def test_array_input_refuses_text_that_is_not_a_json_array():
    raw = {"id": "xs", "type": "ARRAY", "itemType": "STRING"}
    assert "is not a JSON array" in refusal(raw, "a,b")
    assert "is not a JSON array" in refusal(raw, '{"a": 1}')
    assert "not a valid JSON array" in refusal(raw, "[1,")


def test_json_input_parses_text_and_keeps_structures():
    raw = {"id": "j", "type": "JSON"}
    assert value_of(raw, '{"a": [1, true, null]}') == {"a": [1, True, None]}
    assert value_of(raw, {"k": "v"}) == {"k": "v"}
    assert value_of(raw, "3") == 3


def test_json_input_refuses_invalid_json():
    assert "is not valid JSON" in refusal({"id": "j", "type": "JSON"}, "{a: 1}")
    assert "is not valid JSON" in refusal({"id": "j", "type": "JSON"}, "NaN")


def test_yaml_input_parses_text_with_yaml_1_2_scalars():
    raw = {"id": "y", "type": "YAML"}
    assert value_of(raw, "a: 1\nb: [x, y]\non: yes\nwhen: 2024-01-01") == {
        "a": 1, "b": ["x", "y"], "on": "yes", "when": "2024-01-01"}
    assert value_of(raw, [1, 2]) == [1, 2]


def test_yaml_input_refuses_invalid_yaml():
    assert "is not valid YAML" in refusal({"id": "y", "type": "YAML"}, "a: [1, 2")


def test_datetime_input_is_an_instant_in_utc():
    raw = {"id": "t", "type": "DATETIME"}
    assert value_of(raw, "2024-01-31T10:15:30Z") == datetime(2024, 1, 31, 10, 15, 30, tzinfo=UTC)
    moved = value_of(raw, "2024-01-31T12:15:30.5+02:00")
    assert moved == datetime(2024, 1, 31, 10, 15, 30, 500000, tzinfo=UTC)
    assert moved.utcoffset() == timedelta(0)


def test_datetime_input_refuses_a_naive_date_time_asking_for_a_zone():
    message = refusal({"id": "t", "type": "DATETIME"}, "2024-01-31T10:15:30")
    assert "has no time zone; add 'Z' or an offset" in message


def test_datetime_input_refuses_dates_and_garbage():
    raw = {"id": "t", "type": "DATETIME"}
    assert "is a date without a time" in refusal(raw, "2024-01-31")
    assert "is not an ISO-8601 date-time" in refusal(raw, "tomorrow")
    assert "is not a valid date-time" in refusal(raw, "2024-02-30T00:00:00Z")
    assert "has no time zone" in refusal(raw, datetime(2024, 1, 1))


def test_datetime_input_accepts_an_aware_datetime_object():
    given_value = datetime(2024, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert value_of({"id": "t", "type": "DATETIME"}, given_value) == datetime(2024, 1, 1, tzinfo=UTC)


def test_datetime_after_and_before():
    raw = {"id": "t", "type": "DATETIME", "after": "2024-01-01T00:00:00Z", "before": "2024-12-31T00:00:00Z"}
    assert value_of(raw, "2024-06-01T00:00:00Z").month == 6
    assert "must be after it" in refusal(raw, "2023-06-01T00:00:00Z")
    assert "must be before it" in refusal(raw, "2025-06-01T00:00:00Z")


def test_date_input():
    raw = {"id": "d", "type": "DATE", "after": "2024-01-01"}
    assert value_of(raw, "2024-01-31") == date(2024, 1, 31)
    assert value_of(raw, date(2024, 2, 1)) == date(2024, 2, 1)
    assert "is not a valid date" in refusal(raw, "2024-02-30")
    assert "is not a date such as 2024-01-31" in refusal(raw, "20240131")
    assert "must be after it" in refusal(raw, "2023-12-31")


def test_time_input():
    raw = {"id": "t", "type": "TIME", "before": "18:00"}
    assert value_of(raw, "10:15") == time(10, 15)
    assert value_of(raw, "10:15:30.25") == time(10, 15, 30, 250000)
    assert "is not a valid time" in refusal(raw, "25:00")
    assert "is not a time such as 10:15" in refusal(raw, "10h15")
    assert "must be before it" in refusal(raw, "19:00")


def test_duration_input():
    raw = {"id": "d", "type": "DURATION", "min": "PT1M", "max": "PT1H"}
    assert value_of(raw, "PT5M") == timedelta(minutes=5)
    assert value_of(raw, timedelta(minutes=2)) == timedelta(minutes=2)
    assert refusal(raw, "5m").startswith("input 'd': '5m' is not an ISO-8601 duration")
    assert "less than the minimum 'PT1M'" in refusal(raw, "PT30S")
    assert "more than the maximum 'PT1H'" in refusal(raw, "PT2H")
    assert "is not an ISO-8601 duration" in refusal(raw, 300)


def test_uri_input_follows_kestras_pattern():
    raw = {"id": "u", "type": "URI"}
    assert value_of(raw, "https://example.com/a/b.csv?x=1") == "https://example.com/a/b.csv?x=1"
    assert value_of(raw, "ftp://files.example.org/x") == "ftp://files.example.org/x"
    assert "is not an absolute URI" in refusal(raw, "example.com/data")
    assert "is not an absolute URI" in refusal(raw, "not a uri")
    # Kestra's pattern wants a lowercase-letter scheme and a dotted host: a server refuses these too.
    assert "is not an absolute URI" in refusal(raw, "http://localhost:8080/")
    assert "is not an absolute URI" in refusal(raw, "s3://bucket.example/key")


def test_email_input():
    raw = {"id": "e", "type": "EMAIL"}
    assert value_of(raw, "ada@example.com") == "ada@example.com"
    assert refusal(raw, "ada.example.com") == \
        "input 'e': 'ada.example.com' is not an email address such as ada@example.com"


def test_secret_input_is_text_and_its_value_never_appears_in_errors():
    raw = {"id": "token", "type": "SECRET", "validator": "tok_[a-z]+"}
    assert value_of(raw, "tok_abc") == "tok_abc"
    message = refusal(raw, "hunter2")
    assert "hunter2" not in message and "does not match the pattern" in message


def test_file_input_is_stored_and_becomes_its_storage_uri(tmp_path):
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n")
    storage = tmp_path / "storage"
    stored: list[tuple[str, Path]] = []

    def store_file(input_id: str, path: Path) -> str:
        target = storage / input_id / path.name
        target.parent.mkdir(parents=True)
        shutil.copyfile(path, target)
        stored.append((input_id, path))
        return f"kestra:///inputs/{input_id}/{path.name}"

    defs = definitions({"id": "data", "type": "FILE"})
    result = resolve_inputs(defs, {"data": str(source)}, store_file=store_file)
    assert result == {"data": "kestra:///inputs/data/data.csv"}
    assert stored == [("data", source)]
    assert (storage / "data" / "data.csv").read_text() == "a,b\n1,2\n"


def test_file_input_must_exist_and_be_a_file(tmp_path):
    raw = {"id": "data", "type": "FILE"}
    assert refusal(raw, str(tmp_path / "missing.csv")).endswith("missing.csv' does not exist")
    assert refusal(raw, str(tmp_path)).endswith("' is not a file")


def test_file_input_checks_allowed_extensions(tmp_path):
    source = tmp_path / "notes.txt"
    source.write_text("x")
    defs = definitions({"id": "data", "type": "FILE", "allowedFileExtensions": [".csv"]})
    with pytest.raises(InputError, match="is not an accepted file type"):
        resolve_inputs(defs, {"data": str(source)}, store_file=lambda i, p: f"kestra:///{p.name}")


def test_file_input_keeps_a_value_already_in_storage():
    defs = definitions({"id": "data", "type": "FILE"})
    uri = "kestra:///company/team/flow/executions/x/inputs/data/data.csv"
    assert resolve_inputs(defs, {"data": uri}, store_file=_no_files) == {"data": uri}


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


# ---------------------------------------------------------------- robustness

_EVERY_TYPE = [
    {"id": "s", "type": "STRING", "validator": "[a-z]*"},
    {"id": "i", "type": "INT", "min": 0},
    {"id": "f", "type": "FLOAT", "max": 10},
    {"id": "b", "type": "BOOLEAN"},
    {"id": "sel", "type": "SELECT", "values": ["a", "b"]},
    {"id": "ms", "type": "MULTISELECT", "values": ["a", "b"]},
    {"id": "arr", "type": "ARRAY", "itemType": "DATETIME"},
    {"id": "j", "type": "JSON"},
    {"id": "y", "type": "YAML"},
    {"id": "dt", "type": "DATETIME", "after": "2000-01-01T00:00:00Z"},
    {"id": "d", "type": "DATE"},
    {"id": "t", "type": "TIME"},
    {"id": "dur", "type": "DURATION", "max": "P1D"},
    {"id": "u", "type": "URI"},
    {"id": "file", "type": "FILE"},
    {"id": "e", "type": "EMAIL"},
    {"id": "sec", "type": "SECRET"},
]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_EVERY_TYPE), st.text(max_size=60))
def test_resolve_inputs_only_ever_raises_input_error_for_random_strings(raw, text):
    defs = definitions(raw)
    try:
        resolve_inputs(defs, {raw["id"]: text}, store_file=lambda i, p: f"kestra:///{i}/{p.name}")
    except InputError as error:
        assert error.input_id == raw["id"]
        assert error.message.startswith(f"input '{raw['id']}'")
