"""Pebble tags and template structure: if, for, set, filter, raw, verbatim, comments, trims."""

from __future__ import annotations

from tests.template import error_of, render


def test_if_elseif_else():
    template = "{% if inputs.count > 5 %}big{% elseif inputs.count > 1 %}medium{% else %}small{% endif %}"
    assert render(template) == "medium"


def test_if_accepts_rendered_boolean_strings():
    assert render("{% if 'false' %}yes{% else %}no{% endif %}") == "no"
    assert render("{% if 'true' %}yes{% endif %}") == "yes"


def test_for_loop_index_is_zero_based_as_in_pebble():
    template = "{% for x in ['a', 'b'] %}{{ loop.index }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}"
    assert render(template) == "0:a,1:b"
    assert render("{% for x in [1, 2, 3] %}{{ loop.length }}{% endfor %}") == "333"
    assert render("{% for x in [1, 2] %}{{ loop.first }}{% endfor %}") == "truefalse"


def test_unknown_loop_attribute_lists_the_known_ones():
    assert error_of("{% for x in [1] %}{{ loop.cycle }}{% endfor %}") == \
        "'cycle' is not defined: 'loop' has no attribute 'cycle' (it has index, first, last, length, revindex)"


def test_for_over_a_map_gives_entries():
    template = "{% for e in {'a': 1, 'b': 2} %}{{ e.key }}={{ e.value }};{% endfor %}"
    assert render(template) == "a=1;b=2;"


def test_for_else_renders_when_empty():
    assert render("{% for x in [] %}{{ x }}{% else %}none{% endfor %}") == "none"
    assert render("{% for x in inputs.n %}{{ x }}{% else %}none{% endfor %}") == "none"


def test_set_defines_a_variable():
    assert render("{% set greeting = 'Hi ' ~ inputs.name %}{{ greeting }}!") == "Hi Kestra!"


def test_set_inside_a_loop_updates_the_outer_variable_as_in_pebble():
    template = "{% set total = 0 %}{% for x in [1, 2, 3] %}{% set total = total + x %}{% endfor %}{{ total }}"
    assert render(template) == "6"


def test_set_may_shadow_a_context_variable_from_that_point_on():
    assert render("{{ inputs.name }}-{% set inputs = {'name': 'other'} %}{{ inputs.name }}") == "Kestra-other"


def test_lone_comment_opener_in_plain_text_is_not_a_template():
    assert render("echo ${#array[@]}") == "echo ${#array[@]}"


def test_filter_tag_filters_its_body():
    assert render("{% filter upper %}hello {{ inputs.name }}{% endfilter %}") == "HELLO KESTRA"


def test_raw_block_is_output_untouched():
    assert render("{% raw %}{{ inputs.name }} {% if %}{% endraw %}") == "{{ inputs.name }} {% if %}"
    assert render("a{% verbatim %}{{ x ?? y }}{% endverbatim %}b") == "a{{ x ?? y }}b"


def test_comments_are_dropped():
    assert render("a{# a comment with {{ braces }} #}b") == "ab"


def test_whitespace_control_trims_next_to_dashes():
    assert render("a   {{- inputs.name -}}   b") == "aKestrab"
    assert render("line\n  {%- if true %}x{% endif -%}\n  end") == "linexend"


def test_text_and_newlines_are_kept_exactly():
    assert render("a\n{{ inputs.name }}\n") == "a\nKestra\n"
    assert render("{ not a tag } {{ inputs.count }}") == "{ not a tag } 3"
    assert render("{{ '{' }}{{ inputs.count }}") == "{3"


def test_map_literal_closing_braces_before_the_tag_end():
    assert render("{{ {'a': {'b': 1}}}}") == '{"a":{"b":1}}'


def test_unclosed_blocks_and_stray_tags_are_errors_with_lines():
    assert error_of("one\n{% if true %}x") == "syntax error at line 2: '{% if %}' is never closed with '{% endif %}'"
    assert error_of("{% endfor %}") == "syntax error at line 1: '{% endfor %}' without a matching '{% for %}'"
    assert "unknown tag 'foo'" in error_of("{% foo %}")


def test_tags_kestra_removed_are_reported():
    assert error_of("{% include 'x' %}") == "syntax error at line 1: '{% include %}' is not available in Kestra templates"
    assert "not supported" in error_of("{% macro m() %}{% endmacro %}")
