"""Space set aside beside a database, given back when the disk fills up.

When the disk is full, SQLite cannot record even the end of an execution; giving back a
small reserved file makes room for those few rows, so no execution is left RUNNING forever.
"""

from __future__ import annotations

import os
from pathlib import Path


class DiskReserve:
    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size

    def make(self) -> None:
        """Write the reserve file unless it is there (on a disk already full: no reserve)."""
        try:
            if self.path.exists():
                return
            with self.path.open("wb") as handle:
                handle.write(b"\0" * self.size)
        except OSError:  # already full: nothing to reserve, and nothing to clean up but the file
            self.path.unlink(missing_ok=True)

    def given_back(self) -> bool:
        """True while the reserve is spent and the disk has not got room to make it again:
        what is written then should be only what the reserve was for (states, not logs)."""
        if self.path.exists():
            return False
        try:
            stats = os.statvfs(self.path.parent)
        except OSError:
            return True
        if stats.f_bavail * stats.f_frsize < 4 * self.size:
            return True
        self.make()
        return not self.path.exists()

    def release(self) -> bool:
        """Give the space back; False when there was none left to give."""
        try:
            self.path.unlink()
            return True
        except OSError:
            return False
