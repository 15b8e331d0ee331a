"""Starting a task's process: glibc's `posix_spawn`, or `subprocess.Popen` where it is missing.

Why not `subprocess.Popen` everywhere: per task it costs about a fifth of a millisecond of
Python on top of the `vfork` and `exec` themselves (the environment encoded item by item, an
error pipe, file objects, an `ExitStack` to close the child's ends), which the shell-task
benchmark counts against a plain `subprocess.run` loop. And `os.posix_spawn` has no working
directory before Python 3.13 (a `chdir` around it would race parallel branches). glibc has
both: `posix_spawn_file_actions_addchdir_np` (2.29) and `addclosefrom_np` (2.34), so the
child is started by one libc call, through ctypes, with what Popen would give it:

* its own session (`setsid`), the signal mask empty, SIGPIPE and SIGXFSZ back to their
  default (Python ignores them; ignored signals survive `exec`), every descriptor from 3 up
  closed, stdin from the given descriptor, stdout and stderr to two new pipes;
* the program found on the PATH of the child's environment, in the child's directory for a
  relative name, as Popen finds it; a missing program or directory is an `OSError` naming it.

Elsewhere (macOS, musl, an older glibc) `Popen` does the same job behind the same `Child`.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["Child", "spawn"]

_POSIX_SPAWN_SETSIGDEF = 0x04
_POSIX_SPAWN_SETSIGMASK = 0x08
_POSIX_SPAWN_SETSID = 0x80
_OPAQUE_BYTES = 1024  # posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 on x86-64


class Child:
    """A started process: its pid, the read ends of its stdout and stderr, its exit code."""

    def __init__(self, pid: int, stdout_fd: int, stderr_fd: int,
                 popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self.stdout_fd = stdout_fd
        self.stderr_fd = stderr_fd
        self.returncode: int | None = None
        self._popen = popen

    def wait(self) -> int:
        """Reap the process: its exit code, or minus the signal that killed it (Popen's way)."""
        if self.returncode is None:
            if self._popen is not None:
                self.returncode = self._popen.wait()
            else:
                try:
                    _pid, status = os.waitpid(self.pid, 0)
                except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): as Popen, 0
                    status = 0
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def close_pipes(self) -> None:
        if self._popen is not None:
            for pipe in (self._popen.stdout, self._popen.stderr):
                if pipe is not None:
                    pipe.close()
            return
        for fd in (self.stdout_fd, self.stderr_fd):
            if fd >= 0:
                os.close(fd)
        self.stdout_fd = self.stderr_fd = -1


def spawn(args: Sequence[str], cwd: Path, env: Mapping[str, str], stdin_fd: int) -> Child:
    """Start `args` in `cwd` with exactly `env`, in a new session; raises OSError (with the
    missing program or directory as its filename) or ValueError (a NUL byte, a bad name)."""
    libc = _libc()
    if libc is None:
        return _popen(args, cwd, env, stdin_fd)
    argv = [_encoded(a, "argument") for a in args]
    envp = _env_entries(env)
    # A bare name on Roost's own PATH is looked up by glibc in the child (posix_spawnp, as
    # execvp: after the chdir, so relative PATH entries mean what they mean to Popen). A
    # lookup here costs a stat per PATH entry, ~50 us a task between two spawns.
    search_in_child = "/" not in args[0] and _is_parent_path(libc, env.get("PATH"))
    program = _encoded(args[0], "program") if search_in_child else _find_program(args[0], cwd, env)
    # With Roost's own stdio closed these may be descriptors 0-2: the dup2s below still land
    # right (glibc clears close-on-exec when a descriptor is dup2'd onto itself).
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        pid = _posix_spawn(libc, program, argv, envp, cwd, stdin_fd, out_write, err_write, search_in_child)
    except BaseException:
        os.close(out_read)
        os.close(err_read)
        raise
    finally:
        os.close(out_write)
        os.close(err_write)
    return Child(pid, out_read, err_read)


def _posix_spawn(libc: ctypes.CDLL, program: bytes, argv: list[bytes], envp: list[bytes],
                 cwd: Path, stdin_fd: int, out_fd: int, err_fd: int, search_path: bool = False) -> int:
    actions = ctypes.create_string_buffer(_OPAQUE_BYTES)
    if libc.posix_spawn_file_actions_init(actions) != 0:
        raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))
    try:
        directory = os.fsencode(cwd)
        for code in (libc.posix_spawn_file_actions_adddup2(actions, stdin_fd, 0),
                     libc.posix_spawn_file_actions_adddup2(actions, out_fd, 1),
                     libc.posix_spawn_file_actions_adddup2(actions, err_fd, 2),
                     libc.posix_spawn_file_actions_addchdir_np(actions, directory),
                     libc.posix_spawn_file_actions_addclosefrom_np(actions, 3)):
            if code != 0:
                raise OSError(code, os.strerror(code))
        pid = ctypes.c_int()
        call = libc.posix_spawnp if search_path else libc.posix_spawn
        code = call(ctypes.byref(pid), program, actions, _ATTRIBUTES[0],
                    (ctypes.c_char_p * (len(argv) + 1))(*argv, None),
                    (ctypes.c_char_p * (len(envp) + 1))(*envp, None))
    finally:
        libc.posix_spawn_file_actions_destroy(actions)
    if code != 0:
        # glibc reports a failed chdir and a failed exec alike: say which one it was.
        missing = os.fsdecode(directory) if not os.path.isdir(directory) else os.fsdecode(program)
        raise OSError(code, os.strerror(code), missing)
    return pid.value


def _is_parent_path(libc: ctypes.CDLL, path: str | None) -> bool:
    """Whether `path` is this process's own PATH, the one posix_spawnp searches."""
    if path is None:
        return False
    own = libc.getenv(b"PATH")
    return own is not None and own == os.fsencode(path)


def _find_program(program: str, cwd: Path, env: Mapping[str, str]) -> bytes:
    """The path to exec: `program` itself when it holds a slash (relative to the child's
    directory), else the first executable file of that name on the child's PATH."""
    if "/" in program:
        return _encoded(program, "program")
    denied = False
    for folder in os.get_exec_path(env):
        candidate = os.path.join(folder, program)
        on_disk = candidate if os.path.isabs(candidate) else os.path.join(cwd, candidate)
        if os.path.isfile(on_disk):
            if os.access(on_disk, os.X_OK):
                return _encoded(on_disk, "program")
            denied = True
    code = errno.EACCES if denied else errno.ENOENT
    raise OSError(code, os.strerror(code), program)


def _encoded(text: str, what: str) -> bytes:
    if "\0" in text:
        raise ValueError(f"embedded null byte in {what}")
    return os.fsencode(text)


_ENV_ENTRIES: dict[tuple[str, str], bytes] = {}
_ENV_ENTRIES_MAX = 4096


def _env_entries(env: Mapping[str, str]) -> list[bytes]:
    """`NAME=value` entries, each checked and encoded once: tasks share almost all of them."""
    known = _ENV_ENTRIES
    if len(known) > _ENV_ENTRIES_MAX:  # values that change per task (ids) must not pile up
        known.clear()
    entries = []
    for item in env.items():
        entry = known.get(item)
        if entry is None:
            entry = known[item] = _env_entry(*item)
        entries.append(entry)
    return entries


def _env_entry(name: str, value: str) -> bytes:
    if "=" in name or not name:
        raise ValueError(f"illegal environment variable name: {name!r}")
    entry = f"{name}={value}"
    if "\0" in entry:
        raise ValueError("embedded null byte in the environment")
    return entry.encode(sys.getfilesystemencoding(), "surrogateescape")


def _popen(args: Sequence[str], cwd: Path, env: Mapping[str, str], stdin_fd: int) -> Child:
    proc = subprocess.Popen(list(args), cwd=cwd, env=dict(env), stdin=stdin_fd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None and proc.stderr is not None
    return Child(proc.pid, proc.stdout.fileno(), proc.stderr.fileno(), popen=proc)


_FLAGS = ctypes.c_short(_POSIX_SPAWN_SETSIGDEF | _POSIX_SPAWN_SETSIGMASK | _POSIX_SPAWN_SETSID)
_SIGNAL_SETS: tuple[ctypes.Array[ctypes.c_char], ctypes.Array[ctypes.c_char]] = (
    ctypes.create_string_buffer(128), ctypes.create_string_buffer(128))  # to default, the mask
_ATTRIBUTES: list[ctypes.Array[ctypes.c_char]] = []
"""posix_spawnattr_t, the same for every task (new session, signals as Popen leaves them):
made once with glibc and only read by posix_spawn, from any thread."""
_loaded: list[ctypes.CDLL | None] = []


def _libc() -> ctypes.CDLL | None:
    """glibc with every call used here, its signal sets filled in; None elsewhere."""
    if _loaded:
        return _loaded[0]
    libc: ctypes.CDLL | None = None
    if sys.platform.startswith("linux") and os.environ.get("ROOST_SPAWN") != "popen":
        try:
            candidate = ctypes.CDLL(None, use_errno=True)
            for name in ("posix_spawn", "posix_spawn_file_actions_init", "posix_spawn_file_actions_destroy",
                         "posix_spawn_file_actions_adddup2", "posix_spawn_file_actions_addchdir_np",
                         "posix_spawn_file_actions_addclosefrom_np", "posix_spawnattr_init",
                         "posix_spawnattr_destroy", "posix_spawnattr_setflags",
                         "posix_spawnattr_setsigdefault", "posix_spawnattr_setsigmask",
                         "sigemptyset", "sigaddset", "posix_spawnp", "getenv"):
                getattr(candidate, name)
            to_default, mask = _SIGNAL_SETS
            candidate.sigemptyset(to_default)
            candidate.sigemptyset(mask)
            for number in (signal.SIGPIPE, signal.SIGXFSZ):
                candidate.sigaddset(to_default, int(number))
            candidate.getenv.restype = ctypes.c_char_p
            _ATTRIBUTES.append(_spawn_attributes(candidate))
            libc = candidate
        except (OSError, AttributeError):  # not glibc, or older than 2.34
            libc = None
    _loaded.append(libc)
    return libc


def _spawn_attributes(libc: ctypes.CDLL) -> ctypes.Array[ctypes.c_char]:
    attributes = ctypes.create_string_buffer(_OPAQUE_BYTES)
    to_default, mask = _SIGNAL_SETS
    for code in (libc.posix_spawnattr_init(attributes),
                 libc.posix_spawnattr_setsigdefault(attributes, to_default),
                 libc.posix_spawnattr_setsigmask(attributes, mask),
                 libc.posix_spawnattr_setflags(attributes, _FLAGS)):
        if code != 0:
            raise OSError(code, os.strerror(code))
    return attributes
