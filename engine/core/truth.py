"""Kestra's truthiness for rendered conditions (runIf, If): false only for a few spellings."""

from __future__ import annotations

from typing import Any

_FALSY = {"false", "0", "-0", ""}


def is_truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in _FALSY
