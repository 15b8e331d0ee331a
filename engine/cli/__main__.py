"""``python -m engine.cli``: the headless commands only (no workbench: the engine never imports
the UI; ``roost``, from ``tui.launcher``, is the whole program)."""

from __future__ import annotations

import sys

from engine.cli.main import main

sys.exit(main())
