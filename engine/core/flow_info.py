"""What a running task may know of its flow: identity and where its file is.

Tasks used to hold the whole `Flow` (and through it every task definition); they only
ever read these three fields, and a frozen value keeps them from reaching further.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowInfo:
    """The flow a task runs in, as tasks see it."""

    id: str
    namespace: str
    path: str = ""
    """The flow file ('' for a flow given as text): namespace files are looked up beside it."""
