"""Kestra's template functions: `secret()`, `read()`, `now()`, `render()`, `fromJson()`, ...

Templates call them as `fn__<name>(...)` (the translator adds the prefix, so a
context variable can never shadow a function). Functions that need the running
execution (`secret`, `read`, `fileSize`, `render`, `printContext`, ...) find it in
the `RenderState` the engine puts in the render context; the engine's services
raise `TemplateError` themselves when a secret or a file is missing.
"""

from __future__ import annotations

import json
import random
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import yaml as yaml_module
from jinja2 import pass_context
from jinja2.runtime import Context

from engine.template import dates
from engine.template.errors import TemplateError
from engine.template.functions_kestra import (
    KESTRA_CONTEXT_FUNCTIONS,
    KESTRA_PLAIN_FUNCTIONS,
    error_logs,
)
from engine.template.lookups import MissingValueError
from engine.template.operators import inclusive_range
from engine.template.services import TemplateServices
from engine.template.values import describe_type, fail_if_undefined, is_number, to_json

#: How deep `render()` may call itself (directly or through rendered text).
MAX_RENDER_DEPTH = 10
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class RenderState:
    """What functions need from the render in progress."""

    services: TemplateServices
    context: dict[str, Any]
    depth: int
    render: Callable[[str, dict[str, Any], TemplateServices, int], str]


def _state(context: Context) -> RenderState:
    state = context.get("fn__state")
    if not isinstance(state, RenderState):
        raise TemplateError("this function needs a running execution")
    return state


def _text_argument(value: Any, function: str, argument: str) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"{function}() expects {argument} as a string, got {describe_type(value)}")
    return value


def secret(context: Context, key: Any = None) -> Any:
    return _state(context).services.secret(_text_argument(key, "secret", "the secret name"))


def read(context: Context, path: Any = None) -> Any:
    return _state(context).services.read(_text_argument(path, "read", "a path"))


def file_size(context: Context, path: Any = None) -> Any:
    return _state(context).services.file_size(_text_argument(path, "fileSize", "a path"))


def file_exists(context: Context, path: Any = None) -> Any:
    return _state(context).services.file_exists(_text_argument(path, "fileExists", "a path"))


def kv(context: Context, key: Any = None, namespace: Any = None, errorOnMissing: Any = False) -> Any:
    """Kestra's KvFunction: `kv('key')`, `kv('key', 'ns', true)`, `kv(key=..., namespace=...)`."""
    if key is None:
        raise TemplateError("The 'kv' function expects an argument 'key'.")
    name = _text_argument(key, "kv", "the key")
    space = None if namespace is None else _text_argument(namespace, "kv", "the namespace")
    return _state(context).services.kv(name, space, errorOnMissing is True)


def is_file_empty(context: Context, path: Any = None) -> bool:
    return bool(file_size(context, path) == 0)


def from_json(value: Any = None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(_text_argument(value, "fromJson", "a JSON string"))
    except ValueError as exc:
        raise TemplateError(f"fromJson(): the text is not valid JSON ({exc})") from None


def from_yaml(value: Any = None) -> Any:
    if value is None:
        return None
    try:
        return yaml_module.safe_load(_text_argument(value, "yaml", "a YAML string"))
    except yaml_module.YAMLError as exc:
        raise TemplateError(f"yaml(): the text is not valid YAML ({str(exc).splitlines()[0]})") from None


def render(context: Context, toRender: Any = None, recursive: Any = True) -> Any:
    """Render a string again against the same variables (until stable when `recursive`)."""
    state = _state(context)
    if not isinstance(toRender, str):
        return toRender
    variables = _variables(context)
    text = toRender
    for _ in range(MAX_RENDER_DEPTH):
        rendered = state.render(text, variables, state.services, state.depth + 1)
        if recursive is not True or rendered == text or ("{{" not in rendered and "{%" not in rendered):
            return rendered
        text = rendered
    return text


def render_once(context: Context, toRender: Any = None) -> Any:
    return render(context, toRender, recursive=False)


def _variables(context: Context) -> dict[str, Any]:
    return {k: v for k, v in context.get_all().items() if not k.startswith("fn__")}


def print_context(context: Context) -> str:
    """The render context as JSON; secrets never are in it (they come from `secret()`)."""
    return to_json(_variables(context))


def current_each_output(context: Context, output: Any = None) -> Any:
    """`outputs.task` narrowed to the current ForEach iteration (and its parents')."""
    values = [p.get("taskrun", {}).get("value") for p in reversed(context.get("parents") or [])
              if isinstance(p, dict)]
    taskrun = context.get("taskrun")
    values.append(taskrun.get("value") if isinstance(taskrun, dict) else None)
    current = output
    for value in values:
        if isinstance(current, dict) and value in current:
            current = current[value]
    return current


def uuid() -> str:
    return str(uuid_module.uuid4())


def short_id() -> str:
    number, text = uuid_module.uuid4().int, ""
    while number:
        number, digit = divmod(number, 62)
        text = _BASE62[digit] + text
    return text


def random_int(lower: Any = None, upper: Any = None) -> int:
    if not (is_number(lower) and is_number(upper)):
        raise TemplateError("randomInt() expects two numbers, e.g. randomInt(1, 10)")
    if upper < lower:
        raise TemplateError("randomInt(): upper is less than lower")
    return int(random.random() * (upper - lower)) + int(lower)


def random_port() -> int:
    return random.randint(10_000, 60_000)


def _extreme(pick: Callable[..., Any], name: str) -> Callable[..., Any]:
    def extreme(*values: Any) -> Any:
        items = values[0] if len(values) == 1 and isinstance(values[0], list | tuple) else values
        if not items:
            raise TemplateError(f"{name}() needs at least one value")
        try:
            return pick(items)
        except TypeError:
            raise TemplateError(f"{name}() cannot compare values of different kinds") from None

    return extreme


def _strict(name: str, function: Callable[..., Any], needs_context: bool) -> Callable[..., Any]:
    """A function that refuses missing arguments and reports Python errors as TemplateErrors."""

    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        for argument in (*(args[1:] if needs_context else args), *kwargs.values()):
            fail_if_undefined(argument)
        try:
            return function(*args, **kwargs)
        except (TemplateError, MissingValueError):
            raise
        except TypeError as exc:
            message = str(exc).split("() ", 1)[-1]
            raise TemplateError(f"{name}() was called wrongly: {message}") from None
        except Exception as exc:
            raise TemplateError(f"{name}() failed: {exc}") from None

    return pass_context(run) if needs_context else run


_CONTEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "secret": secret, "read": read, "fileSize": file_size, "fileExists": file_exists,
    "isFileEmpty": is_file_empty, "fileEmpty": is_file_empty, "render": render, "kv": kv,
    "renderOnce": render_once, "printContext": print_context, "fetchContext": print_context,
    "currentEachOutput": current_each_output,
    "errorLogs": lambda context: error_logs(_state(context).services),  # the task's own logs
    **KESTRA_CONTEXT_FUNCTIONS,
}
_PLAIN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "now": dates.now, "fromJson": from_json, "json": from_json, "jsonDecode": from_json,
    "yaml": from_yaml, "uuid": uuid, "id": short_id, "randomInt": random_int,
    "randomPort": random_port, "range": inclusive_range, "max": _extreme(max, "max"),
    "min": _extreme(min, "min"), **KESTRA_PLAIN_FUNCTIONS,
}

#: Every function, under the `fn__` name the translated templates call.
FUNCTION_GLOBALS: dict[str, Callable[..., Any]] = {
    **{f"fn__{name}": _strict(name, f, True) for name, f in _CONTEXT_FUNCTIONS.items()},
    **{f"fn__{name}": _strict(name, f, False) for name, f in _PLAIN_FUNCTIONS.items()},
}
FUNCTION_NAMES = frozenset([*_CONTEXT_FUNCTIONS, *_PLAIN_FUNCTIONS])

#: Kestra functions Roost does not provide, with the reason given to the user.
UNSUPPORTED_FUNCTIONS = {
    name: f"the function '{name}()' needs a Kestra server and is not available in Roost"
    for name in ("http", "encrypt", "decrypt", "ionDecode", "tasksWithState", "subflowOutputs",
                 "iterationOutput", "iterationOutputs", "loopOutputs", "parentOutput", "fake", "isPublicHoliday")
}
UNSUPPORTED_FUNCTIONS.update({
    name: f"the function '{name}()' belongs to Pebble blocks and macros, which Roost does not support"
    for name in ("block", "parent", "i18n")
})
