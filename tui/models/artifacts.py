"""A file the user can preview, save or open: an output in internal storage or a working-dir file."""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Artifact", "ArtifactError", "external_command", "save_artifact"]


class ArtifactError(Exception):
    """Saving or opening failed for a reason the user can act on."""


@dataclass(frozen=True)
class Artifact:
    """``path`` is the local file behind it (storage files are plain files under ROOST_HOME)."""

    name: str
    path: Path
    uri: str | None = None
    task_id: str | None = None

    @property
    def label(self) -> str:
        return self.uri or str(self.path)


def save_artifact(artifact: Artifact, target: Path, *, overwrite: bool = False) -> Path:
    """Copy the artifact to ``target`` (a file, or a folder to put it in); returns where it went."""
    target = target.expanduser()
    if target.is_dir():
        target = target / artifact.name
    if target.exists() and not overwrite:
        raise ArtifactError(f"{target} already exists (save again to overwrite)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifact.path, target)
    except OSError as exc:
        raise ArtifactError(f"cannot save to {target}: {exc.strerror or exc}") from None
    return target


def external_command(kind: str, path: Path) -> list[str]:
    """``$PAGER`` (default ``less``) or ``$EDITOR`` (default ``vi``) with the file, as argv."""
    if kind == "editor":
        program = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    else:
        program = os.environ.get("PAGER") or "less"
    argv = shlex.split(program)
    if not argv or shutil.which(argv[0]) is None:
        raise ArtifactError(f"cannot find '{program}': set ${'EDITOR' if kind == 'editor' else 'PAGER'}")
    return [*argv, str(path)]
