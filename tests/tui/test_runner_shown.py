"""The workbench says which runner and image ran each script task (issue 5)."""

from __future__ import annotations

import subprocess

from textual.pilot import Pilot

from tests.conftest import require_in_ci
from tests.tui.conftest import Workbench, run_selected, select_flow, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.widgets.outputs_pane import OutputsPane

BOXED = """id: boxed
namespace: company.team
tasks:
  - id: inside
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
    containerImage: ubuntu
    commands:
      - echo from a container
"""


def docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "image", "inspect", "ubuntu"], capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_tree_and_outputs_name_the_image_that_ran_a_container_task(workbench: Workbench) -> None:
    if not docker_answers():
        require_in_ci("no Docker engine with the test image 'ubuntu' (make test builds it)")
    (workbench.flows / "boxed.yml").write_text(BOXED)
    workbench.environ["ROOST_RUNNER"] = "auto"  # the user's default, not the suite's process

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "boxed")
        await run_selected(app, pilot, timeout=60)
        assert app.shown is not None and app.shown.execution.state.value == "SUCCESS"
        await wait_for_text(pilot, app, "inside shell.Commands", "⧉ ubuntu")
        await pilot.press("2")
        outputs = app.main.query_one(OutputsPane)

        def labels() -> list[str]:
            return [str(node.label) for node in outputs.output_tree.root.children]

        await wait_until(pilot, lambda: any("ran on docker ubuntu" in label for label in labels()),
                         what=f"the runner in Outputs (labels: {labels()})")
        await wait_for_text(pilot, app, "ran on docker ubuntu")

    workbench.run(check, timeout=90, size=(170, 44))  # room for the tree label
