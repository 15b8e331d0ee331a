"""The sandbox: known Jinja SSTI payloads are refused before anything runs."""

from __future__ import annotations

import pytest

from tests.template import ENGINE, FakeServices, context, error_of, render


@pytest.mark.parametrize(("payload", "refused"), [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "__class__"),
    ("{{ self.__init__.__globals__ }}", "self"),
    ("{{ self }}", "self"),
    ("{{ cycler.__init__.__globals__.os }}", "__init__"),
    ("{{ joiner.__init__.__globals__ }}", "__init__"),
    ("{{ namespace.__init__.__globals__ }}", "__init__"),
    ("{{ lipsum.__globals__ }}", "__globals__"),
    ("{{ inputs.__dict__ }}", "__dict__"),
    ("{{ x.__dict__ }}", "__dict__"),
    ("{{ inputs['__class__'] }}", "__class__"),
    ("{{ inputs.name['__class__'] }}", "__class__"),
    ("{{ inputs.name.mro }}", "mro"),
    ("{{ inputs.name.format }}", "format"),
    ("{{ '{0.__class__}'.format(inputs) }}", "format"),
    ("{{ inputs.name.func_globals }}", "func_globals"),
    ("{{ 'a' | attr('__class__') }}", "attr"),
    ("{{ [].__class__.__base__ }}", "__class__"),
    ("{{ {}.__class__ }}", "__class__"),
    ("{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}", "__class__"),
    ("{% set x = inputs.__init__ %}", "__init__"),
])
def test_python_internals_are_not_allowed(payload, refused):
    message = error_of(payload)
    assert refused in message
    assert "not allowed in a template" in message


def test_dynamic_subscripts_to_internals_are_refused_at_render_time():
    assert error_of("{{ inputs.name[inputs.key] }}", inputs={"name": "x", "key": "__class__"}) \
        == "'__class__' is not allowed in a template"
    assert error_of("{{ inputs.name['_private'] }}") == "'_private' is not allowed in a template"


@pytest.mark.parametrize("name", ["request", "config", "range", "dict", "cycler", "joiner", "namespace", "lipsum"])
def test_jinja_and_flask_globals_do_not_exist(name):
    assert error_of("{{ " + name + " }}") == f"variable '{name}' is not defined"


def test_values_expose_no_methods():
    assert "has no attribute 'upper'" in error_of("{{ inputs.name.upper }}")
    assert "not supported" in error_of("{{ inputs.name.upper() }}")
    assert "has no item 'append'" in error_of("{{ inputs.l.append }}", inputs={"l": [1]})


def test_map_keys_starting_with_an_underscore_are_data():
    assert render("{{ row._id }}", row={"_id": 42}) == "42"


def test_jinja_only_filters_and_tests_are_absent():
    assert "is not allowed in a template" in error_of("{{ inputs | map('upper') }}")
    assert "unknown test 'callable'" in error_of("{{ inputs is callable }}")


def test_reserved_helper_names_cannot_be_reached():
    assert error_of("{{ fn__secret('API_KEY') }}") == "syntax error at line 1: unknown function 'fn__secret'"
    assert "reserved" in error_of("{{ fn__state }}")


def test_evaluate_is_sandboxed_too():
    from engine.template import TemplateError

    with pytest.raises(TemplateError, match="not allowed in a template"):
        ENGINE.evaluate("''.__class__", context(), FakeServices())
