"""A connection to a Docker engine: a quick reachability check cached per process, the labels
Roost puts on its containers, removal of containers left by dead Roost processes, and images.

Machines without Docker must not slow down: the first check of an address costs at most
PING_TIMEOUT and its answer is kept (a failure for FAILURE_TTL seconds, so an engine started
later is noticed by a long-running workbench).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import docker
from docker import errors as docker_errors
from docker.utils import kwargs_from_env, parse_repository_tag

DEFAULT_HOST = "unix:///var/run/docker.sock"
PING_TIMEOUT = 2.0
API_TIMEOUT = 120
FAILURE_TTL = 30.0
PULL_FAILURE_TTL = 120.0
PULL_ANSWER_TIMEOUT = 5.0
"""Seconds a pull may wait for the engine's first answer (it comes once a registry answered):
without a reachable registry the engine may try for minutes, and a task must not wait on it."""
PULL_STALL_TIMEOUT = 60.0
"""Seconds a started pull may go without any progress before it is given up."""

LABEL_MANAGED = "io.roost.managed"
LABEL_HOSTNAME = "io.roost.hostname"
LABEL_PID = "io.roost.pid"
LABEL_EXECUTION = "io.roost.execution"
LABEL_TASK_RUN = "io.roost.task-run"
LABEL_TASK = "io.roost.task"

PULL_POLICIES = ("IF_NOT_PRESENT", "ALWAYS", "NEVER")


class EngineUnreachable(Exception):
    """No Docker engine answers at an address; `reason` says why in a few words."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"the Docker engine at {url} is unreachable: {reason}")
        self.url = url
        self.reason = reason


class ImageUnavailable(Exception):
    """The image is neither on the engine nor pullable; the message is for the user as is."""


def engine_url(host_option: str | None, config_host: str | None, environ: Mapping[str, str]) -> str:
    """The engine's address: the runner's `host`, roost.toml's [docker] host, DOCKER_HOST, default."""
    for candidate in (host_option, config_host, environ.get("DOCKER_HOST")):
        if candidate and candidate.strip():
            return candidate.strip()
    return DEFAULT_HOST


def explain_connection_error(url: str, exc: BaseException) -> str:
    """A short reason from the layers of requests/urllib3 errors docker-py wraps."""
    text = str(exc)
    path = url[len("unix://"):] if url.startswith("unix://") else None
    if "FileNotFoundError" in text or "No such file or directory" in text:
        return f"no socket at {path}" if path else "no such file"
    if "PermissionError" in text or "Permission denied" in text:
        return (f"permission denied on {path} (is your user in the docker group?)" if path
                else "permission denied")
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    if "timed out" in text.lower() or "timeout" in text.lower():
        return f"no answer within {PING_TIMEOUT:g} s"
    text = re.sub(r"^Error while fetching server API version: ", "", text)
    return text[:300]


def pid_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass
class DockerEngine:
    """One reachable engine: a low-level API client and what this process learned of its images."""

    url: str
    api: Any  # docker.APIClient
    version: str
    _present: set[str] = field(default_factory=set)
    _failed_pulls: dict[str, tuple[float, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def owner_labels(self) -> dict[str, str]:
        """Labels that mark a container as this process's (so a later Roost can clean it up)."""
        return {LABEL_MANAGED: "true", LABEL_HOSTNAME: socket.gethostname(), LABEL_PID: str(os.getpid())}

    def managed_containers(self) -> list[dict[str, Any]]:
        return list(self.api.containers(all=True, filters={"label": f"{LABEL_MANAGED}=true"}))

    def remove_leftovers(self) -> list[str]:
        """Force-remove Roost containers whose process (on this host) is gone; returns their ids."""
        removed = []
        hostname = socket.gethostname()
        for container in self.managed_containers():
            labels = container.get("Labels") or {}
            if labels.get(LABEL_HOSTNAME) != hostname:
                continue
            try:
                pid = int(labels.get(LABEL_PID, ""))
            except ValueError:
                continue
            if pid_is_alive(pid):
                continue
            try:
                self.api.remove_container(container["Id"], force=True, v=True)
                removed.append(container["Id"])
            except docker_errors.NotFound:
                pass
            except docker_errors.APIError as exc:
                if "already in progress" not in str(exc):
                    raise
        return removed

    def has_image(self, image: str) -> bool:
        if image in self._present:
            return True
        try:
            self.api.inspect_image(image)
        except docker_errors.ImageNotFound:
            return False
        except docker_errors.NotFound:
            return False
        with self._lock:
            self._present.add(image)
        return True

    def forget_image(self, image: str) -> None:
        with self._lock:
            self._present.discard(image)

    def ensure_image(self, image: str, policy: str, *, auth: dict[str, str] | None = None,
                     stop: threading.Event | None = None,
                     log: Callable[[str], None] = lambda _message: None) -> None:
        """Make sure `image` is on the engine, pulling per `policy`; raises ImageUnavailable."""
        if policy == "NEVER":
            if not self.has_image(image):
                raise ImageUnavailable(f"image {image} not found locally and pullPolicy is NEVER")
            return
        if policy == "IF_NOT_PRESENT" and self.has_image(image):
            return
        error = self.pull(image, auth=auth, stop=stop, log=log)
        if error is None:
            return
        if policy == "ALWAYS" and self.has_image(image):
            log(f"pull of image {image} failed ({error}); using the local copy")
            return
        raise ImageUnavailable(f"image {image} not found locally and the pull failed: {error}")

    def pull(self, image: str, *, auth: dict[str, str] | None = None, stop: threading.Event | None = None,
             log: Callable[[str], None] = lambda _message: None) -> str | None:
        """Pull `image`; None on success, else the reason. A recent failure is reused, not retried.

        Bounded: docker-py waits for the engine's answer without a timeout, so the pull runs on
        a thread and is given up when no answer comes within PULL_ANSWER_TIMEOUT (no registry
        reachable) or progress stops for PULL_STALL_TIMEOUT; the thread is left to the engine.
        """
        with self._lock:
            failed = self._failed_pulls.get(image)
        if failed is not None and time.monotonic() - failed[0] < PULL_FAILURE_TTL:
            return failed[1]
        log(f"pulling image {image}")
        progress = _PullProgress()
        worker = threading.Thread(target=lambda: progress.finish(self._pull_now(image, auth, progress)),
                                  name=f"docker-pull {image}", daemon=True)
        worker.start()
        error = self._wait_for_pull(worker, progress, stop)
        if error == _STOPPED:
            return error
        with self._lock:
            if error is None:
                self._present.add(image)
                self._failed_pulls.pop(image, None)
            else:
                self._failed_pulls[image] = (time.monotonic(), error)
        if error is None:
            log(f"pulled image {image}")
        return error

    def _wait_for_pull(self, worker: threading.Thread, progress: _PullProgress,
                       stop: threading.Event | None) -> str | None:
        started = time.monotonic()
        answer_timeout, stall_timeout = PULL_ANSWER_TIMEOUT, PULL_STALL_TIMEOUT  # read now: tests lower them
        while worker.is_alive():
            worker.join(0.05)
            if not worker.is_alive():
                break
            if stop is not None and stop.is_set():
                return _STOPPED
            heard = progress.last_heard
            now = time.monotonic()
            if heard is None and now - started > answer_timeout:
                return (f"no answer from an image registry within {answer_timeout:g} s "
                        "(none reachable from the Docker engine?)")
            if heard is not None and now - heard > stall_timeout:
                return f"the pull made no progress for {stall_timeout:g} s"
        return progress.error if progress.done else "the pull ended without an answer"

    def _pull_now(self, image: str, auth: dict[str, str] | None, progress: _PullProgress) -> str | None:
        repository, tag = parse_repository_tag(image)
        try:
            stream = self.api.pull(repository, tag=tag or "latest", stream=True, decode=True,
                                   auth_config=auth)
            progress.heard()
            for message in stream:
                progress.heard()
                if isinstance(message, dict) and message.get("error"):
                    return str(message["error"]).strip()
        except docker_errors.APIError as exc:
            return str(exc.explanation or exc).strip()
        except docker_errors.DockerException as exc:
            return str(exc).strip()
        except OSError as exc:
            return str(exc).strip()
        return None


_STOPPED = "stopped while pulling"


class _PullProgress:
    """What the pull thread tells the waiting task: when the engine last said something, and the end."""

    def __init__(self) -> None:
        self.last_heard: float | None = None
        self.done = False
        self.error: str | None = None

    def heard(self) -> None:
        self.last_heard = time.monotonic()

    def finish(self, error: str | None) -> None:
        self.error = error
        self.done = True


class DockerEngines:
    """Engines by address for one process: each checked once, leftovers removed on first contact."""

    def __init__(self, ping_timeout: float = PING_TIMEOUT, failure_ttl: float = FAILURE_TTL) -> None:
        self.ping_timeout = ping_timeout
        self.failure_ttl = failure_ttl
        self._engines: dict[str, DockerEngine] = {}
        self._failures: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def connect(self, url: str, environ: Mapping[str, str]) -> DockerEngine:
        """The engine at `url`, or EngineUnreachable (quickly: a short ping, answers cached)."""
        with self._lock:
            engine = self._engines.get(url)
            if engine is not None:
                return engine
            failure = self._failures.get(url)
            if failure is not None and time.monotonic() - failure[0] < self.failure_ttl:
                raise EngineUnreachable(url, failure[1])
            try:
                engine = self._open(url, environ)
            except EngineUnreachable as exc:
                self._failures[url] = (time.monotonic(), exc.reason)
                raise
            self._failures.pop(url, None)
            self._engines[url] = engine
        try:
            engine.remove_leftovers()
        except docker_errors.DockerException:
            pass  # cleanup is best effort; the run itself will report a broken engine
        return engine

    def forget(self, url: str, reason: str) -> None:
        """Drop a cached engine that stopped answering, so the next task checks again."""
        with self._lock:
            self._engines.pop(url, None)
            self._failures[url] = (time.monotonic(), reason)

    def _open(self, url: str, environ: Mapping[str, str]) -> DockerEngine:
        kwargs = kwargs_from_env(environment=dict(environ))
        kwargs["base_url"] = url
        try:
            api = docker.APIClient(version="auto", timeout=self.ping_timeout, **kwargs)
        except docker_errors.DockerException as exc:
            raise EngineUnreachable(url, explain_connection_error(url, exc)) from None
        except (OSError, ValueError) as exc:
            raise EngineUnreachable(url, str(exc)) from None
        api.timeout = API_TIMEOUT
        return DockerEngine(url=url, api=api, version=str(api.api_version))


ENGINES = DockerEngines()
"""This process's engines (the reachability cache the brief asks for: one ping per address)."""
