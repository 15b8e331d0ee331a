"""The ``roost`` entry point: the engine's command line with the Textual workbench plugged in.

The engine's CLI takes the workbench as a parameter (:class:`engine.cli.main.Workbench`);
this module is the only place that joins the two. Textual is imported only when the
workbench opens, so ``roost --help``, ``roost run`` and ``roost validate`` start fast.
"""

# No `from __future__ import annotations` here: it imports the `__future__` module, one
# more import before Ctrl-C is handled.
import _signal  # the C module: `signal` itself imports enum, functools, collections...
import os  # already loaded by the interpreter's start-up: costs nothing

EXIT_INTERRUPTED = 130


def _interrupted_while_starting(_signum: int, _frame: object) -> None:
    """Ctrl-C while the modules load: exit 130 at once, as the commands themselves do.

    An exception raised here would surface inside whatever import is running (and Python
    turns some into other errors); nothing has started yet, so there is nothing to clean up.
    """
    os._exit(EXIT_INTERRUPTED)


# First thing, before any other import: until the command line's own handling is in place
# (its imports take tens of milliseconds), Ctrl-C must not print a KeyboardInterrupt
# traceback from the middle of an import.
_signal.signal(_signal.SIGINT, _interrupted_while_starting)
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from engine.cli.main import main as cli_main  # noqa: E402

signal.signal(signal.SIGINT, signal.default_int_handler)


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
