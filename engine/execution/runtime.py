"""What an executor needs from the outside world, passed in rather than global."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.config import RoostConfig, RoostHome
from engine.core.states import State
from engine.execution.live_executions import LiveExecutions
from engine.execution.replay_plan import ReplayPlan
from engine.store.secrets import Masker, SecretStore
from engine.store.storage import InternalStorage

if TYPE_CHECKING:
    from engine.store.history import History
    from engine.store.kv_store import KvStore
    from engine.tasks.trigger_switch import TriggerSwitch
    from engine.template import TemplateEngine


@dataclass(frozen=True)
class TaskStandIn:
    """What stands in for a task that must not run: a test's fixture (later, a plugin's mock).

    The task run goes from CREATED straight to ``state`` with ``outputs`` (rendered when the
    task would have run, with the execution's variables plus ``variables``); ``task.run`` is
    never called, and the run is marked ``mocked``. As in Kestra, a stand-in applies to the
    task runs of ``task_id`` whose ``value`` (a ForEach iteration's) equals its own, None
    matching the task runs outside any loop.
    """

    task_id: str
    state: State = State.SUCCESS
    outputs: Mapping[str, Any] = field(default_factory=dict)
    value: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    # A mock (roost.toml, --mock, the workbench) stands in for every run of the task, in
    # loops too; a test's fixture only for its `value`.
    every_value: bool = False


@dataclass
class RunOptions:
    """Per-run switches from the CLI or the workbench."""

    runner: str | None = None            # auto | process | docker; None: roost.toml's choice
    keep_workdir: bool | None = None     # None: keep the last run's directory per flow
    namespace_dirs: dict[str, Path] = field(default_factory=dict)
    breakpoints: frozenset[str] = frozenset()
    step: bool = False
    replay: ReplayPlan | None = None     # set by `roost replay`: what to reuse and restore
    # Tasks that do not run (a test's fixtures), by task id: see TaskStandIn.
    task_fixtures: Mapping[str, tuple[TaskStandIn, ...]] = field(default_factory=dict)
    # Subflows: folders searched for called flows besides the caller's and roost.toml's (the
    # workbench's PATH), and the flows up the chain of callers (`ns.id`), refused if called again.
    flow_dirs: tuple[Path, ...] = ()
    call_chain: tuple[str, ...] = ()


@dataclass
class Runtime:
    """Storage, history, secrets, templates and settings shared by the executions of one process."""

    home: RoostHome
    config: RoostConfig
    storage: InternalStorage
    history: History | None
    masker: Masker
    secrets: SecretStore
    environ: Mapping[str, str]
    _templates: TemplateEngine | None = None
    # The executions running in this process (what a Resume task reaches), not given by callers.
    live_executions: LiveExecutions = field(default_factory=LiveExecutions)
    _kv_store: KvStore | None = None
    # The running trigger scheduler, set while `roost triggers` or the workbench runs them: a
    # Toggle task switches its triggers live (None: the state is stored for the next start).
    trigger_switch: TriggerSwitch | None = None

    @classmethod
    def create(cls, home: RoostHome, config: RoostConfig, *, history: bool = True,
               environ: Mapping[str, str] | None = None) -> Runtime:
        home.ensure()
        masker = Masker()
        env = dict(os.environ if environ is None else environ)
        history_store = None
        if history:
            from engine.store.history import History

            history_store = History(home.history_db, masker)
        from engine.store.kv_store import KvStore  # opens history.db only when a flow uses KV

        return cls(
            home=home, config=config, storage=InternalStorage(home.storage),
            history=history_store, masker=masker,
            secrets=SecretStore(masker, env, config.secrets_file), environ=env,
            _kv_store=KvStore(home.history_db),
        )

    @property
    def templates(self) -> TemplateEngine:
        """Created on first use so that `roost validate` never pays for Jinja."""
        if self._templates is None:
            from engine.template import TemplateEngine

            self._templates = TemplateEngine()
        return self._templates

    @property
    def kv_store(self) -> KvStore:
        """Kestra's namespace KV store, in history.db (even with history off: KV is state, not history)."""
        if self._kv_store is None:
            from engine.store.kv_store import KvStore

            self._kv_store = KvStore(self.home.history_db)
        return self._kv_store

    def close(self) -> None:
        if self.history is not None:
            self.history.close()
        if self._kv_store is not None:
            self._kv_store.close()
