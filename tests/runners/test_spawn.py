"""How a task's process is started: what it inherits, where its program is found, what is refused.

Each behaviour is checked on both paths: glibc's posix_spawn through ctypes (Linux) and the
subprocess.Popen fallback (macOS, musl, an old glibc), which must not differ.
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from engine.runners import spawn as spawn_module
from engine.runners.spawn import Child, spawn


@pytest.fixture(params=["posix_spawn", "popen"])
def path(request, monkeypatch) -> str:
    if request.param == "popen":
        monkeypatch.setattr(spawn_module, "_loaded", [None])
    elif spawn_module._libc() is None:
        pytest.skip("no glibc posix_spawn with addchdir_np and addclosefrom_np here")
    return request.param


@pytest.fixture
def stdin():
    fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    yield fd
    os.close(fd)


def output_of(child: Child) -> tuple[int, str, str]:
    """The exit code, stdout and stderr of a child, read to the end."""
    chunks: dict[int, list[bytes]] = {child.stdout_fd: [], child.stderr_fd: []}
    for fd, parts in chunks.items():
        while data := os.read(fd, 65536):
            parts.append(data)
    code = child.wait()
    child.close_pipes()
    out, err = (b"".join(parts).decode() for parts in chunks.values())
    return code, out, err


def base_env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"]}


@pytest.fixture(params=["the task's own PATH", "Roost's own PATH"])
def search_path(request, monkeypatch, path):
    """Gives the PATH a test's child gets. With Roost's own, the glibc path looks the program
    up in the child (posix_spawnp); with another, in Roost (a stat per entry): both must agree."""
    def child_path(value: str) -> dict[str, str]:
        if request.param == "Roost's own PATH":
            monkeypatch.setenv("PATH", value)
            libc = spawn_module._libc()
            assert path == "popen" or (libc is not None and spawn_module._is_parent_path(libc, value))
        return {"PATH": value}
    return child_path


def test_child_leads_its_own_session(path, tmp_path, stdin):
    child = spawn(["sh", "-c", "cat /proc/$$/stat"], tmp_path, base_env(), stdin)
    _code, out, _err = output_of(child)
    fields = out.rsplit(")", 1)[1].split()
    assert int(fields[3]) == child.pid  # the session id is its own pid
    assert int(fields[2]) == child.pid  # and so is its process group


def test_sigpipe_and_sigxfsz_are_back_to_default_and_no_signal_is_blocked(path, tmp_path, stdin):
    child = spawn(["cat", "/proc/self/status"], tmp_path, base_env(), stdin)
    _code, out, _err = output_of(child)
    masks = {line.split(":")[0]: int(line.split(":")[1], 16) for line in out.splitlines()
             if line.startswith(("SigIgn", "SigBlk"))}
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not masks["SigIgn"] & (1 << (number - 1)), signal.Signals(number).name
    assert masks["SigBlk"] == 0


def test_descriptors_above_stderr_are_closed_even_inheritable_ones(path, tmp_path, stdin):
    leaked = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leaked, True)
    try:
        child = spawn(["sh", "-c", "ls /proc/$$/fd"], tmp_path, base_env(), stdin)
        _code, out, _err = output_of(child)
    finally:
        os.close(leaked)
    assert sorted(int(fd) for fd in out.split()) == [0, 1, 2]


def test_stdin_is_the_given_descriptor_and_the_directory_the_given_one(path, tmp_path, stdin):
    child = spawn(["sh", "-c", "pwd; cat; echo end"], tmp_path, base_env(), stdin)
    assert output_of(child) == (0, f"{tmp_path}\nend\n", "")


def test_the_environment_is_exactly_the_one_given(path, tmp_path, stdin):
    child = spawn(["/usr/bin/env"], tmp_path, {"ONLY": "this", "ACCENT": "é"}, stdin)
    _code, out, _err = output_of(child)
    assert sorted(out.splitlines()) == ["ACCENT=é", "ONLY=this"]


def test_program_is_found_on_the_child_s_path(search_path, tmp_path, stdin):
    tools = tmp_path / "tools"
    tools.mkdir()
    program = tools / "hello-roost"
    program.write_text("#!/bin/sh\necho found\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    child = spawn(["hello-roost"], tmp_path, search_path(f"{tools}{os.pathsep}/bin"), stdin)
    assert output_of(child) == (0, "found\n", "")


def test_a_relative_path_entry_is_taken_from_the_child_s_directory(search_path, tmp_path, stdin):
    (tmp_path / "work" / "bin").mkdir(parents=True)
    (tmp_path / "work" / "bin" / "near-roost").write_text("#!/bin/sh\necho near\n")
    (tmp_path / "work" / "bin" / "near-roost").chmod(0o755)
    child = spawn(["near-roost"], tmp_path / "work", search_path(f"bin{os.pathsep}/bin"), stdin)
    assert output_of(child) == (0, "near\n", "")


def test_a_program_found_but_not_executable_is_permission_denied_naming_it(search_path, tmp_path, stdin):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "plain-roost").write_text("#!/bin/sh\necho never\n")
    with pytest.raises(PermissionError) as raised:
        spawn(["plain-roost"], tmp_path, search_path(f"{tmp_path / 'tools'}{os.pathsep}/bin"), stdin)
    assert raised.value.filename == "plain-roost"


def test_a_program_on_no_path_entry_is_missing_naming_it(search_path, tmp_path, stdin):
    with pytest.raises(FileNotFoundError) as raised:
        spawn(["nowhere-roost"], tmp_path, search_path(f"{tmp_path}{os.pathsep}/bin"), stdin)
    assert raised.value.filename == "nowhere-roost"


def test_relative_program_runs_from_the_child_s_directory(path, tmp_path, stdin):
    (tmp_path / "work").mkdir()
    script = tmp_path / "work" / "run.sh"
    script.write_text("#!/bin/sh\necho relative\n")
    script.chmod(0o755)
    child = spawn(["./run.sh"], tmp_path / "work", base_env(), stdin)
    assert output_of(child) == (0, "relative\n", "")


def test_exit_by_signal_is_minus_the_signal(path, tmp_path, stdin):
    child = spawn(["sh", "-c", "kill -TERM $$"], tmp_path, base_env(), stdin)
    assert output_of(child)[0] == -signal.SIGTERM


def test_missing_program_is_an_oserror_naming_it(path, tmp_path, stdin):
    with pytest.raises(OSError) as raised:
        spawn(["no-such-program-roost"], tmp_path, base_env(), stdin)
    assert raised.value.filename == "no-such-program-roost"


def test_missing_directory_is_an_oserror_naming_it(path, tmp_path, stdin):
    gone = tmp_path / "gone"
    with pytest.raises(OSError) as raised:
        spawn(["/bin/sh", "-c", "true"], gone, base_env(), stdin)
    assert str(raised.value.filename) == str(gone)


def test_nul_byte_in_the_environment_is_refused(path, tmp_path, stdin):
    with pytest.raises(ValueError):
        spawn(["/bin/sh", "-c", "true"], tmp_path, {"BAD": "a\0b"}, stdin)


def test_no_descriptor_is_left_open_after_a_failed_start(path, tmp_path, stdin):
    before = set(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(OSError):
            spawn(["/bin/sh"], tmp_path / "gone", base_env(), stdin)
    assert set(os.listdir("/proc/self/fd")) <= before


def test_the_spawn_path_is_the_libc_one_on_linux_glibc():
    """Pinned so a broken ctypes binding falls back loudly here rather than silently in users' runs."""
    libc = os.confstr("CS_GNU_LIBC_VERSION") if os.uname().sysname == "Linux" else None
    if not libc or not libc.startswith("glibc "):
        pytest.skip("not glibc")
    major, minor = (int(x) for x in libc.split()[1].split(".")[:2])
    if (major, minor) < (2, 34):
        pytest.skip("glibc older than 2.34 has no addclosefrom_np")
    assert spawn_module._libc() is not None


def test_a_path_entry_that_is_a_directory_of_that_name_is_skipped(search_path, tmp_path, stdin):
    decoy, real = tmp_path / "decoy", tmp_path / "real"
    (decoy / "tool-roost").mkdir(parents=True)  # a folder named like the program
    real.mkdir()
    (real / "tool-roost").write_text("#!/bin/sh\necho real\n")
    (real / "tool-roost").chmod(0o755)
    child = spawn(["tool-roost"], tmp_path, search_path(f"{decoy}{os.pathsep}{real}{os.pathsep}/bin"), stdin)
    assert output_of(child) == (0, "real\n", "")


def test_a_roost_whose_own_stdin_stdout_and_stderr_are_closed_still_wires_the_child(tmp_path):
    """The pipes and /dev/null then get descriptors 0-2 themselves; each must still land on the
    child's right stream (what the child writes to stdout and stderr arrives apart, stdin empty)."""
    import subprocess
    import sys

    result = tmp_path / "result"
    program = f"""
import os, sys
os.close(0); os.close(1); os.close(2)
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from engine.runners.spawn import spawn
stdin = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)   # gets descriptor 0
child = spawn(["sh", "-c", "echo out; echo err >&2; cat"], {str(tmp_path)!r}, {{"PATH": {os.environ["PATH"]!r}}}, stdin)
got = {{}}
for name, fd in (("out", child.stdout_fd), ("err", child.stderr_fd)):
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    got[name] = data.decode()
got["code"] = child.wait()
open({str(result)!r}, "w").write(repr(got))
"""
    subprocess.run([sys.executable, "-c", program], check=True, timeout=60)
    assert result.read_text() == repr({"out": "out\n", "err": "err\n", "code": 0})


def test_roost_spawn_popen_asks_for_the_subprocess_path():
    import subprocess
    import sys

    probe = "from engine.runners import spawn; print(spawn._libc() is None)"
    env = os.environ | {"ROOST_SPAWN": "popen", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_a_child_reaped_elsewhere_counts_as_exit_0_as_popen_says(path, tmp_path, stdin):
    child = spawn(["true"], tmp_path, base_env(), stdin)
    os.waitpid(child.pid, 0)  # what SIGCHLD set to SIG_IGN, or another reaper, does
    assert child.wait() == 0
    child.close_pipes()
