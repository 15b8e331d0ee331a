"""The real `roost triggers` command as a subprocess: S3 (moto), local files and a webhook."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.triggers.conftest import ACCESS_KEY, REGION, SECRET_KEY, keys


class RoostTriggers:
    """`roost triggers FOLDER` in the background, its stderr collected line by line."""

    def __init__(self, folder: Path, home: Path) -> None:
        self.env = {**os.environ, "ROOST_HOME": str(home),
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False  # stderr read to its end: every line the process wrote is in
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "triggers", str(folder), "--webhook-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=self.env)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def wait_line(self, pattern: str, count: int = 1, timeout: float = 30) -> list[re.Match[str]]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        with self._changed:
            while True:
                found = [m for m in (regex.search(line) for line in self.lines) if m]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._ended:
                    raise AssertionError(f"no {count} line(s) matching {pattern!r}:\n" + "\n".join(self.lines))
                self._changed.wait(min(remaining, 0.2))

    def interrupt(self, timeout: float = 90) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)

    def roost(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                              cwd=REPO_ROOT, env=self.env, timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def write_flows(folder: Path, bucket: str, inbox: Path, s3_server: str) -> None:
    (folder / "roost.toml").write_text(f"""
[[pluginDefaults]]
type = "io.kestra.plugin.aws"
values = {{ endpointOverride = "{s3_server}", region = "{REGION}", accessKeyId = "{ACCESS_KEY}", secretKeyId = "{SECRET_KEY}" }}
""")
    (folder / "s3flow.yml").write_text(f"""
id: s3flow
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "got {{{{ trigger.objects[0].key }}}}"
triggers:
  - id: watch
    type: io.kestra.plugin.aws.s3.Trigger
    bucket: {bucket}
    interval: PT0.5S
    action: MOVE
    moveTo:
      key: archive
""")
    (folder / "files.yml").write_text(local_flow(inbox, "dropped"))
    (folder / "hook.yml").write_text("""
id: hook
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "hooked {{ trigger.body.n }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: cli-key
""")


def local_flow(inbox: Path, word: str) -> str:
    return f"""
id: files
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{word} {{{{ trigger.files[0].name }}}}"
triggers:
  - id: inbox
    type: io.kestra.plugin.fs.local.Trigger
    from: {inbox}
    interval: PT1H
    action: DELETE
"""


def post(url: str, payload: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_roost_triggers_runs_s3_files_and_webhook_reloads_and_stops_on_ctrl_c(tmp_path, s3, bucket, s3_server):
    folder, inbox = tmp_path / "flows", tmp_path / "inbox"
    folder.mkdir()
    inbox.mkdir()
    write_flows(folder, bucket, inbox, s3_server)
    roost = RoostTriggers(folder, tmp_path / "home")
    try:
        roost.wait_line(r"roost triggers: 3 trigger\(s\)")
        [url] = roost.wait_line(r"webhook: POST/GET/PUT (http://127\.0\.0\.1:\d+/\S+)")
        roost.wait_line(r"\[company\.team\.files\.inbox\] INFO  poll: nothing new", count=2)
        s3.put_object(Bucket=bucket, Key="in.csv", Body=b"x")
        (inbox / "a.txt").write_text("a")
        assert post(url.group(1), {"n": 7}) == 200
        roost.wait_line(r"execution \S+ of company\.team\.\w+ ✔ SUCCESS", count=3)
        for expected in ("got in.csv", "dropped a.txt", "hooked 7"):
            roost.wait_line(re.escape(expected))
        assert keys(s3, bucket) == ["archive/in.csv"] and list(inbox.iterdir()) == []

        (folder / "files.yml").write_text(local_flow(inbox, "reloaded"))
        roost.wait_line(r"flows changed \(files\.yml\): reloading")
        roost.wait_line(r"\[company\.team\.files\.inbox\] INFO  poll: nothing new", count=4)
        (inbox / "b.txt").write_text("b")
        roost.wait_line(r"reloaded b\.txt")
        roost.wait_line(r"execution \S+ of company\.team\.\w+ ✔ SUCCESS", count=4)
        assert roost.interrupt() == 130
    finally:
        roost.kill()
    listed = json.loads(roost.roost("executions", "--json").stdout)
    assert sorted(e["flowId"] for e in listed) == ["files", "files", "hook", "s3flow"]
    assert {e["state"]["current"] for e in listed} == {"SUCCESS"}
    s3_execution = next(e for e in listed if e["flowId"] == "s3flow")
    assert s3_execution["trigger"]["objects"][0]["key"] == "in.csv"


def test_ctrl_c_cancels_the_running_execution_and_records_it_killed(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "slow.yml").write_text("""
id: slow
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - echo waiting
      - sleep 600
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: slow-key
""")
    roost = RoostTriggers(folder, tmp_path / "home")
    try:
        [url] = roost.wait_line(r"webhook: POST/GET/PUT (http://127\.0\.0\.1:\d+/\S+)")
        assert post(url.group(1), {}) == 200
        roost.wait_line(r"wait INFO  waiting")
        # the sleep would take 10 minutes: a Ctrl-C that waited for it fails in interrupt()
        assert roost.interrupt() == 130
        roost.wait_line(r"cancelling 1 running execution")
    finally:
        roost.kill()
    [execution] = json.loads(roost.roost("executions", "--json").stdout)
    assert execution["state"]["current"] == "KILLED"


def test_a_missing_path_is_bad_usage(tmp_path):
    result = subprocess.run([sys.executable, "-m", "engine.cli", "triggers", str(tmp_path / "nope")],
                            capture_output=True, text=True, cwd=REPO_ROOT,
                            env={**os.environ, "ROOST_HOME": str(tmp_path / "home")})
    assert result.returncode == 2 and "no such file or folder" in result.stderr
