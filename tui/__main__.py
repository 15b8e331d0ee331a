"""``python -m tui [PATH]``: the workbench (what ``roost serve`` runs for each browser session)."""

from __future__ import annotations

import sys

from tui.app.roost_app import run_workbench

if __name__ == "__main__":
    sys.exit(run_workbench(sys.argv[1] if len(sys.argv) > 1 else "."))
