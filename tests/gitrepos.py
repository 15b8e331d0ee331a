"""Real git repositories for tests: bare repos served over file://, `git daemon` and HTTP."""

from __future__ import annotations

import base64
import http.server
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "Roost Tests", "GIT_AUTHOR_EMAIL": "tests@roost.invalid",
           "GIT_COMMITTER_NAME": "Roost Tests", "GIT_COMMITTER_EMAIL": "tests@roost.invalid",
           "HOME": str(cwd), "PATH": "/usr/local/bin:/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def bare_repo_from(folder: Path, target: Path, branch: str = "main") -> Path:
    """A bare repository at `target` whose `branch` holds the files of `folder` in one commit."""
    work = target.parent / (target.name + ".work")
    shutil.copytree(folder, work)
    git("init", "-q", "-b", branch, cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "import", cwd=work)
    git("clone", "-q", "--bare", str(work), str(target), cwd=target.parent)
    shutil.rmtree(work)
    return target


def examples_repo(tmp: Path) -> Path:
    """The local stand-in for github.com/kestra-io/examples, as a bare repo."""
    return bare_repo_from(FIXTURES / "examples_repo", tmp / "examples.git")


# --- repositories with history, and real servers for them -----------------------------------


@dataclass(frozen=True)
class HistoryRepo:
    """A bare repo: `main` with four commits (oldest first), `feature` off the first one,
    lightweight tag v1 on commits[0], annotated tag v2 on commits[2]; commits[1] has no ref."""

    bare: Path
    commits: tuple[str, ...]
    feature: str


def history_repo(base: Path, name: str = "history.git") -> HistoryRepo:
    work = base / (name + ".work")
    work.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=work)
    commits = []
    for number in range(1, 5):
        (work / "version.txt").write_text(f"v{number}\n")
        (work / "README.md").write_text("# history\n")
        git("add", ".", cwd=work)
        git("commit", "-q", "-m", f"commit {number}", cwd=work)
        commits.append(git("rev-parse", "HEAD", cwd=work))
    git("tag", "v1", commits[0], cwd=work)
    git("tag", "-a", "v2", "-m", "release 2", commits[2], cwd=work)
    git("checkout", "-q", "-b", "feature", commits[0], cwd=work)
    (work / "feature.txt").write_text("feature\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "feature work", cwd=work)
    feature = git("rev-parse", "HEAD", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    target = base / name
    git("clone", "-q", "--bare", str(work), str(target), cwd=base)
    git("update-server-info", cwd=target)  # lets the dumb HTTP server below serve it
    shutil.rmtree(work)
    return HistoryRepo(target, tuple(commits), feature)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def git_daemon_available() -> bool:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=False)
    return exec_path.returncode == 0 and (Path(exec_path.stdout.strip()) / "git-daemon").is_file()


def _wait_until_listening(port: int, proc: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@contextmanager
def git_daemon(base: Path) -> Iterator[int]:
    """A real `git daemon` exporting every repository under `base` on 127.0.0.1; yields its port."""
    for _attempt in range(3):
        port = free_port()  # git daemon wants a fixed port; another process may grab it first
        proc = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", f"--base-path={base}", "--export-all",
             "--informative-errors", "--listen=127.0.0.1", f"--port={port}", str(base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={"HOME": str(base), "PATH": "/usr/local/bin:/usr/bin:/bin"})
        try:
            if _wait_until_listening(port, proc, 10):
                yield port
                return
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    raise RuntimeError("git daemon did not start listening on 127.0.0.1")


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers: a hung git server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


@contextmanager
def basic_auth_git_http(base: Path, username: str, password: str) -> Iterator[tuple[int, list[str]]]:
    """Git's dumb HTTP protocol over `base`, behind HTTP basic auth.

    Yields the port and the list of Authorization headers received, to check what git sent.
    """
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(base), **kwargs)

        def do_GET(self) -> None:
            header = self.headers.get("Authorization")
            if header:
                seen.append(header)
            if header != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
