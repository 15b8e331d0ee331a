"""The ``roost`` entry point: the engine's command line with the Textual workbench plugged in.

The engine's CLI takes the workbench as a parameter (:class:`engine.cli.main.Workbench`);
this module is the only place that joins the two. Textual is imported only when the
workbench opens, so ``roost --help``, ``roost run`` and ``roost validate`` start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.cli.main import main as cli_main


class TextualWorkbench:
    """The workbench as the command line sees it: opened in this terminal or served."""

    def open(self, path: str) -> int:
        from tui.app.roost_app import run_workbench

        return run_workbench(path)

    def serve(self, path: Path, port: int) -> int:
        from tui.app.serve import serve

        return serve(path, port)


def main() -> None:
    sys.exit(cli_main(workbench=TextualWorkbench()))


if __name__ == "__main__":
    main()
