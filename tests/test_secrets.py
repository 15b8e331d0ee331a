"""Secrets as Kestra OSS reads them (SECRET_X base64), masked wherever they could show."""

from __future__ import annotations

import base64
import json
import os
import sqlite3

from engine.store.secrets import MASK, Masker, SecretStore
from tests.conftest import Engine

SECRET = "s3cr3t-value"
ENCODED = base64.b64encode(SECRET.encode()).decode()


def test_secret_reads_base64_environment_variable():
    store = SecretStore(Masker(), {"SECRET_TOKEN": ENCODED})
    assert store.get("TOKEN") == SECRET


def test_missing_secret_says_how_to_set_it():
    store = SecretStore(Masker(), {})
    try:
        store.get("NOPE")
    except Exception as exc:
        assert "SECRET_NOPE" in str(exc) and "base64" in str(exc)
    else:
        raise AssertionError("expected an error")


def test_env_file_provides_plain_values(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nexport API_KEY='plain-key'\n")
    store = SecretStore(Masker(), {}, env_file)
    assert store.get("API_KEY") == "plain-key"


def test_masker_hides_value_lines_and_base64_forms():
    masker = Masker()
    masker.add("line-one\nline-two")
    assert masker.mask("a line-one b") == f"a {MASK} b"
    assert masker.mask(base64.b64encode(b"line-one\nline-two").decode()) == MASK


def test_secret_is_masked_in_logs_outputs_database_and_json(tmp_path):
    engine = Engine(tmp_path / "home", tmp_path, environ={**os.environ, "SECRET_TOKEN": ENCODED})
    try:
        result = engine.run("""
id: s
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "token={{ secret('TOKEN') }}"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('TOKEN') }}"
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      TOKEN: "{{ secret('TOKEN') }}"
    commands:
      - echo "raw $TOKEN"
      - printf %s "$TOKEN" | base64
""")
        assert result.state == "SUCCESS"
        everything = json.dumps(result.logs()) + json.dumps(result.execution.to_json(result.task_runs), default=str)
        assert SECRET not in everything and ENCODED not in everything
        assert "token=********" in result.logs("log")
        assert result.run_of("ret").outputs["value"] == MASK
        engine.runtime.history.flush()
        dump = "\n".join(sqlite3.connect(engine.home.history_db).iterdump())
        assert SECRET not in dump and ENCODED not in dump
    finally:
        engine.close()
