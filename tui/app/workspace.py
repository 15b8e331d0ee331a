"""What the workbench opened: PATH's flows, the engine session behind them, the breakpoints,
and the user's switches. No widgets here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine_port import UsageError
from tui.models.breakpoints import BreakpointStore
from tui.models.flow_catalog import FlowCatalog, FlowEntry

if TYPE_CHECKING:
    from tui.app.session import WorkbenchSession
    from tui.engine_port import Flow, RoostHome, RunOptions

__all__ = ["WorkbenchSettings", "Workspace"]


@dataclass
class WorkbenchSettings:
    """The switches of one workbench session."""

    watch: bool = True
    """Watch PATH and reload flows as their files change (tests and benchmarks turn it off)."""

    auto_run: bool = False
    """Run a flow again when its file is saved without errors (``a``)."""


class Workspace:
    """PATH's flows and the engine session that runs them.

    Opened once the main screen is up, so the first paint never waits for the engine. A broken
    ``roost.toml`` or an unusable ROOST_HOME leaves ``session`` None with the reason in
    ``startup_error``: the flows can still be browsed, and every part checks for a session.
    """

    def __init__(self, path: Path, *, home: RoostHome | None = None,
                 options: RunOptions | None = None,
                 environ: dict[str, str] | None = None) -> None:
        self.path = path
        self._home = home
        self._options = options
        self._environ = environ
        self.session: WorkbenchSession | None = None
        self.catalog: FlowCatalog | None = None
        self.startup_error: str | None = None
        self.opened = False
        """Every flow parsed (see :meth:`finish_opening`)."""
        self._breakpoints: BreakpointStore | None = None

    def open(self) -> list[FlowEntry]:
        """Start the session and read the flows; returns them (sorted as the list shows them).
        Only the first flow is parsed (the first paint shows it): :meth:`finish_opening`
        parses the others right after."""
        from tui.app.session import WorkbenchSession

        try:
            self.session = WorkbenchSession(self.path, home=self._home, options=self._options,
                                            environ=self._environ)
            config = self.session.config
        except UsageError as exc:  # a broken roost.toml: say so, keep browsing flows
            self.startup_error = str(exc)
            config = None
        except Exception as exc:
            self.startup_error = f"cannot open the Roost home: {exc}"
            config = None
        catalog = FlowCatalog(self.path, config.plugin_defaults if config else ())
        self.catalog = catalog
        return catalog.scan(first_only=True)

    def finish_opening(self, count: int | None = None, prefer: Path | None = None) -> bool:
        """Parse (up to ``count`` of, ``prefer`` first) the flows :meth:`open` left for after
        the first paint; True once every flow is parsed."""
        if self.catalog is not None and self.catalog.load_rest(count, prefer=prefer):
            return False
        self.opened = True
        return True

    def close(self) -> None:
        if self.session is not None:
            self.session.close()

    @property
    def unavailable(self) -> str:
        """Why nothing can run (the notice a key gets without a session)."""
        return self.startup_error or "the engine is not available"

    @property
    def breakpoints(self) -> BreakpointStore:
        """Breakpoints per flow, kept in the history (in memory without a session)."""
        if self._breakpoints is None:
            history = self.session.runtime.history if self.session is not None else None
            self._breakpoints = BreakpointStore(history)
        return self._breakpoints

    def run_options_for(self, flow: Flow, *, step: bool = False) -> RunOptions | None:
        """A run started here: the session's options plus the flow's breakpoints (``step``:
        pausing before every task); None without a session."""
        session = self.session
        if session is None:
            return None
        from tui.engine_port import unmocked_unavailable

        base = session.options
        # A task Roost cannot run and no mock covers: the run pauses before it, where the
        # workbench asks for its outputs (tui/app/mock_control.py).
        needs_mock = unmocked_unavailable(flow, base, session.runtime.config.mocks)
        return dataclasses.replace(
            base, breakpoints=frozenset(base.breakpoints) | self.breakpoints.of(flow.key)
            | frozenset(needs_mock), step=step or base.step)

    def entry_for_key(self, flow_key: str) -> FlowEntry | None:
        return self.catalog.by_key(flow_key) if self.catalog is not None else None

    def valid_flows(self) -> list[Flow]:
        """Every flow that loads (its last good version while its file has errors)."""
        catalog = self.catalog
        if catalog is None:
            return []
        return [e.flow for e in catalog.sorted_entries() if e.flow is not None]
