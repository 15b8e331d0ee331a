"""The process runner with real processes: live lines, odd output, exit codes, and no leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.runners.process import (
    MAX_CHUNK,
    ProcessResult,
    ProcessRunner,
    ProcessSpec,
    ProcessStartError,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


class Lines:
    """What on_line received, with arrival times."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, float]] = []
        self.lock = threading.Lock()

    def __call__(self, stream: str, text: str) -> None:
        with self.lock:
            self.received.append((stream, text, time.monotonic()))

    def of(self, stream: str) -> list[str]:
        return [text for s, text, _ in self.received if s == stream]

    def wait_for(self, prefix: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for _, text, _ in self.received:
                    if text.startswith(prefix):
                        return text
            time.sleep(0.01)
        raise AssertionError(f"no line starting with {prefix!r}: {self.received}")


def run(args: list[str], cwd: Path, on_line: Callable[[str, str], None] | None = None,
        stop: threading.Event | None = None, marker: str = "tr-test") -> ProcessResult:
    env = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1"}
    return ProcessRunner().run(ProcessSpec(args=args, cwd=cwd, env=env, marker=marker),
                               on_line or Lines(), stop or threading.Event())


def sh(script: str, cwd: Path, **kwargs) -> tuple[ProcessResult, Lines]:
    lines = kwargs.pop("lines", None) or Lines()
    return run(["sh", "-c", script], cwd, lines, **kwargs), lines


def is_alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_dead(pids: list[int], timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if is_alive(pid)]
        if not alive:
            return []
        time.sleep(0.02)
    return [pid for pid in pids if is_alive(pid)]


def test_lines_reach_on_line_while_the_process_still_runs(tmp_path):
    result, lines = sh("echo first; sleep 1.5; echo second", tmp_path)
    arrivals = {text: at for _, text, at in lines.received}
    assert result == ProcessResult(exit_code=0)
    assert arrivals["second"] - arrivals["first"] > 1.0


def test_stderr_lines_arrive_apart_from_stdout_each_in_order(tmp_path):
    result, lines = sh("i=0; while [ $i -lt 2000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done",
                       tmp_path)
    assert result.exit_code == 0
    assert lines.of("stdout") == [f"out{i}" for i in range(2000)]
    assert lines.of("stderr") == [f"err{i}" for i in range(2000)]


def test_final_line_without_newline_is_delivered_and_crlf_is_stripped(tmp_path):
    result, lines = sh(r"printf 'dos\r\n\nlast'; printf 'err-last' >&2", tmp_path)
    assert result.exit_code == 0
    assert lines.of("stdout") == ["dos", "", "last"]
    assert lines.of("stderr") == ["err-last"]


def test_invalid_utf8_and_nul_bytes_are_replaced(tmp_path):
    result, lines = sh(r"printf 'caf\303\251 \377\376 ok\000end\n'", tmp_path)
    assert result.exit_code == 0
    assert lines.of("stdout") == ["café \ufffd\ufffd ok\ufffdend"]


def test_binary_garbage_is_delivered_without_crashing(tmp_path):
    result, lines = sh("head -c 3000000 /dev/urandom", tmp_path)
    assert result.exit_code == 0
    texts = lines.of("stdout")
    assert texts and all("\x00" not in t and len(t) <= MAX_CHUNK for t in texts)
    assert sum(len(t) for t in texts) > 1_000_000


def test_a_5mb_single_line_arrives_complete_in_pieces_of_at_most_1mib(tmp_path):
    # Two-byte characters: a piece must never cut one in half.
    code = "import sys; sys.stdout.write('x' + 'é' * 2_500_000 + '\\n'); sys.stdout.write('next\\n')"
    lines = Lines()
    result = run([sys.executable, "-c", code], tmp_path, lines)
    assert result.exit_code == 0
    pieces = lines.of("stdout")
    assert pieces[-1] == "next"
    assert len(pieces) >= 5
    assert all(len(p.encode()) <= MAX_CHUNK for p in pieces)
    assert "".join(pieces[:-1]) == "x" + "é" * 2_500_000


def test_stop_kills_the_child_and_grandchild_and_returns_promptly(tmp_path):
    script = textwrap.dedent("""
        sleep 30 & echo child $!
        sh -c 'sleep 30 & echo grandchild $!; wait' &
        wait
    """)
    lines, stop = Lines(), threading.Event()
    pids: list[int] = []

    def stop_when_both_started() -> None:
        pids.append(int(lines.wait_for("child ").split()[1]))
        pids.append(int(lines.wait_for("grandchild ").split()[1]))
        time.sleep(0.2)
        stop.set()

    threading.Thread(target=stop_when_both_started, daemon=True).start()
    started = time.monotonic()
    result, _ = sh(script, tmp_path, lines=lines, stop=stop)
    assert time.monotonic() - started < 5
    assert result.stopped and result.exit_code == 128 + signal.SIGTERM
    assert len(pids) == 2 and wait_dead(pids) == []


def test_stop_during_sleep_returns_well_under_five_seconds(tmp_path):
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    result, _ = sh("sleep 30", tmp_path, stop=stop)
    assert time.monotonic() - started < 3
    assert result == ProcessResult(exit_code=128 + signal.SIGTERM, stopped=True)


def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path):
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    result, _ = sh("trap '' TERM; sleep 30; echo survived", tmp_path, stop=stop)
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 6
    assert result == ProcessResult(exit_code=128 + signal.SIGKILL, stopped=True)


def test_background_child_left_in_the_group_is_killed_when_the_task_ends(tmp_path):
    started = time.monotonic()
    result, lines = sh("sleep 30 & echo bg $!", tmp_path)
    assert result.exit_code == 0 and time.monotonic() - started < 3
    assert wait_dead([int(lines.wait_for("bg ").split()[1])]) == []


def test_group_member_that_cleared_its_environment_is_killed_with_the_group(tmp_path):
    result, lines = sh("env -i sleep 30 & echo bg $!", tmp_path)
    assert result.exit_code == 0
    assert wait_dead([int(lines.wait_for("bg ").split()[1])]) == []


@pytest.mark.parametrize("keeps_pipes", [True, False], ids=["holding-the-pipes", "detached-fds"])
def test_setsid_daemon_is_killed_when_the_task_ends(tmp_path, keeps_pipes):
    redirect = "" if keeps_pipes else "</dev/null >/dev/null 2>&1"
    script = (f"setsid sh -c 'echo $$ > daemon.pid; exec sleep 30' {redirect} &\n"
              "while [ ! -s daemon.pid ]; do sleep 0.01; done; echo main done")
    started = time.monotonic()
    result, lines = sh(script, tmp_path)
    assert result.exit_code == 0 and lines.of("stdout") == ["main done"]
    assert time.monotonic() - started < 3  # the daemon's open pipes did not hold the task
    daemon = int((tmp_path / "daemon.pid").read_text())
    assert wait_dead([daemon]) == []


def test_roost_killed_with_sigkill_takes_its_task_processes_along(tmp_path):
    host = textwrap.dedent(f"""
        import sys, threading
        from pathlib import Path
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from engine.runners.process import ProcessRunner, ProcessSpec
        def echo(stream, text):
            print(text, flush=True)
        script = "setsid sleep 31 & echo daemon $!; sleep 30 & echo child $!; wait"
        ProcessRunner().run(ProcessSpec(["sh", "-c", script], Path("."), {{"PATH": "/usr/bin:/bin"}},
                                        "tr-host"), echo, threading.Event())
    """)
    roost = subprocess.Popen([sys.executable, "-c", host], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert roost.stdout is not None
    pids = {}
    while len(pids) < 2:
        name, pid = roost.stdout.readline().split()
        pids[name] = int(pid)
    assert all(is_alive(pid) for pid in pids.values())
    roost.kill()
    roost.wait()
    assert wait_dead(list(pids.values())) == []


@pytest.mark.parametrize(("script", "code"), [("exit 0", 0), ("exit 7", 7), ("kill -9 $$", 137),
                                              ("kill -TERM $$", 143)])
def test_exit_code_is_the_process_s_or_128_plus_the_signal(tmp_path, script, code):
    result, _ = sh(script, tmp_path)
    assert result == ProcessResult(exit_code=code)


def test_missing_interpreter_raises_a_start_error_naming_it(tmp_path):
    with pytest.raises(ProcessStartError) as error:
        run(["/nonexistent/shell", "-c", "true"], tmp_path)
    assert str(error.value) == "cannot start '/nonexistent/shell': No such file or directory"


def test_non_executable_program_raises_a_start_error(tmp_path):
    program = tmp_path / "not-executable"
    program.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(ProcessStartError, match="not-executable.*Permission denied"):
        run([str(program)], tmp_path)


def test_missing_working_directory_raises_a_start_error_naming_it(tmp_path):
    with pytest.raises(ProcessStartError, match="in '.*gone'"):
        run(["sh", "-c", "true"], tmp_path / "gone")


def test_process_gets_the_marker_an_empty_stdin_and_the_working_directory(tmp_path):
    result, lines = sh('echo "$ROOST_TASK_RUN"; cat; pwd', tmp_path, marker="tr-42")
    assert result.exit_code == 0
    assert lines.of("stdout") == ["tr-42", str(tmp_path)]


def test_a_failing_on_line_still_kills_the_process(tmp_path):
    def explode(stream: str, text: str) -> None:
        raise RuntimeError(text)

    pid_file = tmp_path / "pid"
    with pytest.raises(RuntimeError, match="boom"):
        run(["sh", "-c", f"echo $$ > {pid_file}; echo boom; sleep 30"], tmp_path, explode)
    assert wait_dead([int(pid_file.read_text())]) == []
