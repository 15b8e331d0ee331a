"""Known Jinja server-side template injection payloads, run as Kestra flows: each one fails
its task with a message, and none of them gets to run a command or print a Python object.
"""

from __future__ import annotations

import json

import pytest

from tests.reliability import cases
from tests.reliability.conftest import roost

SANDBOX = pytest.mark.reliability("Security: template sandbox",
                                  "known Jinja escape payloads fail their task; no command runs")

PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('touch {mark}').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch {mark}').read() }}",
    "{{ joiner.__init__.__globals__.os.system('touch {mark}') }}",
    "{{ namespace.__init__.__globals__.os.system('touch {mark}') }}",
    "{{ lipsum.__globals__['os'].popen('touch {mark}').read() }}",
    "{{ config.__class__.__init__.__globals__['os'].popen('touch {mark}').read() }}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('touch {mark}').read() }}",
    "{{ url_for.__globals__.os.popen('touch {mark}').read() }}",
    "{{ get_flashed_messages.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ ()|attr('__class__')|attr('__base__') }}",
    "{{ 'x' | attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ ''['__cla' ~ 'ss__'] }}",
    "{{ inputs['__class__']['__mro__'] }}",
    "{{ flow.__dict__ }}",
    "{{ '{{0.__class__}}'.format(flow) }}",
    "{{ [].pop() }}",
    "{{ inputs.keys() }}",
    "{{ range.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'Popen' %}"
    "{{ c(['touch', '{mark}']) }}{% endif %}{% endfor %}",
    "{% set x = ''.__class__ %}{{ x }}",
    "{% import 'os' as os %}{{ os.system('touch {mark}') }}",
    "{% include '/etc/passwd' %}",
    "{{ read('/etc/passwd') }}",
]


@SANDBOX
def test_jinja_escape_payloads_fail_their_tasks_and_run_nothing(home, flows, tmp_path):
    cases.count(len(PAYLOADS))
    mark = tmp_path / "pwned"
    tasks = "".join(f"""
  - id: p{index}
    type: io.kestra.plugin.core.log.Log
    allowFailure: true
    message: {json.dumps(payload.replace("{mark}", str(mark)))}
""" for index, payload in enumerate(PAYLOADS))
    flow = flows / "ssti.yml"
    flow.write_text(f"id: ssti\nnamespace: reliability.sandbox\ntasks:{tasks}")
    result = roost("run", str(flow), "--json", home=home)
    assert result.returncode == 0, result.stderr  # every failure is allowed: the flow ends WARNING
    runs = {r["taskId"]: r["state"]["current"] for r in json.loads(result.stdout)["taskRunList"]}
    assert runs == {f"p{i}": "WARNING" for i in range(len(PAYLOADS))}
    for index in range(len(PAYLOADS)):
        errors = [line for line in result.stderr.splitlines() if f" p{index} ERROR " in line]
        assert errors, f"payload {index} failed without a message"
    assert not any(f" p{i} INFO " in result.stderr for i in range(len(PAYLOADS)))
    for leak in ("<class", "<function", " object at 0x", "root:x:0:0"):
        assert leak not in result.stderr + result.stdout
    assert not mark.exists()
