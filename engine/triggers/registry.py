"""Trigger types by their Kestra type names, legacy aliases included.

Modules are imported when a flow uses their type, so validating a flow with one S3
trigger does not pay for the scheduler, cron or webhook code.
"""

from __future__ import annotations

import difflib
import importlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.triggers.base import Trigger

# Canonical name first in each row; the others are Kestra's legacy aliases.
_MODULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("engine.triggers.s3", "S3Trigger", ("io.kestra.plugin.aws.s3.Trigger",)),
    ("engine.triggers.schedule", "ScheduleTrigger",
     ("io.kestra.plugin.core.trigger.Schedule", "io.kestra.core.models.triggers.types.Schedule")),
    ("engine.triggers.schedule_on_dates", "ScheduleOnDatesTrigger",
     ("io.kestra.plugin.core.trigger.ScheduleOnDates",)),
    ("engine.triggers.local_files", "LocalFilesTrigger", ("io.kestra.plugin.fs.local.Trigger",)),
    ("engine.triggers.webhook", "WebhookTrigger",
     ("io.kestra.plugin.core.trigger.Webhook", "io.kestra.core.models.triggers.types.Webhook")),
    ("engine.triggers.http_trigger", "HttpTrigger",
     ("io.kestra.plugin.core.http.Trigger", "io.kestra.plugin.fs.http.Trigger")),
    ("engine.triggers.flow_trigger", "FlowTrigger",
     ("io.kestra.plugin.core.trigger.Flow", "io.kestra.core.models.triggers.types.Flow")),
)
_BY_TYPE = {name: (module, cls) for module, cls, names in _MODULES for name in names}
SUPPORTED_TYPES = tuple(_BY_TYPE)
CANONICAL_TYPES = tuple(names[0] for _m, _c, names in _MODULES)
# A Java class name: Kestra plugins Roost does not run (Flow trigger, Kafka...) still load.
_CLASS_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.[A-Z][A-Za-z0-9_]*$")


def trigger_class(type_name: str) -> type[Trigger] | None:
    entry = _BY_TYPE.get(type_name)
    if entry is None:
        return None
    cls: type[Trigger] = getattr(importlib.import_module(entry[0]), entry[1])
    return cls


def unknown_type_problem(type_name: str) -> str | None:
    """Why a type Roost does not run is an error: a typo of one it runs, or no class name.

    Other well-formed Kestra types (io.kestra.plugin.core.trigger.Flow, a Kafka trigger)
    are left to the server: the flow loads and `roost triggers` says it does not run them.
    """
    typos = [name for name in SUPPORTED_TYPES if _looks_like_typo(name.lower(), type_name.lower())]
    short = [name for name in CANONICAL_TYPES if name.rsplit(".", 1)[-1].lower() == type_name.lower()]
    suggestions = list(dict.fromkeys([*typos, *short]))
    if suggestions:
        return f"unknown trigger type '{type_name}'; did you mean {' or '.join(suggestions)}?"
    if type_name.startswith(("io.kestra.plugin.core.", "io.kestra.core.")):  # Roost has them all
        return (f"unknown trigger type '{type_name}': Roost knows every core trigger "
                f"({', '.join(n for n in CANONICAL_TYPES if n.startswith('io.kestra.plugin.core.'))})")
    if not _CLASS_NAME.match(type_name):
        close = difflib.get_close_matches(type_name, SUPPORTED_TYPES, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else (
            ": a type is a Kestra class name such as io.kestra.plugin.core.trigger.Schedule")
        return f"unknown trigger type '{type_name}'{hint}"
    return None


def _looks_like_typo(known: str, name: str) -> bool:
    """Two letters off at most, and a short segment only one (aws.sqs is not aws.s3)."""
    if _distance(known, name) > 2:
        return False
    known_parts, parts = known.split("."), name.split(".")
    if len(known_parts) != len(parts):
        return True
    return all(_distance(a, b) <= (1 if min(len(a), len(b)) <= 4 else 2)
               for a, b in zip(known_parts, parts, strict=True) if a != b)


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (the names are short and few)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]
