"""The history writer's inbox: events in from any thread, whole batches out, bounded in lines.

Why not a `queue.Queue` read item by item: the writer would wake for every event (three to five per
task run, a million for a million log lines). Here it blocks for the first item, waits out a
short window counted from that item's arrival (under a flood the window has long passed, so
it never sleeps then), and takes everything at once; or at once when EAGER_ITEMS events wait,
so under a burst of short task runs it writes while they run instead of all at the flush. The
bound counts log lines, not events: a batch of 9,000 lines weighs 9,000, so a flooding task
waits for the writer instead of the backlog growing by hundreds of megabytes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

__all__ = ["WriteQueue"]


class WriteQueue:
    """Items with a weight (log lines; 1 for any other event); control items weigh nothing."""

    EAGER_ITEMS = 256

    def __init__(self, max_lines: int, window_seconds: float, *, until_idle: bool = False,
                 idle_grace_seconds: float | None = None) -> None:
        self._max = max_lines
        self._window = window_seconds
        # With `until_idle`, a window that has passed is waited out a little longer (one more
        # window, or `idle_grace_seconds`, at most) for `idle()`: the writer then runs while
        # the executor is blocked on a task's process.
        self._idle_grace = (window_seconds if idle_grace_seconds is None else idle_grace_seconds) \
            if until_idle else 0.0
        self._waiting_for_idle = False
        self._idle = False
        self._items: deque[Any] = deque()
        self._lines = 0
        self._writing = 0
        self._first_at = 0.0
        self._urgent = False
        self._ready = threading.Condition()

    def put(self, item: Any, lines: int = 1) -> None:
        """Add ``item``; blocks while ``max_lines`` lines already wait (the writer drains them)."""
        with self._ready:
            while self._lines >= self._max:
                self._ready.notify_all()  # the writer takes them now, window or not
                self._ready.wait()
            if not self._items:
                self._first_at = time.monotonic()
                self._ready.notify_all()
            self._items.append(item)
            if len(self._items) == self.EAGER_ITEMS:
                self._ready.notify_all()
            self._lines += lines

    def put_urgent(self, item: Any) -> None:
        """Add a control item (a flush's waiter, the stop mark): the writer takes it at once."""
        with self._ready:
            self._items.append(item)
            self._urgent = True
            self._ready.notify_all()

    def take(self) -> list[Any]:
        """Everything queued, oldest first, once the first item's window has passed (at once
        for an urgent item or a full backlog) and, with `until_idle`, at the first `idle()`
        after that or a window later. Blocks while nothing is queued."""
        with self._ready:
            while not self._items:
                self._ready.wait()
            deadline = self._first_at + self._window
            latest = deadline + self._idle_grace
            self._idle = False
            while not self._urgent and self._lines < self._max and len(self._items) < self.EAGER_ITEMS:
                now = time.monotonic()
                if now >= latest or (now >= deadline and self._idle):
                    break
                self._waiting_for_idle = now >= deadline
                self._ready.wait((latest if self._waiting_for_idle else deadline) - now)
            self._waiting_for_idle = False
            batch = list(self._items)
            self._items.clear()
            self._writing, self._lines = self._lines, 0
            self._urgent = False
            self._ready.notify_all()  # producers held by the bound go on
            return batch

    def idle(self) -> None:
        """The executor blocks now: a writer waiting for that goes (cheap when none waits)."""
        if self._waiting_for_idle:
            with self._ready:
                self._idle = True
                self._ready.notify_all()

    @property
    def waiting_for_idle(self) -> bool:
        """Whether the writer's window has passed and it waits for `idle()` (or one more window)."""
        return self._waiting_for_idle

    def written(self) -> None:
        """The batch last taken is written."""
        with self._ready:
            self._writing = 0

    @property
    def backlog(self) -> int:
        """Lines (and other events) waiting for the writer, the batch being written not
        counted: at most about ``max_lines``, as a bounded queue's size would be."""
        return self._lines

    @property
    def writing(self) -> int:
        """Lines (and other events) of the batch being written now."""
        return self._writing
