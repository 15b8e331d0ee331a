"""``python -m engine.cli``: the headless commands only (no workbench: the engine never imports
the UI; ``roost``, from ``tui.launcher``, is the whole program)."""

from __future__ import annotations

import _signal
import sys

# Ctrl-C while the modules load exits 130 quietly (see tui.launcher).
_signal.signal(_signal.SIGINT, lambda _signum, _frame: sys.exit(130))
import signal  # noqa: E402

from engine.cli.main import main  # noqa: E402

signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(main())
