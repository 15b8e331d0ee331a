"""Attribute and subscript lookups with Pebble's rules, and the undefined placeholder.

Pebble reads `a.b` and `a['b']` the same way: a map key, a list index, nothing
else. Roost does the same instead of Jinja's Python attribute access, which has two
effects: `outputs.vals.values` reads the key `values` (not the dict method), and no
template can reach a Python attribute at all, so the classic sandbox escapes
(`''.__class__.__mro__`, `self.__init__.__globals__`) are refused up front.

A missing value does not fail at once: it becomes a `PebbleUndefined` that
remembers which container lacked which key, so `??`, `is defined` and `default`
can still catch it, and anything else that uses it raises a `MissingValueError`
the engine turns into "variable 'inputs.nme' is not defined: ...".
"""

from __future__ import annotations

from functools import partial
from typing import Any

from jinja2 import StrictUndefined
from jinja2.exceptions import UndefinedError
from jinja2.runtime import LoopContext
from jinja2.utils import missing

from engine.template.errors import TemplateError

#: Marks a lookup that failed at the top level (the variable itself is missing).
ROOT = object()

#: Names that are never read from a value, whatever the value is.
UNSAFE_NAMES = frozenset({
    "mro", "format", "format_map", "func_globals", "func_code", "func_closure",
    "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_globals",
    "f_locals", "f_builtins", "f_back", "tb_frame", "tb_next", "im_func", "im_self",
    "self", "globals", "builtins", "subclasses", "register", "alters_data",
})

#: Pebble's loop variable: `loop.index` is zero-based there, one-based in Jinja.
_LOOP_ATTRIBUTES = {
    "index": "index0", "revindex": "revindex0", "first": "first", "last": "last",
    "length": "length", "index0": "index0", "revindex0": "revindex0", "depth": "depth0",
}


class MissingValueError(UndefinedError):
    """A missing value was used; `container` lacked `keys[0]` (ROOT: no such variable)."""

    def __init__(self, message: str | None = None, *, container: Any = ROOT,
                 keys: tuple[Any, ...] = ()) -> None:
        super().__init__(message or "a value is not defined")
        self.container = container
        self.keys = keys


class PebbleUndefined(StrictUndefined):
    """A missing value that fails as soon as it is used, keeping the path that led to it."""

    __slots__ = ("_container", "_keys")

    def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                 exc: Any = None, *, container: Any = ROOT, keys: tuple[Any, ...] = ()) -> None:
        if not keys and name is not None:
            keys = (name,)
        # Jinja raises `exc(message)`; the partial makes that our error, carrying the path.
        error = partial(MissingValueError, container=container, keys=keys)
        super().__init__(hint, obj, name, error)  # type: ignore[arg-type]
        self._container = container
        self._keys = keys

    def chain(self, key: Any) -> PebbleUndefined:
        """The placeholder for `this[key]`: still missing, with a longer path."""
        return PebbleUndefined(container=self._container, keys=(*self._keys, key))

    @property
    def missing_keys(self) -> tuple[Any, ...]:
        return self._keys

    @property
    def container(self) -> Any:
        return self._container


def refuse(name: str) -> TemplateError:
    """The error for reading a Python internal from a template."""
    return TemplateError(f"'{name}' is not allowed in a template")


def _is_dunder_or_unsafe(key: Any) -> bool:
    return isinstance(key, str) and (key.startswith("__") or key in UNSAFE_NAMES)


def _is_private(key: Any) -> bool:
    return isinstance(key, str) and (key.startswith("_") or key in UNSAFE_NAMES)


def lookup(obj: Any, key: Any) -> Any:
    """`obj.key` / `obj[key]` with Pebble's rules; a `PebbleUndefined` when absent."""
    if isinstance(key, PebbleUndefined):  # `a[missing]`: it is the key that is not defined
        return key
    if isinstance(obj, dict):
        try:
            return obj[key]
        except KeyError:
            if isinstance(key, int) and not isinstance(key, bool) and str(key) in obj:
                return obj[str(key)]
        except TypeError:
            raise TemplateError(f"a map key cannot be {_kind(key)}") from None
        if _is_dunder_or_unsafe(key):
            raise refuse(key)
        return PebbleUndefined(container=obj, keys=(key,))
    if isinstance(obj, list | tuple):
        index = _as_index(key)
        if index is not None and 0 <= index < len(obj):
            return obj[index]
        if _is_private(key):
            raise refuse(key)
        return PebbleUndefined(container=obj, keys=(key,))
    if isinstance(obj, PebbleUndefined):
        if _is_private(key):
            raise refuse(key)
        return obj.chain(key)
    if isinstance(obj, LoopContext) and key in _LOOP_ATTRIBUTES:
        return getattr(obj, _LOOP_ATTRIBUTES[key])
    if _is_private(key):
        raise refuse(key)
    return PebbleUndefined(container=obj, keys=(key,))


def _as_index(key: Any) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, float) and key.is_integer():
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    return None


def _kind(value: Any) -> str:
    from engine.template.values import describe_type

    return describe_type(value)
