"""The task-type index the registry imports from matches what the task modules register."""

from __future__ import annotations

import subprocess
import sys

from engine.tasks import registry
from engine.tasks.type_index import TYPE_INDEX
from tests.conftest import REPO_ROOT


def test_type_index_lists_every_registered_type_with_its_module_and_current_name():
    assert registry.scan_builtins() == TYPE_INDEX, \
        "engine/tasks/type_index.py is stale: run .venv/bin/python scripts/write_type_index.py"


def test_looking_up_a_core_type_imports_no_plugin_module():
    probe = ("import sys\nfrom engine.tasks import registry\n"
             "assert registry.lookup('io.kestra.plugin.core.log.Log') is not None\n"
             "print(sorted(m for m in sys.modules if m.startswith('engine.tasks.plugins.')))\n"
             "print('openpyxl' in sys.modules, 'docker' in sys.modules, 'duckdb' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.splitlines() == ["[]", "False False False"]


def test_an_alias_is_suggested_by_its_current_name():
    assert registry.canonical_name("io.kestra.core.tasks.debugs.Return") == "io.kestra.plugin.core.debug.Return"
    assert registry.suggest("io.kestra.plugin.core.log.Logg") == ["io.kestra.plugin.core.log.Log"]
