"""A Flow trigger in the workbench: listed ACTIVE in the Triggers pane once T is on, and a run of
the upstream flow (r) starts the listening flow, whose execution the pane shows."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.conftest import Workbench, run_selected, select_flow, wait_until
from tui.app.roost_app import RoostApp
from tui.widgets.triggers_pane import TriggersPane

UPSTREAM = """\
id: extract
namespace: tui.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: extracted
"""

LISTENER = """\
id: transform
namespace: tui.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "after {{ trigger.flowId }}"
triggers:
  - id: after_extract
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: tui.tests
        flowId: extract
"""


def test_a_flow_trigger_is_listed_and_fires_after_the_upstream_run(workbench: Workbench) -> None:
    (workbench.flows / "extract.yml").write_text(UPSTREAM)
    (workbench.flows / "transform.yml").write_text(LISTENER)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "transform")
        await pilot.press("6")
        table = app.main.query_one(TriggersPane).table
        await wait_until(pilot, lambda: [(r.trigger_id, r.state) for r in table.rows_shown]
                         == [("after_extract", "OFF")], what="the OFF row")
        await pilot.press("T")
        await wait_until(pilot, lambda: [(r.trigger_id, r.state, r.type.rsplit(".", 1)[-1])
                                         for r in table.rows_shown]
                         == [("after_extract", "ACTIVE", "Flow")], what="ACTIVE")
        await select_flow(app, pilot, "extract")
        await run_selected(app, pilot, state="SUCCESS")
        await wait_until(pilot, lambda: app.latest.get("tui.tests.transform") is not None, 30,
                         what="the triggered execution")
        await select_flow(app, pilot, "transform")
        await wait_until(pilot, lambda: bool(table.rows_shown) and table.rows_shown[0].last_execution_id
                         == app.latest["tui.tests.transform"], 30, what="the pane's last execution")
        await pilot.press("T")

    workbench.run(check, timeout=90)
