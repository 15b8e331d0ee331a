"""A simple, already compiled template rendered again: what most task properties cost.

``{{ taskrun.id }}-5`` through ``TemplateEngine.render_value`` (the executor's entry point:
the translation cache, the sandboxed environment, Kestra's value printing), 20,000 times
after one warm-up render. Baseline in the same run: the same template compiled once by a
plain ``jinja2.Environment`` and its ``render`` called as often. tests/template/test_engine.py
keeps that the second render comes from the cache; the speed is measured here. Exits 1 when
the median of the repeats misses the target.

    .venv/bin/python benchmarks/template_render.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import jinja2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.template import TemplateEngine, TemplateError  # noqa: E402

TEMPLATE = "{{ taskrun.id }}-5"
RUNS = 20_000
TARGET = 50e-6
"""Seconds per render, the bound tests/template/test_engine.py once asserted."""


class NoServices:
    """The executor's template services; this template calls none of them."""

    def secret(self, name: str) -> str:
        raise TemplateError(f"no secret {name} here")

    def read(self, path: str) -> str:
        raise TemplateError(f"no file {path} here")

    def file_size(self, path: str) -> int:
        raise TemplateError(f"no file {path} here")

    def file_exists(self, path: str) -> bool:
        return False


def variables() -> dict[str, Any]:
    return {"flow": {"id": "hello", "namespace": "company.team"}, "execution": {"id": "exec1"},
            "task": {"id": "t1"}, "taskrun": {"id": "run1", "value": None}, "inputs": {},
            "outputs": {}, "vars": {}, "labels": {}}


def per_call_roost() -> float:
    engine, context, services = TemplateEngine(), variables(), NoServices()
    assert engine.render_value(TEMPLATE, context, services) == "run1-5"
    started = time.perf_counter()
    for _ in range(RUNS):
        engine.render_value(TEMPLATE, context, services)
    return (time.perf_counter() - started) / RUNS


def per_call_jinja() -> float:
    template, context = jinja2.Environment().from_string(TEMPLATE), variables()
    assert template.render(context) == "run1-5"
    started = time.perf_counter()
    for _ in range(RUNS):
        template.render(context)
    return (time.perf_counter() - started) / RUNS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    roost = statistics.median(per_call_roost() for _ in range(args.repeat))
    jinja = statistics.median(per_call_jinja() for _ in range(args.repeat))
    met = roost < TARGET
    print(f"cached render of {TEMPLATE!r}, median of {args.repeat} x {RUNS:,}:")
    print(f"  TemplateEngine.render_value : {roost * 1e6:6.1f} µs per render  "
          f"(target < {TARGET * 1e6:.0f} µs: {'met' if met else 'MISSED'})")
    print(f"  plain jinja2 Template.render: {jinja * 1e6:6.1f} µs per render (baseline, same run)")
    print(f"  ratio Roost / Jinja: {roost / jinja:.2f}x")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
