"""``roost serve [PATH]``: the workbench in a browser, served by textual-serve on 127.0.0.1.

Each browser tab gets its own workbench process (textual-serve runs the command per session);
they share ROOST_HOME, so history is common to all of them.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

__all__ = ["DEFAULT_PORT", "serve", "serve_command"]

DEFAULT_PORT = 8000
HOST = "127.0.0.1"


def serve_command(path: Path) -> str:
    """The command textual-serve runs per session: this Python, ``-m tui``, the absolute PATH."""
    return shlex.join([sys.executable, "-m", "tui", str(path.absolute())])


def serve(path: Path, port: int = DEFAULT_PORT) -> int:
    """Serve until interrupted; returns the exit status."""
    from textual_serve.server import Server

    if not path.exists():
        print(f"roost: {path}: no such file or folder", file=sys.stderr)
        return 2
    server = Server(serve_command(path), host=HOST, port=port, title="Roost")
    print(f"Roost workbench on http://{HOST}:{port} (Ctrl-C to stop)", file=sys.stderr)
    server.serve()
    return 0
