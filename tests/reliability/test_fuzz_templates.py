"""Random Pebble expressions: the renderer answers text or a TemplateError, and runaways stop.

Expressions are built from Pebble's grammar (literals, variables, operators, every
filter, function and test Roost knows, tags) with random arguments, and from
random text around `{{ }}`. No Python exception other than TemplateError may leave
`render_string`, no Python object may be printed (`<function ...>`, `object at 0x`),
and a runaway template stops at one of the renderer's limits, saying which.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.template import TemplateError
from engine.template.filters import FILTERS
from engine.template.functions import FUNCTION_NAMES
from engine.template.is_tests import TESTS
from tests.reliability import cases
from tests.template import ENGINE, FakeServices, context

TEMPLATES = pytest.mark.reliability("Bad input: random Pebble expressions",
                                    "text or a TemplateError with a message; no leak of Python objects")

FUZZ = settings(max_examples=int(os.environ.get("ROOST_FUZZ_EXAMPLES", "300")) * 2, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Functions whose result changes per call or that sleep on the network are fine to call;
# `jq` programs come from a list, since jq itself can be asked to loop forever (as in Kestra).
JQ_PROGRAMS = [".", ".a", ".[0]", "map(.+1)", "keys", ".[] | .x", "length", "{a: 1}", "[.[]?]", "invalid(("]
VARIABLES = ["inputs", "inputs.name", "inputs.count", "inputs.n", "inputs.missing", "outputs", "flow.id",
             "flow", "execution.startDate", "execution", "taskrun.value", "task.id", "vars", "labels",
             "envs", "globals", "nothing", "nothing.deeper", "inputs['name']", "loop", "_self", "self",
             "inputs.name.length", "inputs[0]", "outputs.t1.value", "parent", "range"]

scalar_literals = st.one_of(
    st.integers(-2**40, 2**40).map(str),
    st.sampled_from(["0", "-0", "1.5", "1e3", "9999999999999999999999", "0.1", "-7", "3.14e-10"]),
    st.text(max_size=12).map(lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(["true", "false", "null", "none", "[]", "{}", "'2024-01-31T10:15:30Z'", "'PT1H'",
                     "'{\"a\": [1, 2]}'", "'a,b,c'", "'kestra:///x'"]),
)


def arguments(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    small = st.one_of(inner, st.integers(-3, 200).map(str), st.sampled_from(["10000000", "-99999999"]))
    return st.one_of(st.just(""), st.lists(small, min_size=1, max_size=3).map(lambda a: "(" + ", ".join(a) + ")"))


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "~", "==", "!=", "<", ">", "<=", ">=",
                                          "and", "or", "in", "contains", "..", "??", "equals"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["not ", "-", "+"]), inner).map("".join),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(inner, st.sampled_from(sorted(FILTERS)), arguments(inner))
        .map(lambda t: f"{t[0]} | {t[1]}{t[2]}"),
        st.tuples(st.sampled_from(sorted(FUNCTION_NAMES)), arguments(inner)).map(lambda t: f"{t[0]}{t[1] or '()'}"),
        st.tuples(inner, st.sampled_from(["", "not "]), st.sampled_from(sorted(TESTS)))
        .map(lambda t: f"({t[0]} is {t[1]}{t[2]})"),
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(scalar_literals, inner), max_size=3)
        .map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
        st.tuples(inner, st.one_of(inner, st.sampled_from(["name", "0", "'key'", "-1"])))
        .map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, st.sampled_from(["name", "length", "__class__", "keys", "items", "value"]))
        .map(lambda t: f"{t[0]}.{t[1]}"),
        st.sampled_from(JQ_PROGRAMS).map(lambda p: f"inputs | jq('{p}')"),
    )


expressions = st.recursive(st.one_of(scalar_literals, st.sampled_from(VARIABLES)), _compound, max_leaves=12)


def templates() -> st.SearchStrategy[str]:
    expr = expressions
    return st.one_of(
        expr.map(lambda e: "{{ " + e + " }}"),
        st.tuples(expr, st.text(max_size=5), st.text(max_size=5))
        .map(lambda t: "{% if " + t[0] + " %}" + t[1] + "{% else %}" + t[2] + "{% endif %}"),
        expr.map(lambda e: "{% for x in " + e + " %}{{ x }},{% else %}none{% endfor %}"),
        expr.map(lambda e: "{% set y = " + e + " %}{{ y }}"),
        expr.map(lambda e: "{% filter upper %}{{ " + e + " }}{% endfilter %}"),
        st.lists(st.one_of(st.text(max_size=10), st.sampled_from(
            ["{{", "}}", "{%", "%}", "{#", "#}", "|", "(", ")", "'", "\"", "..", " endif ", " for ", " in "]),
            expr), max_size=12).map("".join),
    )


def render(template: str) -> str | None:
    cases.count()
    try:
        text = ENGINE.render_string(template, context(inputs={"name": "Kestra", "n": None, "count": 3,
                                                              "list": [1, "a", None], "map": {"k": [1]}}),
                                    FakeServices())
    except TemplateError as exc:
        assert exc.message and exc.message.strip()
        for internal in ("Traceback", "Undefined", "jinja", "fn__", " object at 0x"):
            assert internal not in exc.message, f"{template!r}: {exc.message}"
        return None
    assert isinstance(text, str)
    for python_leak in (" object at 0x", "<function ", "<built-in", "<class '", "<bound method"):
        assert python_leak not in text, f"{template!r} printed a Python object: {text[:200]!r}"
    return text


@TEMPLATES
@FUZZ
@given(templates())
def test_random_templates_render_or_fail_with_a_message(template):
    render(template)


@TEMPLATES
@FUZZ
@given(st.text(alphabet=st.sampled_from(list("{}%#|()[]'\".~?:,=<>!+-*/ aixn01")), max_size=60))
def test_random_brace_soup_renders_or_fails_with_a_message(template):
    render(template)


@TEMPLATES
@pytest.mark.timeout(60)  # a renderer without its limits would loop for hours: cut off here
@pytest.mark.parametrize(("template", "answer"), [
    ("{% for a in range(0, 99999) %}{% for b in range(0, 99999) %}{% endfor %}{% endfor %}",
     "the template's loops run more than 5000000 times in all"),
    ("{% for a in range(0, 99999) %}{{ range(0, 99999) | join }}{% endfor %}",
     "the template's loops run more than 5000000 times in all"),
    ("{% set s = 'ab' %}{% for i in range(0, 80) %}{% set s = s ~ s %}{% endfor %}{{ s | length }}",
     "a text built by the template exceeds 67108864 characters"),
    ("{% set n = 2 %}{% for i in range(0, 64) %}{% set n = n * n %}{% endfor %}{{ n }}",
     "'*' makes a number too large to compute"),
    ("{{ range(0, 10000000000) }}", "a range may hold at most 100000 items, this one has 10000000001"),
    ("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", "the expression is nested too deeply"),
    ("{{ " + "[" * 5000 + "]" * 5000 + " }}", "the expression is nested too deeply"),
    ("{{ render(render(render(render(render(render(render(render(render(render(render('x'))))))))))) }}",
     "x"),
    ("{{ 'x' | indent(10000000000) | length }}",
     "the 'indent' filter would build a text of more than 67108864 characters"),
    ("{{ range(0, 99999) | join | replace('', range(0, 99999) | join) | length }}",
     "the 'replace' filter would build a text of more than 67108864 characters"),
], ids=["nested-loops", "loop-of-joins", "doubling-text", "squaring-number", "huge-range",
        "deep-parentheses", "deep-lists", "nested-render", "huge-indent", "huge-replace"])
def test_runaway_templates_stop_at_a_limit_with_a_message(template, answer):
    """Each runaway meets one of the renderer's limits (counts and sizes, not a clock) and
    says which; the one that is no runaway (render nested 11 deep) renders."""
    cases.count()
    try:
        text = ENGINE.render_string(template, context(), FakeServices())
    except TemplateError as exc:
        assert answer in exc.message, exc.message
        assert "Traceback" not in exc.message
        return
    assert text == answer
