"""A task of a Kestra plugin Roost does not implement: the flow still loads, a run needs a mock.

Kestra flows use hundreds of plugins; refusing a whole flow because one task talks to Slack
or Snowflake would leave most real flows unopenable. Such a task keeps its type and its
properties as written, but Roost knows nothing of the plugin's schema, so the properties are
not checked (a misspelt one is not caught here) and, for a flowable plugin, the tasks it
nests are not built either. Running it needs a stand-in (roost.toml ``[[mocks]]``, ``roost
run --mock``, a TestSuite fixture, or the workbench's pause before it); without one it fails
with a message that says how to give one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import TaskFailure
from engine.tasks import registry
from engine.tasks.base import Task, TaskResult
from engine.tasks.context import TaskContext

PLUGIN_PREFIX = "io.kestra."
CORE_PREFIXES = ("io.kestra.plugin.core.", "io.kestra.core.")
"""Every task type under these is known to Roost: an unknown one there is a mistake."""


def mock_hint(task_id: str) -> str:
    """How to give a task a stand-in, the same words wherever Roost says it."""
    return (f"mock it in roost.toml ([[mocks]] task = \"{task_id}\" with an outputs table) or "
            f"with `roost run --mock {task_id}='{{\"key\": \"value\"}}'`")


def unavailable_notice(type_name: str, kind: str = "tasks") -> str:
    """The one line `roost validate` prints per type it cannot run."""
    if kind == "triggers":
        return (f"{type_name} is not available in Roost: triggers of this type do not fire "
                "locally (start the flow with `roost run`)")
    return (f"{type_name} is not available in Roost: tasks of this type need a mock to run "
            "(roost.toml [[mocks]], --mock)")


def unknown_type_problem(type_name: str) -> str | None:
    """Why a type the registry lacks is an error, or None for a plugin to load unavailable.

    Errors: a name outside ``io.kestra.`` (not a Kestra class), any name under the core
    packages (Roost has every core type, so it is a typo: Kestra's own invalid-task flows
    rely on that), and a name so close to a known one (same package and a class name one
    or two letters off, or the same class in a package one or two letters off) that it is
    a typo rather than another plugin.
    """
    close = registry.suggest(type_name)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    if not type_name.startswith(PLUGIN_PREFIX) or type_name.startswith(CORE_PREFIXES):
        return f"unknown task type '{type_name}'{hint}"
    typos = typo_of(type_name)
    if typos:
        return f"unknown task type '{type_name}'; did you mean {' or '.join(typos)}?"
    return None


def typo_of(type_name: str) -> list[str]:
    """Known task types `type_name` looks like a misspelling of (current names only)."""
    package, _, short = type_name.lower().rpartition(".")
    found: list[str] = []
    for name in registry.known_type_names():
        known_package, _, known_short = name.lower().rpartition(".")
        same_package_close = known_package == package and _close_class(short, known_short)
        same_class_close = known_short == short and _distance(known_package, package) <= 2
        if same_package_close or same_class_close:
            canonical = registry.canonical_name(name)
            if canonical not in found:
                found.append(canonical)
    return found[:3]


def _close_class(short: str, known: str) -> bool:
    """One or two letters off, but not a plural (Download / Downloads are two plugins)."""
    if short.rstrip("s") == known.rstrip("s") and short != known:
        return False
    return _distance(short, known) <= (1 if min(len(short), len(known)) <= 4 else 2)


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (names are short)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _holds_tasks(value: Any) -> bool:
    """A list of maps with a `type`: what a flowable plugin's task list looks like."""
    return (isinstance(value, list) and bool(value)
            and all(isinstance(item, dict) and "type" in item for item in value))


@dataclass(kw_only=True, eq=False)
class UnavailableTask(Task):
    """A task whose type Roost does not run: its raw properties, kept as written, unchecked.

    Never registered (TYPES is empty): the task builder makes one when the registry has no
    class for a plugin type. `canonical_type` is then the type as written.
    """

    properties: dict[str, Any] = field(default_factory=dict)
    """Every property besides the ones all tasks share (id, type, runIf, retry...), raw."""

    def nested_task_properties(self) -> list[str]:
        """Properties that look like task lists (a flowable plugin): their tasks are not built."""
        names = [name for name, value in self.properties.items() if _holds_tasks(value)]
        names += [name for name, value in self.properties.items()
                  if isinstance(value, dict) and value and all(_holds_tasks(v) for v in value.values())]
        return names

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        return iter(())

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any] | TaskResult:
        raise TaskFailure(
            f"task '{self.id}': {self.type} is not available in Roost, so it cannot run here; "
            f"{mock_hint(self.id)}")
