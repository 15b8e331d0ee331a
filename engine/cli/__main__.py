"""``python -m engine.cli``: the headless commands only (no workbench: the engine never imports
the UI; ``roost``, from ``tui.launcher``, is the whole program)."""

import _signal
import os

# Ctrl-C while the modules load exits 130 at once (see tui.launcher).
_signal.signal(_signal.SIGINT, lambda _signum, _frame: os._exit(130))
import signal  # noqa: E402
import sys  # noqa: E402

from engine.cli.main import main  # noqa: E402

signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(main())
