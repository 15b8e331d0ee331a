"""Kestra's own plugin-scripts sanity-check flows, unchanged, on Roost's process runner.

The flows (tests/fixtures/kestra_sanity/) end with Kestra's own checks: an `Assert` task over
every script's exit code and output file (python), four `read()`s of the files the scripts
wrote (shell). Only `dataset_uri` differs from Kestra's run: a CSV served on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.core.config import RoostConfig
from engine.execution.runtime import RunOptions
from engine.flow.loader import load_flow

SANITY = Path(__file__).parent / "fixtures" / "kestra_sanity"
ORDERS = "order_id,customer,total\n1,ada,10.0\n2,bob,32.5\n3,cy,7.25\n"


@pytest.fixture
def orders_url() -> Iterator[str]:
    class Orders(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = ORDERS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Orders)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/orders.csv"
    server.shutdown()


def test_kestras_shell_sanity_check_flow_succeeds_and_reads_back_every_file(engine):
    flow = load_flow(SANITY / "all_shell.yaml")
    result = engine.run_flow(flow, options=RunOptions(runner="process"))
    assert result.state == "SUCCESS", result.states()
    assert result.logs("log_files") == ["Hello Kestra!\n"] * 4


def test_kestras_python_sanity_check_flow_passes_its_own_assert(engine, orders_url):
    flow = load_flow(SANITY / "all_python.yaml")
    # Kestra's flow imports pandas, which its pydata image has; on the process runner that is
    # the user's own python, so this run opts out of Roost's isolated envs ([python] isolate).
    engine.with_config(RoostConfig(python_isolate=False))
    result = engine.run_flow(flow, {"dataset_uri": orders_url}, options=RunOptions(runner="process"))
    assert result.state == "SUCCESS", result.states()
    assert result.run_of("assert").state.value == "SUCCESS"
    assert result.run_of("python_script_outputs").outputs["vars"]["total"] == 49.75
