"""Files a container wrote into the bind-mounted working directory stay the user's.

Containers run as the image's user (root for most), as in Kestra, so images that install
packages keep working. When the user is not root, what they wrote is handed back afterwards:
a walk finds files owned by someone else, and only then a short container of the same image
runs `chown -R` on the directory (the user could not do it themselves).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from docker import errors as docker_errors

from engine.runners.docker_engine import LABEL_MANAGED

if TYPE_CHECKING:
    from engine.runners.docker_engine import DockerEngine


def ownership_target() -> tuple[int, int] | None:
    """The uid:gid files should belong to, or None when this process is root (nothing to fix)."""
    if not hasattr(os, "getuid") or os.getuid() == 0:
        return None
    return os.getuid(), os.getgid()


def has_foreign_files(root: Path, uid: int, gid: int) -> bool:
    """Whether anything under `root` (itself included) is not owned by uid:gid."""
    try:
        stat = os.lstat(root)
    except FileNotFoundError:
        return False
    if (stat.st_uid, stat.st_gid) != (uid, gid):
        return True
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            try:
                stat = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            if (stat.st_uid, stat.st_gid) != (uid, gid):
                return True
    return False


def restore_ownership(engine: DockerEngine, image: str, directory: Path, uid: int, gid: int,
                      labels: dict[str, str]) -> str | None:
    """chown -R uid:gid on `directory` from a container of `image`; None, or why it failed."""
    path = os.path.abspath(directory)
    api = engine.api
    try:
        container = api.create_container(
            image, command=["-R", "-h", f"{uid}:{gid}", path], entrypoint=["chown"], user="0:0",
            labels={**labels, LABEL_MANAGED: "true"}, network_disabled=True,
            host_config=api.create_host_config(binds=[f"{path}:{path}:rw"], network_mode="none"))
    except docker_errors.APIError as exc:
        return str(exc.explanation or exc)
    try:
        api.start(container["Id"])
        status = api.wait(container["Id"], timeout=None).get("StatusCode", -1)
        if status != 0:
            output = api.logs(container["Id"], stdout=True, stderr=True).decode(errors="replace")
            return f"chown exited with {status}: {output.strip()[:300]}"
        return None
    except docker_errors.APIError as exc:
        return str(exc.explanation or exc)
    finally:
        try:
            api.remove_container(container["Id"], force=True, v=True)
        except docker_errors.APIError:
            pass
