"""Ctrl-C in the first tens of milliseconds of a command, while its modules load: the installed
`roost` program exits 130 without a KeyboardInterrupt traceback from Roost's code.

Before Roost's first line runs (the interpreter starting, site-packages, the launcher module
being found), Python's own handling applies: it dies of SIGINT, which a shell also reports
as 130, or prints its own traceback (docs/reliability.md lists this limit).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, require_in_ci
from tests.reliability.conftest import roost_env

EARLY_CTRL_C = pytest.mark.reliability(
    "Fault: Ctrl-C while roost starts",
    "SIGINT every 3 ms over the first 90 ms of `roost validate` and `roost --help`: exit 130, no traceback")

ROOST_CODE = re.compile(r'File "' + re.escape(str(REPO_ROOT)) + r'/(engine|tui)/')


def installed_roost() -> Path:
    script = Path(sys.executable).parent / "roost"
    if not script.exists():
        require_in_ci(f"no installed `roost` script next to {sys.executable} (run `make test`)")
    return script


@EARLY_CTRL_C
@pytest.mark.parametrize("argv", [["validate", "sample_flows/hello.yml"], ["--help"]], ids=["validate", "help"])
def test_ctrl_c_while_roost_starts_exits_130_without_a_traceback_from_roost(argv, home):
    script = installed_roost()
    uninterrupted = subprocess.run([str(script), *argv], capture_output=True, text=True, cwd=REPO_ROOT,
                                   env=roost_env(home), timeout=60)
    outcomes = []
    for delay_ms in range(0, 90, 3):
        process = subprocess.Popen([str(script), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, cwd=REPO_ROOT, env=roost_env(home))
        time.sleep(delay_ms / 1000)
        if process.poll() is not None:  # done before the interrupt was sent: nothing to check
            process.communicate(timeout=60)
            continue
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        if process.returncode == 0 and out == uninterrupted.stdout and err == uninterrupted.stderr:
            # The signal landed after the command had done all its work (while the interpreter
            # shut down, where no Python frame runs, or between poll() and the kill): it finished first.
            continue
        outcomes.append((delay_ms, process.returncode, err))
    # A traceback may only come from the interpreter's own start-up (site-packages, the import
    # of the launcher itself), never from a frame of Roost's code; everything else exits 130
    # (or dies of SIGINT before Python runs any code, which a shell reports as 130 too).
    assert [(d, e) for d, _, e in outcomes if ROOST_CODE.search(e)] == []
    # The interpreter's own initialisation interrupted ("Fatal Python error: init_sys_streams",
    # a frozen module's frame) exits 1 before any line of the launcher runs: not Roost's.
    # So is a bare "KeyboardInterrupt" line with exit 1: Python prints that when the interrupt
    # lands where no Python frame runs yet (runpy finding the launcher, the interpreter setting
    # up `__main__`); an interrupt inside any line of the launcher or of Roost has a frame.
    quiet = [(d, code, e) for d, code, e in outcomes
             if "Traceback" not in e and "Fatal Python error" not in e
             and not (code == 1 and e.strip() == "KeyboardInterrupt")]
    assert [(d, code, e) for d, code, e in quiet if code not in (130, -signal.SIGINT)] == []
    # Interrupts that land in Roost's own start-up get the quiet exit 130 (how many do depends
    # on how long the interpreter itself takes to start on this machine).
    assert any(code == 130 for _, code, _e in quiet), outcomes
