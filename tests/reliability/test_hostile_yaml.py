"""Hostile YAML: alias bombs and numbers too long to convert are refused when the flow loads,
with the file, line and column, before anything can grow (issue: reliability, items 1 and 2).

`roost validate` and `roost run` run as real processes under a 1 GiB address-space limit:
a loader that expanded the bomb would die of MemoryError (a traceback, exit 1) instead of
answering exit 2 with the position.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.reliability.conftest import assert_no_traceback, roost, roost_env

HOSTILE_YAML = pytest.mark.reliability(
    "Bad input: hostile YAML",
    "alias bombs under variables, labels, input defaults and a task property; 5000-digit integers")

MEMORY_LIMIT = 1024 * 1024 * 1024


def _bomb(depth: int = 9) -> str:
    """Anchors nested `depth` deep, ten aliases a level: 10^(depth+1) values once expanded."""
    lines = ['  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"  a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, depth + 1)]
    return "\n".join(lines)


def _flow_with_bomb_under(where: str) -> tuple[str, int, int]:
    """A flow whose bomb sits under `where`; returns the text and the line and column of the
    alias that stands for the most values (the one the error must name)."""
    log_task = "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: {message}\n"
    head = "id: bomb\nnamespace: reliability.yaml\n"
    if where == "message":
        anchors = "variables:\n" + _bomb() + "\n"
        text = head + anchors + "tasks:\n" + log_task.format(message="*a9")
        line = text.count("\n", 0, text.index("*a9\n")) + 1
        return text, line, len("    message: ") + 1
    if where == "labels":
        text = head + "labels:\n" + _bomb() + "\ntasks:\n" + log_task.format(message="hi")
    elif where == "defaults":
        text = (head + "inputs:\n  - id: big\n    type: JSON\n    defaults:\n"
                + "\n".join("    " + line for line in _bomb().splitlines())
                + "\ntasks:\n" + log_task.format(message="hi"))
    else:
        text = head + "variables:\n" + _bomb() + "\ntasks:\n" + log_task.format(message="hi")
    alias_line = next(i for i, line in enumerate(text.splitlines(), 1) if "a9: &a9" in line)
    column = text.splitlines()[alias_line - 1].index("*a8") + 1
    return text, alias_line, column


def _limited_roost(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    result = subprocess.run([sys.executable, "-m", "tui.launcher", *args], capture_output=True, text=True,
                            env=roost_env(home), cwd=REPO_ROOT, timeout=120, preexec_fn=limit_memory)
    assert_no_traceback(result.stderr)
    return result


@HOSTILE_YAML
@pytest.mark.parametrize("where", ["variables", "labels", "defaults", "message"])
def test_an_alias_bomb_is_refused_at_load_with_the_alias_position(where, home, flows):
    text, line, column = _flow_with_bomb_under(where)
    flow = flows / f"bomb_{where}.yml"
    flow.write_text(text)
    for command in (("validate", str(flow)), ("run", str(flow))):
        result = _limited_roost(*command, home=home)
        assert result.returncode == 2, result.stderr
        assert f"{flow}:{line}:{column}: YAML aliases expand this document to more than 100,000 values" \
            in result.stderr
        assert "refused as an alias bomb" in result.stderr


@HOSTILE_YAML
def test_aliases_a_real_flow_uses_still_load(home, flows):
    flow = flows / "anchors.yml"
    flow.write_text(
        "id: anchors\nnamespace: reliability.yaml\n"
        "variables:\n  common: &common {retries: 3, region: eu-west-1, tags: [a, b, c]}\n"
        "  first: *common\n  second: *common\n"
        "tasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: \"{{ vars.second.region }} {{ vars.first.tags | length }}\"\n")
    result = roost("run", str(flow), home=home)
    assert result.returncode == 0, result.stderr
    assert "eu-west-1 3" in result.stderr


@HOSTILE_YAML
def test_a_5000_digit_integer_is_a_flow_error_with_its_position(home, flows):
    flow = flows / "huge_number.yml"
    flow.write_text("id: huge\nnamespace: reliability.yaml\ntasks:\n  - id: hello\n"
                    "    type: io.kestra.plugin.core.log.Log\n    message: " + "9" * 5000 + "\n")
    result = roost("validate", str(flow), home=home)
    assert result.returncode == 2, result.stderr
    assert (f"{flow}:6:14: this integer has 5,000 digits, over the 4,300 a number may have: "
            "quote it to keep it as text") in result.stderr


@HOSTILE_YAML
def test_a_quoted_5000_digit_number_is_text(home, flows):
    flow = flows / "quoted_number.yml"
    flow.write_text("id: quoted\nnamespace: reliability.yaml\ntasks:\n  - id: hello\n"
                    "    type: io.kestra.plugin.core.log.Log\n    message: \"" + "9" * 5000 + "\"\n")
    result = roost("run", str(flow), home=home)
    assert result.returncode == 0, result.stderr
    assert "9" * 5000 in result.stderr


@HOSTILE_YAML
def test_a_template_that_prints_more_than_the_text_limit_fails_its_task_not_the_process(home, flows):
    flow = flows / "wide.yml"
    # A 33-million-character text (each concatenation stays under the bound), printed 5 times.
    flow.write_text("id: wide\nnamespace: reliability.yaml\ntasks:\n  - id: wide\n"
                    "    type: io.kestra.plugin.core.log.Log\n"
                    "    message: \"{% set s = 'xxxxxxxxxxxxxxxx' %}{% for i in range(1, 21) %}"
                    "{% set s = s ~ s %}{% endfor %}{% for i in range(1, 5) %}{{ s }}{% endfor %}\"\n")
    result = roost("run", str(flow), home=home, timeout=120)
    assert result.returncode == 1, result.stderr
    assert ("task 'wide' property 'message': the rendered value has 167,772,160 characters, "
            "more than the 67,108,864 a property may hold") in result.stderr
