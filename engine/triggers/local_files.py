"""io.kestra.plugin.fs.local.Trigger: files that appear in a local folder start a flow.

A poll lists `from` (its sub-folders too with `recursive`), keeps the files whose name
fully matches `regExp`, keeps those that are new or changed (state in the history
database, as for S3), copies each into internal storage, applies `action` (MOVE to
`moveDirectory`, DELETE, NONE) and starts one execution with `trigger.files`. Between
polls a watchfiles watcher on `from` wakes the trigger as soon as something changes,
so a dropped file starts its execution at once rather than after `interval`.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.core.records import iso
from engine.triggers.base import POLLING, Trigger, TriggerContext, TriggerFiring
from engine.triggers.properties import (
    Prop,
    Report,
    TriggerError,
    as_bool,
    as_duration,
    as_enum,
    as_text,
    is_template,
)
from engine.triggers.state import ON_VALUES, default_key

ACTIONS = ("MOVE", "DELETE", "NONE")
SETTLE_SECONDS = 0.25  # a file modified more recently may still be being written


class LocalFilesTrigger(Trigger):
    TYPES = ("io.kestra.plugin.fs.local.Trigger",)
    KIND = POLLING
    PROPERTIES = {
        "interval": Prop("duration", dynamic=False),
        "from": Prop(required=True),
        "regExp": Prop(),
        "recursive": Prop("bool"),
        "action": Prop("enum", choices=ACTIONS),
        "moveDirectory": Prop(),
        "allowedPaths": Prop("any"),
        "on": Prop("enum", choices=ON_VALUES),
        "stateKey": Prop(),
        "stateTtl": Prop("duration"),
    }

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        if props.get("action") == "MOVE" and not props.get("moveDirectory"):
            report("action", "action MOVE needs 'moveDirectory'", False)
        pattern = props.get("regExp")
        if isinstance(pattern, str) and not is_template(pattern):
            try:
                re.compile(pattern)
            except re.error as exc:
                report("regExp", f"'regExp' is not a valid regular expression: {exc}", False)

    def folder(self, ctx: TriggerContext) -> tuple[Path, bool]:
        """The rendered `from` folder (relative to the current directory, as on a Kestra worker)."""
        text = as_text(ctx.prop("from"), "from", required=True) or ""
        folder = Path(text.removeprefix("file://")).expanduser().absolute()
        _check_allowed(folder, ctx.prop("allowedPaths"))
        return folder, as_bool(ctx.prop("recursive"), "recursive", False)

    def evaluate(self, ctx: TriggerContext) -> TriggerFiring | None:
        folder, recursive = self.folder(ctx)
        if not folder.is_dir():
            raise TriggerError(f"'from' folder {folder} does not exist")
        pattern_text = as_text(ctx.prop("regExp"), "regExp")
        try:
            pattern = re.compile(pattern_text) if pattern_text is not None else None
        except re.error as exc:
            raise TriggerError(f"property 'regExp' is not a valid regular expression: {exc}") from None
        on = as_enum(ctx.prop("on"), "on", ON_VALUES, "CREATE_OR_UPDATE")
        state = ctx.state(as_text(ctx.prop("stateKey"), "stateKey")
                          or default_key(ctx.key.namespace, ctx.key.flow_id, self.id),
                          as_duration(ctx.prop("stateTtl"), "stateTtl", None))
        now = time.time()
        present: list[str] = []
        fired: list[tuple[Path, os.stat_result, str]] = []
        for path in _list_files(folder, recursive):
            if pattern is not None and pattern.fullmatch(path.name) is None:
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            uri = path.as_uri()
            present.append(uri)
            if now - stat.st_mtime < SETTLE_SECONDS:
                ctx.retry_after = SETTLE_SECONDS  # taken at the next poll, once it stopped changing
                continue
            fire, is_new = state.observe(uri, f"{stat.st_mtime_ns}:{stat.st_size}",
                                         datetime.fromtimestamp(stat.st_mtime, UTC), on)
            if fire:
                fired.append((path, stat, "CREATE" if is_new else "UPDATE"))
        state.forget_missing(present)
        if not fired:
            state.save()
            return None
        files = [self.stored_file(ctx, path, stat, change) for path, stat, change in fired]
        self._apply_action(ctx, folder, files)
        state.save()
        names = ", ".join(f["name"] for f in files)
        return TriggerFiring({"files": files}, ctx.execution_id,
                             summary=f"{len(files)} file(s) in {folder}: {names}")

    def stored_file(self, ctx: TriggerContext, path: Path, stat: os.stat_result, change: str) -> dict[str, Any]:
        """`path` copied into internal storage: its `trigger.files` entry (also for `--fire`)."""
        uri = ctx.storage_uri(path.name)
        try:
            ctx.put_file(uri, path)
        except OSError as exc:
            raise TriggerError(f"cannot read {path}: {exc.strerror}") from None
        return {
            "uri": uri, "localPath": str(path), "name": path.name, "parent": str(path.parent),
            "size": stat.st_size,
            "createdDate": iso(datetime.fromtimestamp(getattr(stat, "st_birthtime", stat.st_ctime), UTC)),
            "modifiedDate": iso(datetime.fromtimestamp(stat.st_mtime, UTC)),
            "accessedDate": iso(datetime.fromtimestamp(stat.st_atime, UTC)),
            "directory": False, "changeType": change,
        }

    def _apply_action(self, ctx: TriggerContext, folder: Path, files: list[dict[str, Any]]) -> None:
        action = as_enum(ctx.prop("action"), "action", ACTIONS, "NONE")
        if action == "DELETE":
            for item in files:
                Path(item["localPath"]).unlink(missing_ok=True)
        elif action == "MOVE":
            text = as_text(ctx.prop("moveDirectory"), "moveDirectory", required=True) or ""
            target_dir = Path(text.removeprefix("file://")).expanduser().absolute()
            _check_allowed(target_dir, ctx.prop("allowedPaths"))
            try:
                target_dir.mkdir(parents=True, exist_ok=True)
                for item in files:
                    target = target_dir / item["name"]
                    shutil.move(item["localPath"], target)
                    # As Kestra's newer plugin does: the file is reported where it now is.
                    item.update(localPath=str(target), parent=str(target_dir))
            except OSError as exc:
                raise TriggerError(f"cannot move files to {target_dir}: {exc.strerror or exc}") from None


def _list_files(folder: Path, recursive: bool) -> list[Path]:
    if recursive:
        found = [Path(root) / name for root, _dirs, names in os.walk(folder) for name in names]
    else:
        found = [entry for entry in folder.iterdir() if entry.is_file()]
    return sorted(p for p in found if p.is_file())


def _check_allowed(path: Path, allowed: Any) -> None:
    """Kestra's `allowedPaths`: when given, every path used must be inside one of them."""
    if allowed is None:
        return
    roots = [Path(str(a)).expanduser().absolute() for a in (allowed if isinstance(allowed, list) else [allowed])]
    real = path.resolve()
    if not any(real == root.resolve() or root.resolve() in real.parents for root in roots):
        raise TriggerError(f"access to {path} is denied: it is not within allowedPaths "
                           f"({', '.join(str(r) for r in roots)})")
