"""The flows found under the workbench's PATH, re-parsed as their files change.

A flow file that stops validating keeps its *last good* flow (the tree stays on screen) next to
the current errors (shown in the banner and in Source), as a developer expects while editing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.engine_port import (
    FlowError,
    InvalidFlowError,
    discover_flow_files,
    is_test_suite_file,
    load_flow_text,
)

if TYPE_CHECKING:
    from tui.engine_port import Flow

__all__ = [
    "FlowCatalog", "FlowEntry", "ReloadKind", "ReloadResult", "display_path", "is_flow_file",
    "is_yaml_file",
]

FLOW_SUFFIXES = (".yml", ".yaml")


def display_path(path: Path) -> str:
    """A path as errors show it: relative to the current folder when under it (shorter, and
    what a user types), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def is_flow_file(root: Path, path: Path) -> bool:
    """Whether ``path`` (under ``root``) is where flows live, by the engine's discovery rules
    (a test suite is YAML too, but not a flow: the Tests pane lists it)."""
    return is_yaml_file(root, path) and not is_test_suite_file(path)


def is_yaml_file(root: Path, path: Path) -> bool:
    """Whether ``path`` (under ``root``) is a YAML file discovery looks at: a flow or a suite."""
    if path.suffix not in FLOW_SUFFIXES:
        return False
    if root.is_file():
        return path == root
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    return not any(part.startswith(".") for part in parts) and "namespaces" not in parts[:-1]


@dataclass
class FlowEntry:
    """One flow file: its last good flow, its current errors and text."""

    path: Path
    flow: Flow | None = None
    errors: list[FlowError] = field(default_factory=list)
    text: str = ""
    unexpected: str | None = None
    """A loader crash (a Roost bug), shown as an error rather than a traceback."""

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def key(self) -> str:
        """namespace.id of the last good flow, else the file path (unique either way)."""
        return self.flow.key if self.flow is not None else str(self.path)

    @property
    def namespace(self) -> str:
        if self.flow is not None:
            return self.flow.namespace
        return _declared(self.text, "namespace") or "?"

    @property
    def flow_id(self) -> str:
        if self.flow is not None:
            return self.flow.id
        return _declared(self.text, "id") or self.path.stem

    @property
    def first_error(self) -> FlowError | None:
        return self.errors[0] if self.errors else None

    @property
    def stale(self) -> bool:
        """The tree shown is the last good flow, not what the file says now."""
        return bool(self.errors) and self.flow is not None


def _declared(text: str, key: str) -> str | None:
    """``id:``/``namespace:`` read with a regex, to list a flow that does not parse."""
    match = re.search(rf"^{key}:[ \t]*['\"]?([\w.-]+)", text, re.MULTILINE)
    return match.group(1) if match else None


class ReloadKind(Enum):
    ADDED = "added"
    CHANGED = "changed"
    DELETED = "deleted"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ReloadResult:
    kind: ReloadKind
    entry: FlowEntry


class FlowCatalog:
    """Every flow file under ``root`` (a folder or one file), in path order."""

    def __init__(self, root: Path, plugin_defaults: tuple[dict[str, Any], ...] = ()) -> None:
        self.root = root.absolute()
        self.plugin_defaults = plugin_defaults
        self.entries: dict[Path, FlowEntry] = {}
        self._unparsed: list[Path] = []

    @property
    def folder(self) -> Path:
        return self.root if self.root.is_dir() else self.root.parent

    def scan(self, *, first_only: bool = False) -> list[FlowEntry]:
        """Discover and load every flow file. ``first_only``: parse only the first in list
        order (the one the first paint shows), read the others' text and list them by the
        ``id:`` and ``namespace:`` it declares; :meth:`load_rest` parses them."""
        self.entries = {}
        self._unparsed = []
        paths = self.files_on_disk()
        for path in paths:
            self.entries[path] = self._load(path, None, parse=not first_only)
        if first_only and paths:
            first = self.sorted_entries()[0].path
            self.entries[first] = self._load(first, None)
            self._unparsed = [path for path in paths if path != first]
        return self.sorted_entries()

    def files_on_disk(self) -> list[Path]:
        """The flow files under ``root`` now (absolute), whether loaded or not."""
        return [path.absolute() for path in discover_flow_files(self.root)] if self.root.exists() else []

    def load_rest(self, count: int | None = None, *, prefer: Path | None = None) -> bool:
        """Parse (up to ``count`` of) what ``scan(first_only=True)`` left unparsed, ``prefer``
        first (the flow the user just selected); True while some remain."""
        if prefer is not None and (prefer := prefer.absolute()) in self._unparsed:
            self._unparsed.remove(prefer)
            self._unparsed.insert(0, prefer)
        todo = self._unparsed if count is None else self._unparsed[:count]
        self._unparsed = self._unparsed[len(todo):]
        for path in todo:
            entry = self.entries.get(path)
            if entry is not None and entry.flow is None and not entry.errors:
                self.entries[path] = self._load(path, None)
        return bool(self._unparsed)

    def unparsed(self, path: Path) -> bool:
        """Whether ``scan(first_only=True)`` left this file for :meth:`load_rest`."""
        return path.absolute() in self._unparsed

    def sorted_entries(self) -> list[FlowEntry]:
        return sorted(self.entries.values(), key=lambda e: (e.namespace, e.flow_id, str(e.path)))

    def get(self, path: Path) -> FlowEntry | None:
        return self.entries.get(path.absolute())

    def by_key(self, key: str) -> FlowEntry | None:
        return next((e for e in self.entries.values() if e.key == key), None)

    def reload(self, path: Path) -> ReloadResult:
        """Re-read one file after a change on disk."""
        path = path.absolute()
        previous = self.entries.get(path)
        if not path.is_file() or is_test_suite_file(path):  # gone, or now a test suite
            if previous is None:
                return ReloadResult(ReloadKind.UNCHANGED, FlowEntry(path))
            del self.entries[path]
            return ReloadResult(ReloadKind.DELETED, previous)
        entry = self._load(path, previous)
        self.entries[path] = entry
        if previous is None:
            return ReloadResult(ReloadKind.ADDED, entry)
        if previous.text == entry.text and previous.errors == entry.errors:
            return ReloadResult(ReloadKind.UNCHANGED, entry)
        return ReloadResult(ReloadKind.CHANGED, entry)

    def _load(self, path: Path, previous: FlowEntry | None, *, parse: bool = True) -> FlowEntry:
        last_good = previous.flow if previous is not None else None
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            error = FlowError(display_path(path), 1, 1, f"file is not UTF-8 text ({exc.reason})")
            return FlowEntry(path, last_good, [error], "")
        except OSError as exc:
            error = FlowError(display_path(path), 1, 1, f"cannot read file: {exc.strerror}")
            return FlowEntry(path, last_good, [error], "")
        if not parse:
            return FlowEntry(path, last_good, [], text)
        try:
            flow = load_flow_text(text, str(path), self.plugin_defaults)
        except InvalidFlowError as exc:
            # The flow keeps its absolute path (the engine finds namespace files from it);
            # errors show the path the way the user typed it.
            shown = display_path(path)
            errors = [dataclasses.replace(e, path=shown) if e.path == str(path) else e
                      for e in exc.errors]
            return FlowEntry(path, last_good, errors, text)
        except Exception as exc:  # a loader bug must not take the workbench down
            error = FlowError(display_path(path), 1, 1, f"internal error while loading: {exc!r}")
            return FlowEntry(path, last_good, [error], text, unexpected=repr(exc))
        return FlowEntry(path, flow, [], text)
