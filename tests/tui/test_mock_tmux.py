"""End to end in tmux: a flow with a task Roost cannot run pauses before it, the outputs are
typed into the mock screen, and the run finishes SUCCESS with them."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_in_ci
from tests.tui.test_mock_outputs import FLOW
from tests.tui.test_tmux_e2e import ROOST, Tmux, start


@pytest.fixture
def tmux_flows(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    if shutil.which("tmux") is None:
        require_in_ci("tmux is not installed (apt-get install tmux)")
    if not ROOST.exists():
        require_in_ci(f"the roost entry point is not installed at {ROOST} (pip install -e .)")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "warehouse.yml").write_text(FLOW)
    server = Tmux(f"roost-test-{uuid.uuid4().hex[:8]}")
    yield server, flows
    server.run("kill-server")


def test_typed_mock_outputs_in_tmux_finish_the_run_successfully(tmux_flows, tmp_path):
    server, flows = tmux_flows
    start(server, flows, tmp_path / "home", (120, 34))
    server.wait_for("r Run", "warehouse", "⊘ query")
    server.send("r")
    server.wait_for("Mock query", "is not available locally", "✔ valid JSON object")
    server.send("-l", '"rows": 4')            # typed between the braces of the prefilled {}
    server.wait_for('{"rows": 4}', "✔ valid JSON object")
    server.send("C-s")
    server.wait_for("SUCCESS warehouse", "◇ query", absent=("Mock query",))
    server.send("2")                          # Outputs of the selected (mocked) task
    screen = server.wait_for("rows", "─ query")
    assert any("rows" in line and "4" in line.split("rows", 1)[1] for line in screen.splitlines()), screen
    server.send("q")
    server.wait_for("ROOST-EXITED-0")
