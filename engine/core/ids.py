"""Kestra-style short ids: a random UUID in base62 (22 characters)."""

from __future__ import annotations

import os
import threading

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]   # two base62 digits at a time
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)              # what uuid.uuid4() sets
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_POOL_BYTES = 16 * 256
_pool = b""
_pool_at = _POOL_BYTES
_pool_lock = threading.Lock()


def _random_16() -> bytes:
    """16 bytes from the OS's random source, read 4 KiB at a time: one `getrandom` per 256 ids
    instead of one per id (each syscall also hands the GIL to the history writer)."""
    global _pool, _pool_at
    with _pool_lock:
        if _pool_at >= _POOL_BYTES:
            _pool, _pool_at = os.urandom(_POOL_BYTES), 0
        start = _pool_at
        _pool_at += 16
        return _pool[start:start + 16]


def _forget_pool() -> None:
    """A forked child must not hand out the ids its parent will."""
    global _pool_at, _pool_lock
    _pool_at, _pool_lock = _POOL_BYTES, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def new_id() -> str:
    """A random version-4 UUID as 22 base62 digits; built without a `uuid.UUID` object and two
    digits per division (it is made for every task run)."""
    number = (int.from_bytes(_random_16(), "big") & _VERSION_MASK) | _VERSION_4
    chunks = []
    while number:
        number, pair = divmod(number, 3844)
        chunks.append(_PAIRS[pair])
    return "".join(reversed(chunks)).lstrip("0").rjust(22, "0")
