"""Kestra's `::{...}::` output protocol, including what the real `kestra` Python package prints."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from engine.runners.protocol import Metric, ProtocolMessage, parse_protocol_line


@pytest.mark.parametrize("line", ["hello", "", "::{}", "{}::", ":: {}::", "x::{}::", "::{}:: ", "::[1]::",
                                  '::{"outputs": {}}:: trailing'])
def test_ordinary_lines_are_not_protocol_lines(line):
    assert parse_protocol_line(line) is None


def test_outputs_are_kept_with_nulls_and_nesting():
    message = parse_protocol_line('::{"outputs":{"a":1,"b":null,"c":[1,{"d":"é"}]}}::')
    assert message == ProtocolMessage(outputs={"a": 1, "b": None, "c": [1, {"d": "é"}]})


def test_metrics_keep_ints_as_ints_and_floats_as_floats():
    message = parse_protocol_line(
        '::{"metrics":[{"name":"rows","type":"counter","value":5,"tags":{"t":"x"}},'
        '{"name":"took","type":"timer","value":1.5},{"name":"level","type":"gauge","value":-2.25,"tags":null}]}::')
    assert message is not None and message.warning is None
    assert message.metrics == (Metric("rows", "counter", 5, (("t", "x"),)), Metric("took", "timer", 1.5),
                               Metric("level", "gauge", -2.25))
    assert type(message.metrics[0].value) is int
    assert dict(message.metrics[0].tags) == {"t": "x"}


def test_scalar_tags_become_strings_like_kestra_s():
    message = parse_protocol_line('::{"metrics":[{"name":"n","type":"counter","value":1,'
                                  '"tags":{"n":3,"ok":true,"s":"v"}}]}::')
    assert message is not None and dict(message.metrics[0].tags) == {"n": "3", "ok": "true", "s": "v"}


def test_timer_given_as_an_iso_duration_is_in_seconds():
    message = parse_protocol_line('::{"metrics":[{"name":"t","type":"timer","value":"PT1M1.5S"}]}::')
    assert message is not None and message.metrics == (Metric("t", "timer", 61.5),)


def test_logs_carry_level_and_message_and_ignore_extra_fields():
    message = parse_protocol_line('::{"logs":[{"level":"warn","message":"careful","timestamp":"2024-01-01"},'
                                  '{"message":"no level"},{"level":"ERROR","message":42}]}::')
    assert message == ProtocolMessage(logs=(("WARN", "careful"), ("INFO", "no level"), ("ERROR", "42")))


def test_all_three_in_one_line_and_unknown_keys_ignored():
    message = parse_protocol_line('::{"outputs":{"k":"v"},"assets":{"id":"t"},"logs":[{"level":"INFO",'
                                  '"message":"m"}],"metrics":[{"name":"c","type":"counter","value":0}]}::')
    assert message == ProtocolMessage(outputs={"k": "v"}, metrics=(Metric("c", "counter", 0),),
                                      logs=(("INFO", "m"),))


def test_invalid_json_gives_only_a_warning_that_quotes_the_line():
    message = parse_protocol_line("::{not json}::")
    assert message is not None
    assert (message.outputs, message.metrics, message.logs) == ({}, (), ())
    assert message.warning is not None
    assert message.warning.startswith("ignored an invalid ::{...}:: output line (not valid JSON")
    assert message.warning.endswith("): ::{not json}::")


@pytest.mark.parametrize(("line", "reason"), [
    ('::{"outputs":[1,2]}::', "'outputs' must be an object, not a list"),
    ('::{"metrics":{"name":"x"}}::', "'metrics' must be a list, not an object"),
    ('::{"metrics":[{"name":"x","type":"histogram","value":1}]}::', "must be counter, timer or gauge"),
    ('::{"metrics":[{"name":"x","type":"counter","value":"5"}]}::', "'value' must be a number, not a string"),
    ('::{"metrics":[{"name":"x","type":"counter","value":true}]}::', "not a boolean"),
    ('::{"metrics":[{"type":"counter","value":1}]}::', "needs a 'name'"),
    ('::{"metrics":[{"name":"x","type":"timer","value":"soon"}]}::', "metrics[0] 'value'"),
    ('::{"metrics":[{"name":"x","type":"counter","value":1,"tags":{"a":[1]}}]}::', "tag 'a'"),
    ('::{"logs":"hello"}::', "'logs' must be a list, not a string"),
    ('::{"logs":[{"level":"INFO"}]}::', "needs a 'message'"),
    ('::{"logs":[{"level":3,"message":"m"}]}::', "'level' must be a string"),
    ('::{"metrics":[{"name":"x","type":"gauge","value":NaN}]}::', "NaN is not a JSON value"),
])
def test_wrong_shapes_are_ignored_whole_with_the_reason(line, reason):
    message = parse_protocol_line(line)
    assert message is not None and (message.outputs, message.metrics, message.logs) == ({}, (), ())
    assert message.warning is not None and reason in message.warning, message.warning


def test_a_long_invalid_line_is_quoted_by_its_start_only():
    message = parse_protocol_line("::{" + "x" * 10_000 + "}::")
    assert message is not None and message.warning is not None
    assert len(message.warning) < 300 and message.warning.endswith("x…")


@pytest.mark.parametrize("line", ['::{"a":' + "[" * 100_000 + "]" * 100_000 + "}::",
                                  "::{\x00}::", "::{\ud800}::", '::{"outputs":{"\ufffd":"\ud800"}}::',
                                  "::{" + "}" * 50 + "::"])
def test_hostile_lines_never_raise(line):
    message = parse_protocol_line(line)
    assert message is not None


def test_everything_the_kestra_python_package_prints_is_understood(tmp_path):
    snippet = textwrap.dedent("""
        import time
        from kestra import Kestra
        Kestra.outputs({"answer": 42, "nested": {"k": "v"}, "none": None, "text": "é ✓"})
        Kestra.counter("processed", 7, {"stage": "x"})
        Kestra.timer("took", 1.5)
        Kestra.timer("slept", lambda: time.sleep(0.01))
        Kestra.gauge("ratio", 0.25)
        Kestra.assets({"id": "t", "type": "TABLE"})
        log = Kestra.logger()
        log.debug("debug line")
        log.info("info line")
        log.warning("warning line")
        log.error("error line")
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("with a traceback")
    """)
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines() + done.stderr.splitlines()
    messages = [parse_protocol_line(line) for line in lines]
    assert all(m is not None and m.warning is None for m in messages), list(zip(lines, messages, strict=True))
    parsed = [m for m in messages if m is not None]
    outputs = {k: v for m in parsed for k, v in m.outputs.items()}
    assert outputs == {"answer": 42, "nested": {"k": "v"}, "none": None, "text": "é ✓"}
    metrics = {m.name: m for message in parsed for m in message.metrics}
    assert metrics["processed"] == Metric("processed", "counter", 7, (("stage", "x"),))
    assert metrics["took"] == Metric("took", "timer", 1.5)
    assert metrics["slept"].type == "timer" and isinstance(metrics["slept"].value, float)
    assert metrics["ratio"] == Metric("ratio", "gauge", 0.25)
    logs = [log for m in parsed for log in m.logs]
    assert [level for level, _ in logs] == ["DEBUG", "INFO", "WARN", "ERROR", "ERROR"]
    # The package's messages start with a timestamp: "2024-05-01T10:00:00.000Z - info line".
    assert [text.split(" - ", 1)[1].splitlines()[0] for _, text in logs] == [
        "debug line", "info line", "warning line", "error line", "with a traceback"]
    assert "ZeroDivisionError" in logs[-1][1]
