"""Kestra's KV store: the kv.Set/Get/GetKeys/Delete tasks, the kv() function, and the store."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.core.errors import InvalidFlowError
from engine.execution.runtime import Runtime
from engine.store.kv_store import KvStore, KvType

FLOW = """
id: kv_flow
namespace: company.team
tasks:
"""


def flow(tasks: str, inputs: str = "") -> str:
    return FLOW.replace("tasks:\n", f"{inputs}tasks:\n") + tasks


def stored(engine, namespace: str, key: str):
    return engine.runtime.kv_store.get(namespace, key)


def test_set_then_get_reads_the_value_in_the_flows_namespace(engine):
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: orders_file
    value: "kestra://some/file.csv"
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: orders_file
"""))
    assert result.state == "SUCCESS"
    assert result.run_of("set").outputs == {}
    assert result.run_of("get").outputs == {"value": "kestra://some/file.csv"}
    entry = stored(engine, "company.team", "orders_file")
    assert entry is not None and entry.type is KvType.STRING and entry.expires is None


def test_set_keeps_the_type_of_a_value_that_is_one_expression(engine):
    # Kestra renders `value` typed: a map input stays a map, so kv('k').field works.
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: my-key
    value: "{{ inputs.payload }}"
  - id: field
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('my-key').field }}-{{ kv('my-key').count + 1 }}"
""", inputs="inputs:\n  - id: payload\n    type: JSON\n"), {"payload": '{"field": "value", "count": 1}'})
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("field").outputs == {"value": "value-2"}
    assert stored(engine, "company.team", "my-key").type is KvType.JSON


@pytest.mark.parametrize(("kv_type", "text", "expected"), [
    ("NUMBER", "123.45", 123.45),
    ("NUMBER", "12", 12),
    ("BOOLEAN", "true", True),
    ("BOOLEAN", "yes", False),
    ("DATETIME", "2023-05-02T01:02:03Z", datetime(2023, 5, 2, 1, 2, 3, tzinfo=UTC)),
    ("DATE", "2023-05-02", date(2023, 5, 2)),
    ("DURATION", "P1DT5S", timedelta(days=1, seconds=5)),
    ("JSON", '[{"some":"value"},{"another":"value"}]', [{"some": "value"}, {"another": "value"}]),
    ("STRING", "123", "123"),
])
def test_kv_type_converts_a_string_value_to_that_type(engine, kv_type, text, expected):
    result = engine.run(flow(f"""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: typed
    value: '{text}'
    kvType: {kv_type}
"""))
    assert result.state == "SUCCESS", result.logs()
    entry = stored(engine, "company.team", "typed")
    assert entry.type.value == kv_type
    assert entry.value == expected and type(entry.value) is type(expected)


def test_a_typed_value_reads_back_with_its_type_in_templates(engine):
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: count
    value: "41"
    kvType: NUMBER
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: count
  - id: plus
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.get.value + 1 }}"
"""))
    assert result.run_of("get").outputs == {"value": 41}
    assert result.run_of("plus").outputs == {"value": "42"}


def test_kv_type_number_on_text_fails_naming_the_task_and_property(engine):
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: count
    value: abc
    kvType: NUMBER
"""))
    assert result.state == "FAILED"
    assert "task 'set' property 'value' (kvType NUMBER): 'abc' is not a NUMBER" in result.logs("set", "ERROR")
    assert stored(engine, "company.team", "count") is None


def test_an_unknown_kv_type_is_refused_when_the_flow_loads(engine):
    with pytest.raises(InvalidFlowError) as raised:
        engine.load(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: k
    value: v
    kvType: TEXT
"""))
    assert "unknown KV type 'TEXT'" in str(raised.value)


def test_overwrite_false_on_an_existing_key_fails_with_kestras_message(engine):
    engine.runtime.kv_store.put("company.team", "test-key", "first")
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: test-key
    value: second
    overwrite: false
"""))
    assert result.state == "FAILED"
    assert ("Cannot set value for key 'test-key'. Key already exists and `overwrite` is set to `false`."
            in result.logs("set", "ERROR"))
    assert stored(engine, "company.team", "test-key").value == "first"


def test_overwrite_default_replaces_an_existing_value(engine):
    engine.runtime.kv_store.put("company.team", "test-key", "first")
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: test-key
    value: second
"""))
    assert result.state == "SUCCESS"
    assert stored(engine, "company.team", "test-key").value == "second"


def test_ttl_sets_an_expiration_date_that_far_ahead(engine):
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: short-lived
    value: v
    ttl: PT5M
"""))
    assert result.state == "SUCCESS"
    entry = stored(engine, "company.team", "short-lived")
    assert entry.expires - entry.updated == timedelta(minutes=5)


def test_an_expired_entry_behaves_as_missing(engine):
    engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: gone-soon
    value: v
    ttl: PT0.05S
"""))
    time.sleep(0.1)
    result = engine.run(flow("""
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: gone-soon
  - id: keys
    type: io.kestra.plugin.core.kv.GetKeys
  - id: fn
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('gone-soon') ?? 'missing' }}"
  - id: delete
    type: io.kestra.plugin.core.kv.Delete
    key: gone-soon
"""))
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("get").outputs == {"value": None}
    assert result.run_of("keys").outputs == {"keys": []}
    assert result.run_of("fn").outputs == {"value": "missing"}
    assert result.run_of("delete").outputs == {"deleted": False}


def test_a_negative_ttl_fails_the_task(engine):
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: k
    value: v
    ttl: "-PT1M"
"""))
    assert result.state == "FAILED"
    assert "task 'set' property 'ttl': ttl cannot be negative" in result.logs("set", "ERROR")


def test_namespace_property_writes_and_reads_another_namespace(engine):
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    namespace: company
    key: shared
    value: parent-value
  - id: here
    type: io.kestra.plugin.core.kv.Get
    key: shared
  - id: there
    type: io.kestra.plugin.core.kv.Get
    namespace: "{{ 'company' }}"
    key: shared
"""))
    assert result.run_of("here").outputs == {"value": None}
    assert result.run_of("there").outputs == {"value": "parent-value"}
    assert stored(engine, "company", "shared").value == "parent-value"


def test_get_of_a_missing_key_outputs_null(engine):
    result = engine.run(flow("""
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: my-key
"""))
    assert result.state == "SUCCESS"
    assert result.run_of("get").outputs == {"value": None}


def test_get_with_error_on_missing_fails_with_kestras_message(engine):
    result = engine.run(flow("""
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: my-key
    errorOnMissing: true
"""))
    assert result.state == "FAILED"
    assert ("No value found for key 'my-key' in namespace 'company.team' and `errorOnMissing` is set to true"
            in result.logs("get", "ERROR"))


def test_get_keys_lists_every_key_of_the_namespace_or_those_with_the_prefix(engine):
    store = engine.runtime.kv_store
    for key in ("test-key", "test-second-key", "another-key"):
        store.put("company.team", key, "value")
    store.put("other", "test-elsewhere", "value")
    result = engine.run(flow("""
  - id: all
    type: io.kestra.plugin.core.kv.GetKeys
  - id: prefixed
    type: io.kestra.plugin.core.kv.GetKeys
    prefix: "{{ 'test' }}"
  - id: empty
    type: io.kestra.plugin.core.kv.GetKeys
    namespace: nothing.here
"""))
    assert sorted(result.run_of("all").outputs["keys"]) == ["another-key", "test-key", "test-second-key"]
    assert sorted(result.run_of("prefixed").outputs["keys"]) == ["test-key", "test-second-key"]
    assert result.run_of("empty").outputs == {"keys": []}


def test_delete_outputs_whether_the_key_was_there(engine):
    engine.runtime.kv_store.put("company.team", "test-key", "value")
    result = engine.run(flow("""
  - id: first
    type: io.kestra.plugin.core.kv.Delete
    key: test-key
  - id: second
    type: io.kestra.plugin.core.kv.Delete
    key: test-key
"""))
    assert result.run_of("first").outputs == {"deleted": True}
    assert result.run_of("second").outputs == {"deleted": False}
    assert stored(engine, "company.team", "test-key") is None


def test_delete_with_error_on_missing_fails_with_kestras_message(engine):
    result = engine.run(flow("""
  - id: delete
    type: io.kestra.plugin.core.kv.Delete
    key: my-key
    errorOnMissing: true
"""))
    assert result.state == "FAILED"
    assert ("No value found for key 'my-key' in namespace 'company.team' and `errorOnMissing` is set to true"
            in result.logs("delete", "ERROR"))


def test_a_literal_key_with_forbidden_characters_is_refused_when_the_flow_loads(engine):
    with pytest.raises(InvalidFlowError) as raised:
        engine.load(flow("""
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: "my key"
"""))
    assert "Key must start with an alphanumeric character" in str(raised.value)


def test_a_rendered_key_with_forbidden_characters_fails_naming_the_task(engine):
    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: "{{ '_starts-with-underscore' }}"
    value: v
"""))
    assert result.state == "FAILED"
    message = result.logs("set", "ERROR")[0]
    assert message.startswith("task 'set' property 'key' ('_starts-with-underscore'): Key must start")


def test_kv_function_takes_positional_and_named_arguments(engine):
    engine.runtime.kv_store.put("company.team", "here", "local")
    engine.runtime.kv_store.put("company", "up", {"field": "parent"})
    result = engine.run(flow("""
  - id: positional
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('here') }} {{ kv('up', 'company').field }} {{ kv('up', 'company', true).field }}"
  - id: named
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv(key='up', namespace='company').field }} {{ kv(key='nope') is null }}"
"""))
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("positional").outputs == {"value": "local parent parent"}
    assert result.run_of("named").outputs == {"value": "parent true"}


def test_kv_function_on_a_missing_key_with_error_on_missing_fails_the_task(engine):
    result = engine.run(flow("""
  - id: lenient
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('my-key').field ?? 'none' }}"
  - id: strict
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('my-key', 'company.team', true).field }}"
"""))
    assert result.run_of("lenient").state.value == "SUCCESS"
    assert result.run_of("lenient").outputs == {"value": "none"}
    assert result.run_of("strict").state.value == "FAILED"
    assert any("The key 'my-key' does not exist in the namespace 'company.team'." in line
               for line in result.logs("strict", "ERROR"))


def test_kv_description_is_kept_with_the_entry(engine):
    engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: k
    value: v
    kvDescription: "{{ 'what it is for' }}"
"""))
    assert stored(engine, "company.team", "k").description == "what it is for"


def test_values_outlive_the_process_in_history_db(engine):
    engine.runtime.kv_store.put("company.team", "kept", {"n": 1}, ttl=timedelta(hours=1))
    engine.runtime.kv_store.close()
    again = Runtime.create(engine.home, engine.config, history=False, environ=engine.environ)
    try:
        entry = again.kv_store.get("company.team", "kept")
    finally:
        again.close()
    assert entry is not None and entry.value == {"n": 1} and entry.expires is not None
    assert engine.home.history_db.exists()


def test_an_older_kv_table_gains_the_new_columns(tmp_path):
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE kv_entries (namespace TEXT NOT NULL, key TEXT NOT NULL, "
                           "type TEXT NOT NULL, value TEXT NOT NULL, created TEXT NOT NULL, "
                           "updated TEXT NOT NULL, expires TEXT, PRIMARY KEY (namespace, key))")
    store = KvStore(path)
    try:
        store.put("a", "k", "v", description="kept")
        assert store.get("a", "k").description == "kept"
    finally:
        store.close()


def test_store_clock_decides_expiry(tmp_path):
    now = [datetime(2024, 1, 1, tzinfo=UTC)]
    store = KvStore(tmp_path / "history.db", clock=lambda: now[0])
    try:
        store.put("a", "k", "v", ttl=timedelta(minutes=1))
        now[0] += timedelta(seconds=59)
        assert store.get("a", "k") is not None
        now[0] += timedelta(seconds=1)
        assert store.get("a", "k") is None
        assert store.entries("a") == []
    finally:
        store.close()


def test_kv_function_evaluates_against_a_finished_execution_in_its_namespace(engine):
    from engine.execution.expression_eval import evaluate_finished

    result = engine.run(flow("""
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: answer
    value: "42"
    kvType: NUMBER
"""))
    assert evaluate_finished(engine.runtime, result.execution, result.task_runs, None, "kv('answer') + 1") == 43


def test_kv_function_in_a_trigger_property_says_it_is_not_available(engine):
    from engine.scheduling.trigger_context import TriggerServices
    from engine.template import TemplateError

    with pytest.raises(TemplateError, match="kv\\(\\) is not available while rendering a trigger property"):
        engine.runtime.templates.render_string("{{ kv('k') }}", {"flow": {"namespace": "a"}},
                                               TriggerServices(engine.runtime))


def test_a_yaml_number_value_is_stored_as_text_unless_kv_type_says(engine):
    result = engine.run(flow("""
  - id: text
    type: io.kestra.plugin.core.kv.Set
    key: as-text
    value: 42
  - id: number
    type: io.kestra.plugin.core.kv.Set
    key: as-number
    value: 42
    kvType: NUMBER
"""))
    assert result.state == "SUCCESS"
    assert stored(engine, "company.team", "as-text").value == "42"
    assert stored(engine, "company.team", "as-number").value == 42
