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
    """What on_line received; ``when_seen`` runs an action as a given line arrives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.actions: dict[str, Callable[[], None]] = {}

    def __call__(self, stream: str, text: str) -> None:
        with self.lock:
            self.received.append((stream, text))
        action = self.actions.pop(text, None)
        if action is not None:
            action()

    def when_seen(self, text: str, action: Callable[[], None]) -> None:
        self.actions[text] = action

    def of(self, stream: str) -> list[str]:
        return [text for s, text in self.received if s == stream]

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for _, text in self.received:
                    if text.startswith(prefix):
                        return text
            time.sleep(0.01)
        raise AssertionError(f"no line starting with {prefix!r}: {self.received}")


def wait_for_file(flag: Path, then: str, otherwise: str) -> str:
    """Shell: wait up to a minute for ``flag`` to exist, then echo one of two words."""
    return (f"i=0; while [ ! -e {flag} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
            f"if [ -e {flag} ]; then echo {then}; else echo {otherwise}; fi")


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


def wait_dead(pids: list[int], timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if is_alive(pid)]
        if not alive:
            return []
        time.sleep(0.02)
    return [pid for pid in pids if is_alive(pid)]


def test_lines_reach_on_line_while_the_process_still_runs(tmp_path):
    # A rendezvous: the script waits for a file that on_line creates when "first" arrives.
    flag = tmp_path / "seen-first"
    lines = Lines()
    lines.when_seen("first", flag.touch)
    result, _ = sh(f"echo first; {wait_for_file(flag, 'second', 'first-never-arrived')}", tmp_path,
                   lines=lines)
    assert result == ProcessResult(exit_code=0)
    assert lines.of("stdout") == ["first", "second"]


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
    result, _ = sh(script, tmp_path, lines=lines, stop=stop)  # returns once both are killed
    assert result.stopped and result.exit_code == 128 + signal.SIGTERM
    assert len(pids) == 2 and wait_dead(pids) == []


# The processes below would run for 10 minutes by themselves: a runner that waited for them
# instead of ending them is cut off by this timeout; the tests assert how they ended.
OUTLIVES = pytest.mark.timeout(90)


@OUTLIVES
def test_stop_during_sleep_ends_the_process_with_sigterm(tmp_path):
    lines, stop = Lines(), threading.Event()
    lines.when_seen("sleeping", stop.set)
    result, _ = sh("echo sleeping; sleep 600", tmp_path, lines=lines, stop=stop)
    assert result == ProcessResult(exit_code=128 + signal.SIGTERM, stopped=True)


@OUTLIVES
def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path):
    # The script notes the SIGTERM and goes on (its sleeps die with the group, the loop does
    # not): only the SIGKILL that follows ends it.
    lines, stop = Lines(), threading.Event()
    lines.when_seen("looping", stop.set)
    result, _ = sh("trap 'echo got TERM' TERM; echo looping; "
                   "i=0; while [ $i -lt 6000 ]; do sleep 0.1; i=$((i+1)); done; echo survived",
                   tmp_path, lines=lines, stop=stop)
    assert result == ProcessResult(exit_code=128 + signal.SIGKILL, stopped=True)
    assert lines.of("stdout") == ["looping", "got TERM"]  # TERM first, and it was not the end


@OUTLIVES
def test_background_child_left_in_the_group_is_killed_when_the_task_ends(tmp_path):
    result, lines = sh("sleep 600 & echo bg $!", tmp_path)  # returns without waiting for it
    assert result.exit_code == 0
    assert wait_dead([int(lines.wait_for("bg ").split()[1])]) == []


def test_group_member_that_cleared_its_environment_is_killed_with_the_group(tmp_path):
    result, lines = sh("env -i sleep 30 & echo bg $!", tmp_path)
    assert result.exit_code == 0
    assert wait_dead([int(lines.wait_for("bg ").split()[1])]) == []


@OUTLIVES
@pytest.mark.parametrize("keeps_pipes", [True, False], ids=["holding-the-pipes", "detached-fds"])
def test_setsid_daemon_is_killed_when_the_task_ends(tmp_path, keeps_pipes):
    redirect = "" if keeps_pipes else "</dev/null >/dev/null 2>&1"
    script = (f"setsid sh -c 'echo $$ > daemon.pid; exec sleep 600' {redirect} &\n"
              "while [ ! -s daemon.pid ]; do sleep 0.01; done; echo main done")
    result, lines = sh(script, tmp_path)  # the daemon's open pipes do not hold the task
    assert result.exit_code == 0 and lines.of("stdout") == ["main done"]
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



def test_the_process_wait_hooks_hear_once_per_process_while_it_runs(tmp_path):
    """The history writer is told when the executor blocks on a process (engine.core.process_waits):
    once per process, while it runs (this one waits for a file the test makes only once told)."""
    from engine.core.process_waits import on_process_wait

    told = threading.Event()
    calls: list[int] = []
    remove = on_process_wait(lambda: (calls.append(1), told.set()))
    flag = tmp_path / "go"
    outcome: list[tuple[ProcessResult, Lines]] = []
    try:
        runner = threading.Thread(target=lambda: outcome.append(
            sh(wait_for_file(flag, "released", "timed-out"), tmp_path)))
        runner.start()
        assert told.wait(60), "the hook never heard of the process"
        flag.touch()
        runner.join(120)
    finally:
        remove()
    result, lines = outcome[0]
    assert (result.exit_code, lines.of("stdout"), calls) == (0, ["released"], [1])
