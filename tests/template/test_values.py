"""How values print: Kestra's JSON for maps and lists, Java numbers, booleans, null, dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.template import render


@pytest.mark.parametrize(("value", "expected"), [
    ([1, 2, 3], "[1,2,3]"),
    ({"k": "v"}, '{"k":"v"}'),
    ({"a": [1, {"b": None}], "c": "é"}, '{"a":[1,{"b":null}],"c":"é"}'),
    (True, "true"),
    (False, "false"),
    (None, ""),
    (3, "3"),
    (3.0, "3.0"),
    (0.93, "0.93"),
    (1.5, "1.5"),
    (1e7, "1.0E7"),
    (0.0001, "1.0E-4"),
    (-2.5, "-2.5"),
    (12345678.9, "1.23456789E7"),
    ("text", "text"),
])
def test_values_print_like_kestra(value, expected):
    assert render("{{ inputs.v }}", inputs={"v": value}) == expected


def test_datetimes_print_as_iso_instants():
    assert render("{{ execution.startDate }}") == "2024-01-02T03:04:05.123Z"
    exact = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert render("{{ inputs.d }}", inputs={"d": exact}) == "2024-01-02T03:04:05Z"
    micros = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    assert render("{{ inputs.d }}", inputs={"d": micros}) == "2024-01-02T03:04:05.123456Z"
    paris = dt.datetime(2024, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert render("{{ inputs.d }}", inputs={"d": paris}) == "2024-07-01T12:00:00+02:00"


def test_datetimes_inside_maps_print_as_iso_strings():
    assert render("{{ execution }}") == '{"id":"exec1","startDate":"2024-01-02T03:04:05.123Z","originalId":"exec1"}'


def test_arithmetic_results_keep_their_java_type():
    assert render("{{ 1.5 * 2 }}") == "3.0"
    assert render("{{ 3 * 2 }}") == "6"


def test_render_value_keeps_shapes_and_renders_keys():
    rendered = render({"{{ inputs.name }}": ["{{ inputs.count }}", 7, None, True, {"n": "x{{ 1 + 1 }}"}]})
    assert rendered == {"Kestra": ["3", 7, None, True, {"n": "x2"}]}


def test_plain_strings_come_back_unchanged():
    text = "no template { here } %"
    assert render(text) is text
