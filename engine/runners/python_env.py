"""Isolated Python environments for script tasks, built with uv and kept under ROOST_HOME.

Why: a python task on the process runner must never write into the user's own interpreter
(`dependencies`, or `pip install` in beforeCommands). Each task gets a virtualenv instead:
one per flow when it declares no dependencies, or one keyed by Python version, package
manager and the normalised dependency list (Kestra's requirements hash) that every flow
declaring the same list shares. A keyed env is built once: a lock (fcntl) makes concurrent
builders of the same key wait for the first, and a marker written only after a complete
install means a killed install is rebuilt, never reused. Later runs are one file lookup.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.runners.process import ProcessRunner, ProcessSpec, ProcessStartError

MARKER = ".roost-complete"
TAIL_LINES = 15
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$", re.DOTALL)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Variables of the user's shell that would point the build at another interpreter.
_DROPPED = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "CONDA_PREFIX", "UV_SYSTEM_PYTHON")

Log = Callable[[str, str], None]


class EnvError(Exception):
    """An environment could not be made: the message says which packages and why."""


def find_uv() -> str:
    """The uv binary Roost ships (the `uv` PyPI package), else one on PATH."""
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise EnvError("uv is not installed: reinstall Roost (pip install roost) or put uv on PATH, "
                   "or set [python] isolate = false in roost.toml")


@dataclass(frozen=True)
class BaseInterpreter:
    """The python an environment is made from: what `uv venv --python` gets, and its identity."""

    request: str
    """An executable path, or a version (`pythonVersion: "3.12"`) that uv looks up."""
    identity: str
    """Version and installation, part of every env key: another python means another env."""


def local_interpreter(search_path: str, environ: Mapping[str, str]) -> BaseInterpreter:
    """The user's python on the task's PATH (python3, else python), as its real executable."""
    found = shutil.which("python3", path=search_path) or shutil.which("python", path=search_path)
    if found is None:
        raise EnvError(f"no python3 or python on PATH ({search_path}): install Python or set "
                       "'pythonVersion' for uv to find one")
    stat = os.stat(found)
    return _describe(found, stat.st_mtime_ns, environ.get("PYENV_VERSION", ""), search_path)


@functools.lru_cache(maxsize=32)
def _describe(path: str, _mtime: int, pyenv: str, search_path: str) -> BaseInterpreter:
    """Asks the interpreter once per process: a pyenv shim only knows its python when run."""
    probe = "import sys; print(sys.executable); print(sys.base_prefix); print(sys.version.split()[0])"
    env = {**os.environ, "PATH": search_path, **({"PYENV_VERSION": pyenv} if pyenv else {})}
    try:
        done = subprocess.run([path, "-c", probe], capture_output=True, text=True, timeout=60,
                              env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvError(f"cannot run {path}: {exc}") from None
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) < 3:
        raise EnvError(f"{path} does not run as a python: {done.stderr.strip()[-300:]}")
    executable, prefix, version = lines[:3]
    return BaseInterpreter(executable or path, f"{version} {prefix}")


def requested_interpreter(version: str) -> BaseInterpreter:
    return BaseInterpreter(version, f"requested {version}")


def normalise_requirements(packages: Sequence[str]) -> tuple[str, ...]:
    """Sorted, deduplicated specifiers with PEP 503 names: `Six` and `six ` are one env."""
    result = set()
    for raw in packages:
        text = "".join(raw.split())
        if not text:
            continue
        match = _NAME.match(text)
        if match:
            text = re.sub(r"[-_.]+", "-", match.group(1)).lower() + match.group(2)
        result.add(text)
    return tuple(sorted(result))


@dataclass(frozen=True)
class EnvSpec:
    """What a keyed environment is made of; equal specs share one env."""

    python: BaseInterpreter
    packages: tuple[str, ...]
    manager: str = "UV"

    def key(self) -> str:
        text = "\n".join([f"#pyversion: {self.python.identity}", f"#manager: {self.manager}",
                          *self.packages])
        return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class PythonEnv:
    """A virtualenv a task runs in; a temporary one is removed by `discard`."""

    root: Path
    temporary: bool = False

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def environment(self, search_path: str) -> dict[str, str]:
        """VIRTUAL_ENV and PATH so that `python`, `python3` and `pip` resolve into the env."""
        return {"VIRTUAL_ENV": str(self.root), "PATH": f"{self.bin}{os.pathsep}{search_path}"}

    def discard(self) -> None:
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)


class EnvBuilder:
    """Makes environments under `cache_root`, running uv or pip as the task's own processes."""

    def __init__(self, cache_root: Path, environ: Mapping[str, str], stop: threading.Event,
                 marker: str, log: Log) -> None:
        self.root = cache_root
        self.environ = {k: v for k, v in environ.items() if k not in _DROPPED}
        self.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        self.stop = stop
        self.marker = marker
        self.log = log

    def flow_env(self, namespace: str, flow_id: str, python: BaseInterpreter) -> PythonEnv:
        """The flow's own venv (pip seeded), made on its first run and reused after."""
        tag = hashlib.sha256(python.identity.encode()).hexdigest()[:8]
        folder = self.root / "flows" / f"{_UNSAFE.sub('_', namespace)}.{_UNSAFE.sub('_', flow_id)}-{tag}"

        def build(target: Path) -> None:
            self.log("DEBUG", f"creating the python environment of flow {namespace}.{flow_id} in {target}")
            self._run([find_uv(), "venv", "--seed", "--quiet", "--python", python.request, str(target)],
                      "DEBUG", "create a virtualenv")

        return self._cached(folder, build, {"flow": f"{namespace}.{flow_id}", "python": python.identity})

    def dependency_env(self, spec: EnvSpec, *, cached: bool) -> PythonEnv:
        """The env of `spec`: looked up (cached), or built fresh in a temporary folder."""
        if not cached:
            folder = self.root / "tmp" / uuid.uuid4().hex
            try:
                self._build_dependencies(spec, folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return PythonEnv(folder, temporary=True)
        folder = self.root / "envs" / spec.key()
        return self._cached(folder, lambda target: self._build_dependencies(spec, target),
                            {"python": spec.python.identity, "manager": spec.manager,
                             "packages": list(spec.packages)})

    def _cached(self, folder: Path, build: Callable[[Path], None], description: dict[str, object]) -> PythonEnv:
        marker = folder / MARKER
        if marker.is_file():
            return PythonEnv(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive(folder.with_name(folder.name + ".lock"), self.stop):
            if marker.is_file():   # built by whoever held the lock before us
                return PythonEnv(folder)
            shutil.rmtree(folder, ignore_errors=True)   # what a killed build left
            build(folder)
            marker.write_text(json.dumps(description), encoding="utf-8")
        return PythonEnv(folder)

    def _build_dependencies(self, spec: EnvSpec, target: Path) -> None:
        names = " ".join(spec.packages)
        self.log("INFO", f"installing python dependencies {names} with {spec.manager.lower()} "
                         f"into {target}")
        python = str(target / "bin" / "python")
        # Both managers start from a pip-seeded `uv venv` (python -m venv's ensurepip takes ~10 s).
        uv = find_uv()
        self._run([uv, "venv", "--seed", "--quiet", "--python", spec.python.request, str(target)],
                  "DEBUG", "create a virtualenv (uv venv)")
        if spec.manager == "PIP":
            self._run([python, "-m", "pip", "install", "--disable-pip-version-check",
                       "--no-input", *spec.packages], "INFO", f"pip install {names}")
        else:
            self._run([uv, "pip", "install", "--python", python, *spec.packages], "INFO",
                      f"uv pip install {names}")

    def _run(self, args: list[str], level: str, what: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tail: deque[str] = deque(maxlen=TAIL_LINES)

        def on_line(_stream: str, text: str) -> None:
            if text.strip():
                tail.append(text)
                self.log(level, text)

        try:
            result = ProcessRunner().run(ProcessSpec(args=args, cwd=self.root, env=dict(self.environ),
                                                     marker=self.marker), on_line, self.stop)
        except ProcessStartError as exc:
            raise EnvError(f"cannot {what}: {exc}") from None
        if result.stopped:
            raise EnvError(f"stopped while running {what}")
        if result.exit_code != 0:
            detail = "\n".join(tail) or "(no output)"
            raise EnvError(f"python dependencies could not be installed: {what} failed "
                           f"(exit code {result.exit_code}):\n{detail}")


@contextlib.contextmanager
def _exclusive(path: Path, stop: threading.Event) -> Iterator[None]:
    """An flock on `path`, waited for in short slices so that a cancelled task stops waiting."""
    with open(path, "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if stop.is_set():
                    raise EnvError("stopped while waiting for another task building the same "
                                   "python environment") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
