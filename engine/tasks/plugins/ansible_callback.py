"""What AnsibleCLI writes beside a playbook: ansible.cfg, Roost's callback plugin, the `kestra` module.

The callback (Roost's own, small) collects per-host results the way Kestra's kestra_logger
does and prints them after each playbook as one `::{"outputs": ...}::` line: `outputs` (every
host result, or in EXPLICIT mode only what the `kestra` module declared) and `playbooks`
(plays, tasks, hosts with status and timing). One `[host] status => result` line per result
is printed as it happens, since Roost shows an Ansible task's progress in its own logs.

Kestra's default ansible.cfg sets `stdout_callback = ansible.builtin.null`, which ansible-core
2.19 without community.general cannot load; Roost's default makes its callback the stdout
callback instead (checked with ansible-core 2.19, ALL and EXPLICIT modes).
"""

from __future__ import annotations

DEFAULT_ANSIBLE_CONFIG = """[defaults]
log_path          = {{ workingDir }}/log
callback_plugins  = ./callback_plugins
callbacks_enabled = kestra_logger
stdout_callback   = kestra_logger
result_format     = json
pretty_results    = true
library           = ./library
"""

CALLBACK_SOURCE = '''"""Roost's Kestra-compatible Ansible callback: results gathered, printed as one output line."""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: kestra_logger
    type: aggregate
    short_description: per-host results as Kestra outputs
    description: Prints each host result and, after the playbook, one Kestra output line.
"""

KESTRA_ACTIONS = {"kestra", "ansible.legacy.kestra"}


def _now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kestra_logger"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._explicit = os.environ.get("KESTRA_OUTPUTS_MODE", "all").strip().lower() == "explicit"
        self._results, self._declared, self._plays = [], {}, []
        self._play, self._task, self._count = None, None, 0

    def v2_playbook_on_play_start(self, play):
        self._play = {"name": play.get_name().strip() or "unnamed_play", "tasks": []}
        self._plays.append(self._play)

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._play is None:
            self._play = {"name": "implicit_play", "tasks": []}
            self._plays.append(self._play)
        self._count += 1
        name = task.get_name().strip() or task.action or "unnamed_task_%d" % self._count
        self._task = {"uid": "play:%s|task:%s" % (self._play["name"], name), "name": name,
                      "startedAt": _now(), "endedAt": None, "hosts": []}
        self._play["tasks"].append(self._task)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _record(self, result, status):
        payload = dict(result._result)
        if getattr(result._task, "action", None) in KESTRA_ACTIONS and isinstance(payload.get("outputs"), dict):
            self._declared.update(payload["outputs"])
        if self._explicit:
            shown = {"changed": bool(payload.get("changed", False))}
        else:
            shown = payload
            self._results.append(payload)
        host = result._host.get_name()
        if self._task is not None:
            self._task["hosts"].append({"host": host, "status": status, "result": shown})
            self._task["endedAt"] = _now()
        stream = sys.stderr if status in ("failed", "unreachable") else sys.stdout
        print("[%s] %s => %s" % (host, status, json.dumps(shown, default=str)), file=stream, flush=True)

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        found = self._declared if self._explicit else self._results
        payload = {"outputs": {"outputs": found, "playbooks": [{"plays": self._plays}]}}
        print("::" + json.dumps(payload, default=str) + "::", flush=True)
'''

KESTRA_MODULE_SOURCE = '''"""The `kestra` module: declares outputs for AnsibleCLI's EXPLICIT mode (echoed back to the callback)."""
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"outputs": {"type": "dict", "required": False}},
                           required_one_of=[["outputs"]], supports_check_mode=True)
    module.exit_json(changed=False, outputs=module.params["outputs"])


if __name__ == "__main__":
    main()
'''
