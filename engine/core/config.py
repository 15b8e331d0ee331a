"""Roost's settings: ROOST_HOME paths and the optional roost.toml, in one typed object.

roost.toml plays the part of a Kestra server's configuration: plugin defaults
(e.g. an S3 endpointOverride), namespace-file folders, the secrets file, the
default runner and git URL rewrites, so flows themselves stay unchanged.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import UsageError
from engine.core.mocks import MockSpec, mocks_from_toml

CONFIG_NAME = "roost.toml"


@dataclass(frozen=True)
class RoostHome:
    """Where Roost keeps its state: history.db, storage/, workdirs/, caches."""

    root: Path

    @classmethod
    def from_environment(cls) -> RoostHome:
        return cls(Path(os.environ.get("ROOST_HOME", ".roost")).absolute())

    @property
    def history_db(self) -> Path:
        return self.root / "history.db"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def workdirs(self) -> Path:
        return self.root / "workdirs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def snapshots(self) -> Path:
        """Per-task snapshots of working directories, for replay from a task."""
        return self.root / "snapshots"

    def ensure(self) -> None:
        for path in (self.root, self.storage, self.workdirs, self.cache):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise UsageError(f"ROOST_HOME {self.root}: {path} exists and is not a folder") from None
            except OSError as exc:
                raise UsageError(f"ROOST_HOME {self.root}: cannot create {path}: {exc.strerror}") from None


@dataclass(frozen=True)
class RoostConfig:
    """Everything roost.toml may set; defaults make an absent file fine."""

    path: Path | None = None
    #: [runner] default (auto | process | docker); None: not set, so ROOST_RUNNER, else auto.
    runner: str | None = None
    plugin_defaults: tuple[dict[str, Any], ...] = ()
    namespace_dirs: dict[str, Path] = field(default_factory=dict)
    secrets_file: Path | None = None
    git_url_rewrites: tuple[tuple[str, str], ...] = ()
    #: [git] missingMirrorHint: what to do when a rewrite's local repository does not exist yet.
    git_mirror_hint: str | None = None
    keep_workdirs: int = 1
    env_prefixes: tuple[str, ...] = ("ENV_", "KESTRA_")
    snapshot_cap_bytes: int = 512 * 1024 * 1024
    snapshot_keep_executions: int = 20
    docker_host: str | None = None
    webhook_port: int = 8089
    #: `{{ globals.x }}`: roost.toml's [variables.globals], as Kestra's `kestra.variables.globals`.
    globals: dict[str, Any] = field(default_factory=dict)
    #: [[mocks]]: stand-ins for tasks by id or type glob (engine/core/mocks.py).
    mocks: tuple[MockSpec, ...] = ()
    #: [python] isolate: python tasks on the process runner get a Roost-managed virtualenv;
    #: false runs them with the python on PATH (and `dependencies` pip-install into it).
    python_isolate: bool = True

    @classmethod
    def find_and_load(cls, start: Path) -> RoostConfig:
        """roost.toml in `start` (a flow file's folder or a folder) or its parents, else the cwd."""
        start = start.absolute()
        folder = start if start.is_dir() else start.parent
        for candidate in (folder, *folder.parents, Path.cwd()):
            path = candidate / CONFIG_NAME
            if path.is_file():
                return cls.load(path)
        return cls()

    @classmethod
    def load(cls, path: Path) -> RoostConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: {exc}") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
        try:
            return cls._from_toml(path, data)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise UsageError(f"{path}: a setting has the wrong shape or type ({exc})") from None

    @classmethod
    def _from_toml(cls, path: Path, data: dict[str, Any]) -> RoostConfig:
        base = path.parent
        return cls(
            path=path,
            runner=_optional_text(data.get("runner", {}).get("default")),
            plugin_defaults=tuple(_plugin_defaults(data.get("pluginDefaults", []), path)),
            namespace_dirs={str(ns): (base / str(d)).resolve()
                            for ns, d in data.get("namespaces", {}).items()},
            secrets_file=(base / data["secrets"]["file"]).resolve()
            if "file" in data.get("secrets", {}) else None,
            git_url_rewrites=tuple((str(k), _rewrite_target(base, str(v)))
                                   for k, v in data.get("git", {}).get("urlRewrites", {}).items()),
            git_mirror_hint=_optional_text(data.get("git", {}).get("missingMirrorHint")),
            keep_workdirs=int(data.get("workdirs", {}).get("keep", 1)),
            snapshot_cap_bytes=int(data.get("replay", {}).get("snapshotCapMB", 512)) * 1024 * 1024,
            snapshot_keep_executions=int(data.get("replay", {}).get("keepExecutions", 20)),
            docker_host=data.get("docker", {}).get("host"),
            webhook_port=int(data.get("webhook", {}).get("port", 8089)),
            globals=dict(data.get("variables", {}).get("globals", {})),
            mocks=mocks_from_toml(data.get("mocks", []), path),
            python_isolate=_bool_setting(data.get("python", {}).get("isolate", True), "[python] isolate"),
        )


def _rewrite_target(base: Path, target: str) -> str:
    """A rewrite's target as git should get it: a URL (`https://`, `file://`, scp-like
    `git@host:path`) as written; a local path, relative to roost.toml's folder, as a file://
    URL, so the clone works from any directory (and git honours `depth` on it)."""
    if "://" in target or re.match(r"[^/:]+:", target):
        return target
    return (base / Path(target).expanduser()).resolve().as_uri()


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _plugin_defaults(entries: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(entries, list):
        raise UsageError(f"{path}: [[pluginDefaults]] entries need 'type' and a 'values' table")
    result = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str) or not isinstance(entry.get("values"), dict):
            raise UsageError(f"{path}: each [[pluginDefaults]] needs type = \"...\" and a [pluginDefaults.values] table")
        result.append(entry)
    return result


def _bool_setting(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value
