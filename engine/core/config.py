"""Roost's settings: ROOST_HOME paths and the optional roost.toml, in one typed object.

roost.toml plays the part of a Kestra server's configuration: plugin defaults
(e.g. an S3 endpointOverride), namespace-file folders, the secrets file, the
default runner and git URL rewrites, so flows themselves stay unchanged.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import UsageError

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
    runner: str = "auto"
    plugin_defaults: tuple[dict[str, Any], ...] = ()
    namespace_dirs: dict[str, Path] = field(default_factory=dict)
    secrets_file: Path | None = None
    git_url_rewrites: tuple[tuple[str, str], ...] = ()
    keep_workdirs: int = 1
    env_prefixes: tuple[str, ...] = ("ENV_", "KESTRA_")
    snapshot_cap_bytes: int = 512 * 1024 * 1024
    snapshot_keep_executions: int = 20
    docker_host: str | None = None
    webhook_port: int = 8089

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
            runner=str(data.get("runner", {}).get("default", "auto")),
            plugin_defaults=tuple(_plugin_defaults(data.get("pluginDefaults", []), path)),
            namespace_dirs={str(ns): (base / str(d)).resolve()
                            for ns, d in data.get("namespaces", {}).items()},
            secrets_file=(base / data["secrets"]["file"]).resolve()
            if "file" in data.get("secrets", {}) else None,
            git_url_rewrites=tuple((str(k), str(v)) for k, v in data.get("git", {}).get("urlRewrites", {}).items()),
            keep_workdirs=int(data.get("workdirs", {}).get("keep", 1)),
            snapshot_cap_bytes=int(data.get("replay", {}).get("snapshotCapMB", 512)) * 1024 * 1024,
            snapshot_keep_executions=int(data.get("replay", {}).get("keepExecutions", 20)),
            docker_host=data.get("docker", {}).get("host"),
            webhook_port=int(data.get("webhook", {}).get("port", 8089)),
        )


def _plugin_defaults(entries: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(entries, list):
        raise UsageError(f"{path}: [[pluginDefaults]] entries need 'type' and a 'values' table")
    result = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str) or not isinstance(entry.get("values"), dict):
            raise UsageError(f"{path}: each [[pluginDefaults]] needs type = \"...\" and a [pluginDefaults.values] table")
        result.append(entry)
    return result
