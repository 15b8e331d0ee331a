"""Flows parse with libyaml where PyYAML has it, and load exactly as the pure-Python loader
loads them: the same values, the same line and column for every key, value and item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.core import yaml_source
from engine.core.yaml_source import YamlList, YamlMap, load_yaml
from tests.conftest import REPO_ROOT

SAMPLE_FLOWS = sorted((REPO_ROOT / "sample_flows").rglob("*.yml"))


def _pure_python(text: str) -> Any:
    loader = yaml_source._PositionLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _shape(value: Any) -> Any:
    """Values with their types and every position, comparable with ==."""
    if isinstance(value, YamlMap):
        return ("map", value.position, [(k, value.key_positions[k], value.value_positions[k], _shape(v))
                                        for k, v in value.items()])
    if isinstance(value, YamlList):
        return ("list", value.position, value.item_positions, [_shape(v) for v in value])
    return (type(value).__name__, value)


@pytest.mark.skipif(not yaml_source.LIBYAML, reason="PyYAML without libyaml")
@pytest.mark.parametrize("path", SAMPLE_FLOWS, ids=lambda p: p.name)
def test_libyaml_loads_each_sample_flow_as_the_pure_python_loader_does(path: Path):
    text = path.read_text(encoding="utf-8")
    fast = yaml_source._load_with_libyaml(text)
    assert fast is not yaml_source._FALLBACK
    assert _shape(fast) == _shape(_pure_python(text))


def test_without_libyaml_flows_load_with_the_pure_python_loader(monkeypatch):
    monkeypatch.setattr(yaml_source, "LIBYAML", False)
    loaded = load_yaml("id: hello\ntasks:\n  - id: a\n    type: x\n", "hello.yml")
    assert loaded["tasks"][0]["id"] == "a"
    assert loaded["tasks"].position_of(0) == yaml_source.Position(3, 5)


_UNUSUAL = {
    "explicit tags": "id: t\nn: !!str 12\nf: !!float 1\nb: !!binary aGk=\nlist: !!seq [1, 2]\n",
    "merge keys without aliases": "id: t\nm:\n  <<: {a: 1, b: 2}\n  b: 3\n",
    "scalars of every kind": "i: 0x1F\nf: 1.5e3\ninf: .inf\nb: TRUE\nn: ~\nyes: on\nd: 2026-12-02\nq: '007'\n",
    "non-string keys": "1: one\ntrue: yes\n~: nothing\n[a, b]: list key\n",
    "flow styles nested": "tasks: [{id: a, type: x, commands: [\"echo {{ x }}\", 'b']}, {id: b}]\n",
    "block scalars": "script: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
}


@pytest.mark.skipif(not yaml_source.LIBYAML, reason="PyYAML without libyaml")
@pytest.mark.parametrize("text", _UNUSUAL.values(), ids=_UNUSUAL.keys())
def test_the_direct_walk_of_a_document_without_aliases_builds_what_the_pure_python_loader_builds(text: str):
    fast = yaml_source._load_with_libyaml(text)
    assert fast is not yaml_source._FALLBACK
    assert _shape(fast) == _shape(_pure_python(text))


@pytest.mark.parametrize(("text", "message"), [
    ("id: a\nid: b\n", "duplicate"),
    ("message: {{ x }}\n", "quote"),
    ("n: " + "9" * 5000 + "\n", "digits"),
])
def test_the_direct_walk_refuses_what_the_generic_constructor_refuses_with_the_same_message(text: str, message: str):
    with pytest.raises(Exception) as refused:
        load_yaml(text, "f.yml")
    assert message in str(refused.value).lower()
