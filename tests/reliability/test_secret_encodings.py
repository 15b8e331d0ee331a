"""A secret a task prints URL-encoded (`quote`, `quote_plus`, upper- or lower-case escapes) or
as hex (`xxd -p`, `.hex()`, upper case, after echo's newline) is masked like its clear text:
in the log lines, in `--json`, in the history database."""

from __future__ import annotations

import base64
import re
import sqlite3
from urllib.parse import quote, quote_plus

import pytest

from engine.store.secrets import MASK
from tests.reliability.conftest import roost

SECRET_ENCODINGS = pytest.mark.reliability(
    "Security: secret masking",
    "URL-encoded (quote, quote_plus, lower-case escapes) and hex (plain, upper, with newline) forms masked")

SECRET = "p@ss w/rd+Key=42&x"

FLOW = """
id: encoded
namespace: reliability.secrets
tasks:
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env:
      TOKEN: "{{ secret('TOKEN') }}"
    script: |
      import os
      import re
      from urllib.parse import quote, quote_plus
      token = os.environ["TOKEN"]
      print("quote", quote(token))
      print("quote-safe", quote(token, safe=""))
      print("quote_plus", quote_plus(token))
      print("lower", re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(token, safe="")))
      print("hex", token.encode().hex())
      print("HEX", token.encode().hex().upper())
      print("url", "https://api.example/login?user=me&password=" + quote_plus(token) + "&next=1")
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env:
      TOKEN: "{{ secret('TOKEN') }}"
    commands:
      - echo "$TOKEN" | od -An -tx1 | tr -d ' \\n'; echo
      - printf '%s' "$TOKEN" | od -An -tx1 | tr -d ' \\n'; echo
"""


def forms() -> list[str]:
    raw = SECRET.encode()
    return [SECRET, quote(SECRET), quote(SECRET, safe=""), quote_plus(SECRET),
            re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(SECRET, safe="")), raw.hex(), raw.hex().upper(), (raw + b"\n").hex()]


@SECRET_ENCODINGS
def test_url_encoded_and_hex_forms_of_a_secret_are_masked_everywhere(home, flows):
    flow = flows / "encoded.yml"
    flow.write_text(FLOW)
    env = {"SECRET_TOKEN": base64.b64encode(SECRET.encode()).decode()}
    result = roost("run", str(flow), "--json", home=home, env=env)
    assert result.returncode == 0, result.stderr
    for form in forms():
        assert form not in result.stderr, f"log lines show {form!r}"
        assert form not in result.stdout, f"--json shows {form!r}"
    for label in ("quote", "quote-safe", "quote_plus", "lower", "hex", "HEX"):
        assert f"python INFO  {label} {MASK}" in result.stderr
    assert f"password={MASK}&next=1" in result.stderr
    assert result.stderr.count(f"shell INFO  {MASK}") == 2
    with sqlite3.connect(home / "history.db") as db:
        dump = "\n".join(db.iterdump())
    for form in forms():
        assert form not in dump, f"history.db holds {form!r}"
