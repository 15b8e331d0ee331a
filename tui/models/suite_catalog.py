"""The test suites found under the workbench's PATH (Kestra's TestSuite YAML), by flow.

Suites are read when the Tests pane first needs them and again when files under PATH change
(or a suite is recorded); selecting another flow only filters what is already read. A suite
that does not load is kept as its errors (file:line:col), so the pane can say why its cases
are missing instead of silently dropping them; one that loads is checked against the flow it
tests (a fixture or an assertion naming a task the flow lacks, an unknown input).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine_port import (
    FlowError,
    InvalidFlowError,
    TestSuite,
    check_against_flow,
    discover_suites,
    load_suite,
)
from tui.models.flow_catalog import display_path

if TYPE_CHECKING:
    from tui.engine_port import Flow

__all__ = ["SuiteCatalog", "SuiteFile"]


@dataclass(frozen=True)
class SuiteFile:
    """One suite file: the suite it holds, and its mistakes (``suite`` None: it does not
    load; else what does not fit the flow, so its cases must not run)."""

    path: Path
    suite: TestSuite | None = None
    errors: tuple[FlowError, ...] = ()
    flow_key: str = ""
    """``namespace.flowId`` the suite tests (read from the text when it does not load)."""


class SuiteCatalog:
    """Every suite file under a folder, read on :meth:`scan`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()
        self.files: dict[Path, SuiteFile] = {}
        self.scanned = False

    def scan(self) -> None:
        """Find and read every suite file (blocking I/O: small files, read once per change)."""
        files: dict[Path, SuiteFile] = {}
        paths = discover_suites([self.folder]) if self.folder.is_dir() else []
        for path in paths:
            path = path.absolute()
            files[path] = _read(path)
        self.files = files
        self.scanned = True

    def ensure_scanned(self) -> None:
        if not self.scanned:
            self.scan()

    def knows(self, path: Path) -> bool:
        return path.absolute() in self.files

    def for_flow(self, flow_key: str, flow: Flow | None = None) -> list[SuiteFile]:
        """The suites of one flow (``namespace.id``), in path order, checked against ``flow``
        when it is given."""
        found = [f for _path, f in sorted(self.files.items()) if f.flow_key == flow_key]
        if flow is None:
            return found
        return [_checked(f, flow) for f in found]


def _checked(suite_file: SuiteFile, flow: Flow) -> SuiteFile:
    if suite_file.suite is None:
        return suite_file
    errors = check_against_flow(suite_file.suite, flow)
    if not errors:
        return suite_file
    return dataclasses.replace(suite_file, errors=_shown(suite_file.path, errors))


def _shown(path: Path, errors: list[FlowError] | tuple[FlowError, ...]) -> tuple[FlowError, ...]:
    """Errors naming the file the way the user typed it (as the flow list does)."""
    shown = display_path(path)
    return tuple(FlowError(shown, e.line, e.column, e.message) if e.path == str(path) else e
                 for e in errors)


def _read(path: Path) -> SuiteFile:
    try:
        suite = load_suite(path)
    except InvalidFlowError as exc:
        return SuiteFile(path, None, _shown(path, exc.errors), _declared_flow_key(path))
    return SuiteFile(path, suite, (), suite.flow_key)


def _declared_flow_key(path: Path) -> str:
    """``namespace.flowId`` of a suite that does not load, read with a regex."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    found: dict[str, str] = {}
    for key in ("namespace", "flowId"):
        match = re.search(rf"^{key}[ \t]*:[ \t]*['\"]?([\w.-]+)", text, re.MULTILINE)
        if match:
            found[key] = match.group(1)
    return f"{found['namespace']}.{found['flowId']}" if len(found) == 2 else ""
