"""Helpers shared by the template tests: a Kestra-shaped context and fake services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.template import TemplateEngine, TemplateError

ENGINE = TemplateEngine()
START = dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=dt.UTC)


class FakeServices:
    """secret() and read() backed by dicts; raise TemplateError like the executor's services."""

    def __init__(self, secrets: dict[str, str] | None = None, files: dict[str, str] | None = None) -> None:
        self.secrets = secrets or {"API_KEY": "s3cr3t"}
        self.files = files or {"data/hello.txt": "hello from a file\n"}

    def secret(self, name: str) -> str:
        if name not in self.secrets:
            raise TemplateError(f"secret '{name}' is not defined")
        return self.secrets[name]

    def read(self, path: str) -> str:
        if path not in self.files:
            raise TemplateError(f"cannot read '{path}': No such file or directory")
        return self.files[path]

    def file_size(self, path: str) -> int:
        return len(self.read(path).encode())

    def file_exists(self, path: str) -> bool:
        return path in self.files


def context(**overrides: Any) -> dict[str, Any]:
    """Variables shaped like the executor's: flow, execution, taskrun, inputs, outputs, ..."""
    variables: dict[str, Any] = {
        "flow": {"id": "hello", "namespace": "company.team", "revision": 1},
        "execution": {"id": "exec1", "startDate": START, "originalId": "exec1"},
        "task": {"id": "t1", "type": "io.kestra.plugin.core.log.Log"},
        "taskrun": {"id": "run1", "startDate": START, "attemptsCount": 1, "value": None},
        "inputs": {"name": "Kestra", "n": None, "count": 3},
        "outputs": {},
        "vars": {},
        "labels": {},
        "envs": {},
        "globals": {},
    }
    variables.update(overrides)
    return variables


def render(template: Any, services: FakeServices | None = None, **overrides: Any) -> Any:
    return ENGINE.render_value(template, context(**overrides), services or FakeServices())


def error_of(template: str, services: FakeServices | None = None, **overrides: Any) -> str:
    """The TemplateError message a template gives (the test fails if it renders)."""
    try:
        result = ENGINE.render_value(template, context(**overrides), services or FakeServices())
    except TemplateError as exc:
        return exc.message
    raise AssertionError(f"{template!r} rendered {result!r} instead of failing")
