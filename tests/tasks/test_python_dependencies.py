"""Python script tasks in isolated environments: `dependencies`, the per-flow venv, the switches."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from engine.core.config import RoostConfig
from engine.core.errors import UsageError
from engine.core.events import LogLine

HEADER = "id: deps\nnamespace: company.team\n"
PROCESS = "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n"


def python_task(task_id: str, script: str, extra: str = "") -> str:
    body = "\n".join("      " + line for line in script.splitlines())
    return (f"  - id: {task_id}\n    type: io.kestra.plugin.scripts.python.Script\n{PROCESS}{extra}"
            f"    script: |\n{body}\n")


def installs(result, task_id: str) -> list[str]:
    return [m for m in result.logs(task_id) if m.startswith("installing python dependencies")]


PRINT_SIX = "import six, sys\nprint(six.__file__)\nprint(sys.prefix)"


def test_dependencies_are_installed_once_then_the_env_is_reused(engine):
    flow = HEADER + "tasks:\n" + python_task("py", PRINT_SIX, "    dependencies: [six]\n")
    first = engine.run(flow)
    assert first.state == "SUCCESS", first.logs()
    assert len(installs(first, "py")) == 1
    six_file, prefix = first.logs("py")[-2:]
    envs = engine.home.cache / "python" / "envs"
    assert Path(prefix).parent == envs and six_file.startswith(prefix)
    second = engine.run(flow)
    assert second.state == "SUCCESS", second.logs()
    assert installs(second, "py") == []
    assert second.logs("py") == [six_file, prefix]


def test_different_dependency_lists_get_different_envs(engine):
    flow = HEADER + "tasks:\n" + python_task("a", PRINT_SIX, "    dependencies: [six]\n") \
        + python_task("b", PRINT_SIX, "    dependencies: [six, iniconfig]\n") \
        + python_task("c", PRINT_SIX, "    dependencies: [Six]\n")
    result = engine.run(flow)
    assert result.state == "SUCCESS", result.logs()
    prefixes = {task: result.logs(task)[-1] for task in "abc"}
    assert prefixes["a"] != prefixes["b"]
    assert prefixes["a"] == prefixes["c"] and installs(result, "c") == []


def test_without_the_dependency_cache_a_fresh_env_is_made_and_removed(engine):
    flow = HEADER + "tasks:\n" + python_task(
        "py", PRINT_SIX, "    dependencies: [six]\n    dependencyCacheEnabled: false\n")
    result = engine.run(flow)
    assert result.state == "SUCCESS", result.logs()
    prefix = Path(result.logs("py")[-1])
    assert not prefix.exists()
    assert not (engine.home.cache / "python" / "envs").exists()


def test_the_pip_package_manager_installs_with_pip(engine):
    flow = HEADER + "tasks:\n" + python_task("py", PRINT_SIX,
                                             "    dependencies: [six]\n    packageManager: PIP\n")
    result = engine.run(flow)
    assert result.state == "SUCCESS", result.logs()
    assert installs(result, "py") == [m for m in installs(result, "py") if " with pip into " in m] != []
    assert any("Successfully installed six" in m for m in result.logs("py"))


def test_a_missing_package_fails_the_task_naming_it(engine):
    flow = HEADER + "tasks:\n" + python_task("py", "print('never')",
                                             "    dependencies: [roost-no-such-package-4711]\n")
    result = engine.run(flow)
    assert result.state == "FAILED"
    failure = next(m for m in result.logs("py") if "could not be installed" in m)
    assert "roost-no-such-package-4711" in failure
    assert "never" not in result.logs("py")
    assert not any("Traceback" in m for m in result.logs())


def test_pip_install_in_before_commands_lands_in_the_flow_venv_and_stays_for_the_next_run(engine):
    assert importlib.util.find_spec("termcolor") is None, "the test interpreter must not have termcolor"
    script = "import sys, termcolor\nprint(sys.prefix)\nprint(termcolor.__file__)"
    flow = HEADER + "tasks:\n" + python_task(
        "py", script, "    beforeCommands:\n      - pip install --quiet termcolor\n"
                      "      - command -v python; command -v python3; command -v pip\n      - echo \"venv=$VIRTUAL_ENV\"\n")
    first = engine.run(flow)
    assert first.state == "SUCCESS", first.logs()
    lines = first.logs("py")
    prefix = lines[-2]
    assert Path(prefix).parent == engine.home.cache / "python" / "flows"
    assert prefix != sys.prefix and lines[-1].startswith(prefix)
    assert lines[-3] == f"venv={prefix}"
    resolved = lines[-6:-3]   # after whatever pip said (this machine's pip.conf may warn)
    assert resolved == [f"{prefix}/bin/python", f"{prefix}/bin/python3", f"{prefix}/bin/pip"]
    assert importlib.util.find_spec("termcolor") is None
    reuse = engine.run(HEADER + "tasks:\n" + python_task("py", script))
    assert reuse.state == "SUCCESS", reuse.logs()
    assert reuse.logs("py") == [prefix, lines[-1]]


def test_isolation_off_runs_with_the_python_on_path_and_says_so_once(engine):
    engine.with_config(RoostConfig(python_isolate=False))
    script = "import sys\nprint(sys.prefix)"
    flow = HEADER + "tasks:\n" + python_task("a", script, "    dependencies: [six]\n") \
        + python_task("b", script, "    dependencies: [six]\n")
    result = engine.run(flow)
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("a")[-1] == sys.prefix and result.logs("b")[-1] == sys.prefix
    notices = [e for e in result.events if isinstance(e, LogLine) and "isolate = false" in e.message]
    assert len(notices) == 1 and notices[0].level == "WARN"


def test_roost_toml_python_isolate_is_read_and_checked(tmp_path):
    toml = tmp_path / "roost.toml"
    toml.write_text("[python]\nisolate = false\n")
    assert RoostConfig.load(toml).python_isolate is False
    assert RoostConfig().python_isolate is True
    toml.write_text('[python]\nisolate = "no"\n')
    try:
        RoostConfig.load(toml)
    except UsageError as exc:
        assert "[python] isolate must be true or false" in str(exc)
    else:
        raise AssertionError("a string for [python] isolate was accepted")


def test_target_os_windows_is_refused_and_linux_runs(engine):
    flow = HEADER + "tasks:\n" + python_task("win", "print('no')", "    targetOS: WINDOWS\n") \
        + python_task("lin", "print('yes')", "    targetOS: LINUX\n")
    result = engine.run(HEADER + "tasks:\n" + python_task("lin", "print('yes')", "    targetOS: LINUX\n"))
    assert result.state == "SUCCESS" and result.logs("lin")[-1] == "yes"
    result = engine.run(flow)
    assert result.state == "FAILED"
    assert any("WINDOWS is not supported" in m for m in result.logs("win"))


def test_deprecated_warning_on_std_err_is_warned_once_by_roost_run(tmp_path):
    flow = tmp_path / "flow.yml"
    flow.write_text(HEADER + "tasks:\n  - id: sh\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                             "    warningOnStdErr: false\n    commands: [echo hi]\n")
    done = subprocess.run([sys.executable, "-m", "engine.cli", "run", str(flow), "--runner", "process"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**__import__("os").environ, "ROOST_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    assert (done.stdout + done.stderr).count("'warningOnStdErr' is deprecated") == 1, done.stderr

