"""Joining user-given relative names onto a directory without ever leaving it.

inputFiles keys, LocalFiles inputs, the Clone `directory`, namespace files and
`read()` all take a name from the flow; Kestra refuses names that resolve
outside the working directory, and so does Roost, symlinks included.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path


class UnsafePathError(ValueError):
    """A relative name that would point outside its directory, or is not a name at all."""


def _shown(relative: str) -> str:
    return relative.replace("\0", "\\0")


def safe_join(root: Path, relative: str) -> Path:
    """`root / relative`, refusing absolute names, escaping `..`, NUL bytes, empty names
    and symlinks (anywhere on the way) that lead outside `root`.

    The final component need not exist yet: that is how new files get written.
    """
    if "\0" in relative:
        raise UnsafePathError(f"'{_shown(relative)}' contains a NUL byte; "
                              f"a path must stay inside the directory")
    if not relative.strip():
        raise UnsafePathError("a file name must not be empty; "
                              "give a path that stays inside the directory")
    if os.path.isabs(relative):
        raise UnsafePathError(f"'{relative}' is an absolute path; "
                              f"it must stay inside the directory")
    normalized = posixpath.normpath(relative.replace(os.sep, "/"))
    if normalized == ".." or normalized.startswith("../"):
        raise UnsafePathError(f"'{relative}' leads outside with '..'; "
                              f"it must stay inside the directory")
    candidate = root / normalized
    real_root = Path(os.path.realpath(root))
    # realpath follows every existing symlink on the way (the final component
    # too, even when dangling) and keeps the non-existing tail as written.
    real_candidate = Path(os.path.realpath(candidate))
    if real_candidate != real_root and real_root not in real_candidate.parents:
        raise UnsafePathError(f"'{relative}' goes through a symlink to {real_candidate}; "
                              f"it must stay inside the directory")
    return candidate
