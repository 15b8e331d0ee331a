"""Secrets never leave in clear: not in logs, events, the database, JSON output or error
messages, also when a task prints them line by line, base64-encoded, or inside a longer text.
"""

from __future__ import annotations

import base64
import json
import sqlite3

import pytest

from engine.store.secrets import MASK
from tests.reliability.conftest import roost

SECRETS = pytest.mark.reliability("Security: secret masking",
                                  "logs, JSON, history, errors: clear, multi-line and base64 forms masked")

TOKEN = "hunter2-token-Zq9"
PEM = "-----BEGIN TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n0s8PqT7eBV2rN4uQ1kXlY3ZcHw\n-----END TEST KEY-----"
LONG = "a-long-secret-" + "x9Y8w7V6u5T4s3R2q1P0" * 4  # its base64 wraps over two lines
INPUT_SECRET = "open-sesame-42"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forbidden_forms() -> list[str]:
    """Every form of the secrets that must never be shown."""
    forms = [TOKEN, LONG, INPUT_SECRET, b64(TOKEN), b64(TOKEN + "\n"), b64(LONG)[:76], b64(LONG)[76:],
             b64(LONG + "\n")[76:], b64(INPUT_SECRET), b64(PEM)]
    forms += [line for line in PEM.splitlines() if "-----" not in line]
    prefixed = b64("user:" + TOKEN)
    forms.append(prefixed[8:-4])  # the part of `user:TOKEN`'s encoding that comes from TOKEN alone
    return forms


FLOW = """
id: leaky
namespace: reliability.secrets
inputs:
  - id: password
    type: SECRET
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "token={{ secret('TOKEN') }} password={{ inputs.password }}"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('TOKEN') }}"
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      TOKEN: "{{ secret('TOKEN') }}"
      PEM: "{{ secret('PEM') }}"
      LONG: "{{ secret('LONG') }}"
      PASSWORD: "{{ inputs.password }}"
    commands:
      - echo "$PEM"
      - printf '%s' "$TOKEN" | base64
      - echo "$TOKEN" | base64
      - printf '%s' "$LONG" | base64
      - echo "$LONG" | base64
      - printf 'user:%s' "$TOKEN" | base64
      - printf '%s' "$PEM" | base64 -w0; echo
      - echo "password is $PASSWORD" >&2
      - echo "::{\\"outputs\\":{\\"leak\\":\\"$TOKEN\\"}}::"
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    env:
      TOKEN: "{{ secret('TOKEN') }}"
    script: |
      import base64, os
      token = os.environ["TOKEN"]
      print("in a sentence:", token, "end")
      print(base64.b64encode(token.encode()).decode())
      print(base64.urlsafe_b64encode(token.encode()).decode().rstrip("="))
      raise SystemExit(f"failing with {token} in the message")
    allowFailure: true
  - id: template-error
    type: io.kestra.plugin.core.log.Log
    allowFailure: true
    message: "{{ secret('TOKEN') - 1 }} {{ inputs[secret('TOKEN')] }}"
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "giving up: {{ secret('TOKEN') }} / {{ inputs.password }}"
outputs:
  - id: out
    type: STRING
    value: "{{ secret('TOKEN') }}"
"""


def assert_masked(where: str, text: str) -> None:
    for form in forbidden_forms():
        assert form not in text, f"{where} shows the secret form {form!r}"


@SECRETS
def test_no_form_of_a_secret_reaches_logs_json_history_or_error_messages(home, flows, tmp_path):
    flow = flows / "leaky.yml"
    flow.write_text(FLOW)
    env = {f"SECRET_{name}": b64(value) for name, value in
           (("TOKEN", TOKEN), ("PEM", PEM), ("LONG", LONG))}
    result = roost("run", str(flow), "-i", f"password={INPUT_SECRET}", "--json", home=home, env=env)
    assert result.returncode == 1, result.stderr
    assert_masked("roost run stderr", result.stderr)
    assert_masked("roost run --json", result.stdout)

    # The masks are where the secrets were, so the test saw real leaks being stopped.
    assert f"log INFO  token={MASK} password={MASK}" in result.stderr
    assert f"fail ERROR giving up: {MASK} / {MASK}" in result.stderr
    assert f"python ERROR failing with {MASK} in the message" in result.stderr
    assert f"python INFO  in a sentence: {MASK} end" in result.stderr
    assert (f"template-error ERROR task 'template-error' property 'message': '-' needs two numbers, "
            f"got a string ('{MASK}') and a number ('1')") in result.stderr
    for line in PEM.splitlines()[1:3]:
        assert line not in result.stderr
    shown = json.loads(result.stdout)
    assert shown["inputs"] == {"password": MASK}
    runs = {r["taskId"]: r for r in shown["taskRunList"]}
    assert runs["ret"]["outputs"]["value"] == MASK
    assert runs["shell"]["outputs"]["vars"] == {"leak": MASK}

    execution_id = shown["id"]
    for args in (("executions", "--json"), ("executions",), ("execution", execution_id, "--json"),
                 ("execution", execution_id, "--logs")):
        later = roost(*args, home=home)
        assert later.returncode == 0, later.stderr
        assert_masked(f"roost {' '.join(args)}", later.stdout + later.stderr)
    assert MASK in roost("execution", execution_id, "--logs", home=home).stdout

    with sqlite3.connect(home / "history.db") as db:
        dump = "\n".join(db.iterdump())
    assert_masked("history.db", dump)


@SECRETS
def test_a_missing_or_malformed_secret_fails_with_a_message_that_shows_no_value(home, flows):
    flow = flows / "missing.yml"
    flow.write_text("""
id: missing
namespace: reliability.secrets
tasks:
  - id: absent
    type: io.kestra.plugin.core.log.Log
    allowFailure: true
    message: "{{ secret('ABSENT') }}"
  - id: malformed
    type: io.kestra.plugin.core.log.Log
    message: "{{ secret('BROKEN') }}"
""")
    result = roost("run", str(flow), home=home, env={"SECRET_BROKEN": "not base64 at all: " + TOKEN})
    assert result.returncode == 1
    assert "absent ERROR task 'absent' property 'message': secret 'ABSENT' is not set" in result.stderr
    assert "malformed ERROR task 'malformed' property 'message': secret 'BROKEN': SECRET_BROKEN is not " \
           "valid base64" in result.stderr
    assert TOKEN not in result.stderr


@SECRETS
def test_no_event_published_to_the_workbench_carries_a_secret(tmp_path):
    """The TUI and every other consumer see only events: none may hold a clear secret."""
    import os

    from tests.conftest import Engine

    environ = {**os.environ, **{f"SECRET_{name}": b64(value) for name, value in
                                (("TOKEN", TOKEN), ("PEM", PEM), ("LONG", LONG))}}
    (tmp_path / "flows").mkdir()
    engine = Engine(tmp_path / "home", tmp_path / "flows", environ=environ)
    try:
        result = engine.run(FLOW, {"password": INPUT_SECRET})
    finally:
        engine.close()
    assert result.state == "FAILED"
    assert len(result.events) > 20
    assert_masked("events", "\n".join(repr(event) for event in result.events))
    assert result.execution.inputs == {"password": MASK}
