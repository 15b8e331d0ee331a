"""Hooks told when a thread is about to block waiting for a task's process.

Why: the history writer builds its rows in Python, holding the GIL. Started by its batch timer
while the executor is busy between two tasks, it takes the GIL when the executor releases it
for `posix_spawn`, and the executor, back from the spawn, waits for it. Told when the executor
blocks on the process it just started (the ~0.7 ms a `sh -c true` lives), the writer runs
then instead: a paired 0.976 of the whole-process wall time of 1,000 shell tasks.

The hooks must be quick and never raise: they run on the executor's thread, once a process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["on_process_wait", "process_wait_begins"]

_hooks: tuple[Callable[[], None], ...] = ()
_lock = threading.Lock()


def on_process_wait(hook: Callable[[], None]) -> Callable[[], None]:
    """Call ``hook`` each time a thread starts waiting for a task's process; returns the undo."""
    global _hooks
    with _lock:
        _hooks = (*_hooks, hook)

    def remove() -> None:
        global _hooks
        with _lock:
            _hooks = tuple(h for h in _hooks if h is not hook)

    return remove


def process_wait_begins() -> None:
    """A task's process is started and this thread now blocks until it ends (or writes)."""
    for hook in _hooks:  # a tuple, replaced whole: read without the lock
        hook()
