"""Cloning a git repository the way Kestra's Clone task does, with GitPython driving git.

Two paths: an empty or missing directory gets a plain `git clone`; a directory
that already holds files (Kestra's WorkingDirectory, where inputFiles and
namespace files are written first) gets `git init` + `fetch` + `checkout`,
which keeps those files. Credentials travel through a GIT_ASKPASS helper that
reads them from the environment of the git process, so they never appear on a
command line, in `.git/config`, in a credential store or in a message.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import git

# A whole git network command (clone, fetch, ls-remote) is killed after this long.
NETWORK_TIMEOUT_SECONDS = 900.0
# Over http(s), a transfer slower than 1 KB/s for this long fails (curl's low-speed limit).
HTTP_STALL_SECONDS = 60
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_ASKPASS_SCRIPT = """#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$ROOST_GIT_USERNAME" ;;
  *) printf '%s\\n' "$ROOST_GIT_PASSWORD" ;;
esac
"""


@dataclass(frozen=True)
class CloneRequest:
    """What to clone where; `commit` wins over `tag`, which wins over `branch`."""

    url: str
    directory: Path
    branch: str | None = None
    depth: int | None = 1
    commit: str | None = None
    tag: str | None = None
    username: str | None = None
    password: str | None = None
    url_rewrites: tuple[tuple[str, str], ...] = ()
    #: Said when a rewrite points at a local repository that does not exist (roost.toml's
    #: [git] missingMirrorHint): how to create it, e.g. the command that makes the mirrors.
    mirror_hint: str | None = None
    network_timeout: float = NETWORK_TIMEOUT_SECONDS


@dataclass(frozen=True)
class CloneResult:
    """The commit checked out, and the URL actually used (after rewrites)."""

    directory: Path
    commit: str
    url: str


class CloneError(Exception):
    """A clone that failed for a reason the user can act on; `message` is one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _GitFailed(Exception):
    def __init__(self, stderr: str) -> None:
        super().__init__(stderr)
        self.stderr = stderr


def rewrite_url(url: str, rewrites: tuple[tuple[str, str], ...]) -> str:
    """git's `url.<base>.insteadOf`: the longest matching prefix is replaced."""
    best = max((r for r in rewrites if url.startswith(r[0])), key=lambda r: len(r[0]), default=None)
    return url if best is None else best[1] + url[len(best[0]):]


def mask_secrets(text: str, password: str | None) -> str:
    """`text` with the password and any `user:secret@` in URLs replaced by ****."""
    if password:
        text = text.replace(password, "****")
    return re.sub(r"(://[^/@:\s]*:)[^@/\s]+@", r"\1****@", text)


def _check_url(url: str) -> None:
    if not url.strip():
        raise CloneError("property 'url' is empty: give the repository URL to clone")
    if url.startswith("-") or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise CloneError(f"'{url}' is not a valid git repository URL")


class _GitRunner:
    """Runs git commands in one directory with a fixed environment; failures raise _GitFailed."""

    def __init__(self, cwd: Path, env: dict[str, str], config: list[str], timeout: float) -> None:
        self.git = git.Git(str(cwd))
        self.env = env
        self.config = config
        self.timeout = timeout

    def run(self, *args: str, network: bool = False) -> str:
        command = ["git", *self.config, *args]
        try:
            status, out, err = self.git.execute(
                command, with_extended_output=True, with_exceptions=False, env=self.env,
                kill_after_timeout=self.timeout if network else None)
        except git.GitCommandNotFound:
            raise CloneError("git is not installed: the Clone task needs the git command") from None
        if status != 0:
            raise _GitFailed(str(err))
        return str(out).strip()


def _is_ssh_url(url: str) -> bool:
    if "://" in url:
        return url.split("://", 1)[0] in ("ssh", "git+ssh", "ssh+git")
    return re.match(r"[^/:]+:", url) is not None  # scp-like [user@]host:path


def _has_own_ssh_command() -> bool:
    """Whether the user chose how git runs ssh (their keys, their options): then leave it be."""
    if "GIT_SSH_COMMAND" in os.environ or "GIT_SSH" in os.environ:
        return True
    try:
        return bool(git.Git().config("--get", "core.sshCommand"))
    except git.GitCommandError:
        return False


@contextmanager
def _git_environment(request: CloneRequest, url: str) -> Iterator[tuple[dict[str, str], list[str]]]:
    """Environment and `-c` options for git; an askpass helper exists only inside the block."""
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
           "ROOST_GIT_USERNAME": "", "ROOST_GIT_PASSWORD": ""}
    config = ["-c", "advice.detachedHead=false", "-c", "init.defaultBranch=main",
              "-c", "http.lowSpeedLimit=1000", "-c", f"http.lowSpeedTime={HTTP_STALL_SECONDS}"]
    if _is_ssh_url(url) and not _has_own_ssh_command():
        # ssh reads passwords from the terminal, not through GIT_TERMINAL_PROMPT: forbid it.
        config += ["-c", "core.sshCommand=ssh -o BatchMode=yes -o ConnectTimeout=30"]
    if not (request.username or request.password):
        yield env, config
        return
    helper_dir = Path(tempfile.mkdtemp(prefix="roost-askpass-"))
    try:
        helper = helper_dir / "askpass.sh"
        helper.write_text(_ASKPASS_SCRIPT)
        helper.chmod(stat.S_IRWXU)
        env.update(GIT_ASKPASS=str(helper), ROOST_GIT_USERNAME=request.username or "",
                   ROOST_GIT_PASSWORD=request.password or "")
        # No credential helper: none may answer for us, none may store the flow's password.
        yield env, [*config, "-c", "credential.helper="]
    finally:
        shutil.rmtree(helper_dir, ignore_errors=True)


def _describe_ref(request: CloneRequest) -> str:
    if request.commit:
        return f"commit {request.commit}"
    if request.tag:
        return f"tag {request.tag}"
    if request.branch:
        return f"branch {request.branch}"
    return "the default branch"


def clone_repository(request: CloneRequest, log: Callable[[str], None]) -> CloneResult:
    """Clone `request.url` into `request.directory`; raises CloneError with a readable message."""
    url = rewrite_url(request.url, request.url_rewrites)
    _check_url(url)
    for kind, ref in (("branch", request.branch), ("tag", request.tag), ("commit", request.commit)):
        if ref is not None and (not ref.strip() or ref.startswith("-") or any(ch.isspace() for ch in ref)):
            raise CloneError(f"'{ref}' is not a valid {kind} name")
    shown = mask_secrets(url, request.password)
    target = request.directory
    if target.exists() and not target.is_dir():
        raise CloneError(f"cannot clone into '{target}': it exists and is not a directory")
    if (target / ".git").exists():
        raise CloneError(f"cannot clone into '{target}': it already holds a git repository; "
                         f"set 'directory' to clone somewhere else")
    rewritten = f" (rewritten from {mask_secrets(request.url, request.password)})" if url != request.url else ""
    log(mask_secrets(f"cloning {shown}{rewritten}, {_describe_ref(request)}, into {target}",
                     request.password))
    has_files = target.is_dir() and any(target.iterdir())
    with _git_environment(request, url) as (env, config):
        try:
            if has_files or request.commit:
                target.mkdir(parents=True, exist_ok=True)
                runner = _GitRunner(target, env, config, request.network_timeout)
                _init_fetch_checkout(runner, request, url, created_git=target / ".git")
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                runner = _GitRunner(target.parent, env, config, request.network_timeout)
                _plain_clone(runner, request, url, target)
                runner = _GitRunner(target, env, config, request.network_timeout)
            commit = runner.run("rev-parse", "HEAD")
        except _GitFailed as failure:
            message = _explain(failure.stderr, request, shown)
            if url != request.url and _missing_local_repository(url):
                message = _missing_mirror_message(request, shown)
            raise CloneError(mask_secrets(message, request.password)) from None
    if has_files:
        log(f"checked out {commit[:12]} into {target}, keeping the files already there")
    else:
        log(f"checked out {commit[:12]} into {target}")
    return CloneResult(directory=target, commit=commit, url=url)


def _missing_local_repository(url: str) -> bool:
    """Whether a rewritten URL names a local path (file:// or plain) where nothing exists."""
    if url.startswith("file://"):
        path = Path(unquote(urlsplit(url).path))
    elif "://" in url or _is_ssh_url(url):
        return False
    else:
        path = Path(url)
    return not path.exists()


def _missing_mirror_message(request: CloneRequest, shown: str) -> str:
    where = f"the local mirror {shown}, which roost.toml's [git.urlRewrites] puts in place of " \
            f"{mask_secrets(request.url, request.password)}, does not exist"
    hint = request.mirror_hint or "create that repository there, or remove the rewrite from roost.toml"
    return f"{where}: {hint}"


def _depth_args(request: CloneRequest) -> list[str]:
    return ["--depth", str(request.depth)] if request.depth else []


def _plain_clone(runner: _GitRunner, request: CloneRequest, url: str, target: Path) -> None:
    ref = request.tag or request.branch
    args = ["clone", "-q", *_depth_args(request), *(["--branch", ref] if ref else [])]
    runner.run(*args, "--", url, str(target), network=True)
    try:
        runner.run("-C", str(target), "rev-parse", "--verify", "-q", "HEAD")
    except _GitFailed:
        shutil.rmtree(target / ".git", ignore_errors=True)  # leave the directory as it was
        raise _GitFailed("roost: empty repository") from None


def _init_fetch_checkout(runner: _GitRunner, request: CloneRequest, url: str, created_git: Path) -> None:
    """Turn the directory into a checkout without touching the files it already holds."""
    runner.run("init", "-q")
    try:
        runner.run("remote", "add", "--", "origin", url)
        if request.commit:
            _fetch_commit(runner, request)
        elif request.tag:
            runner.run("fetch", "-q", *_depth_args(request), "origin",
                       f"+refs/tags/{request.tag}:refs/tags/{request.tag}", network=True)
            runner.run("checkout", "-q", "-f", "--detach", f"refs/tags/{request.tag}")
        else:
            branch = request.branch or _default_branch(runner)
            if branch is None:
                runner.run("fetch", "-q", *_depth_args(request), "origin", "HEAD", network=True)
                runner.run("checkout", "-q", "-f", "--detach", "FETCH_HEAD")
                return
            runner.run("fetch", "-q", *_depth_args(request), "origin",
                       f"+refs/heads/{branch}:refs/remotes/origin/{branch}", network=True)
            # -f: a repository file wins over an untracked one of the same name; others stay.
            runner.run("checkout", "-q", "-f", "-B", branch, f"refs/remotes/origin/{branch}")
    except (_GitFailed, CloneError):
        shutil.rmtree(created_git, ignore_errors=True)  # a retry must find the directory as it was
        raise


def _default_branch(runner: _GitRunner) -> str | None:
    out = runner.run("ls-remote", "--symref", "origin", "HEAD", network=True)
    if not out:
        raise _GitFailed("roost: empty repository")
    match = re.search(r"^ref: refs/heads/(\S+)\tHEAD$", out, re.MULTILINE)
    return match.group(1) if match else None


def _fetch_commit(runner: _GitRunner, request: CloneRequest) -> None:
    commit = (request.commit or "").lower()
    if _FULL_SHA.fullmatch(commit):
        try:
            runner.run("fetch", "-q", *_depth_args(request), "origin", commit, network=True)
            runner.run("checkout", "-q", "-f", "--detach", commit)
            return
        except _GitFailed as failure:
            if _is_network_failure(failure.stderr):
                raise
    # An abbreviated SHA, or a server that will not serve an unadvertised one: fetch everything.
    runner.run("fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*",
               "+refs/tags/*:refs/tags/*", network=True)
    try:
        resolved = runner.run("rev-parse", "--verify", "-q", f"{commit}^{{commit}}")
    except _GitFailed:
        raise _GitFailed("roost: commit not found") from None
    runner.run("checkout", "-q", "-f", "--detach", resolved)


_NETWORK_SIGNS = ("unable to connect", "could not resolve", "connection refused", "failed to connect",
                  "timed out", "did not complete in", "too slow", "unable to access",
                  "authentication failed", "could not read username", "could not read password",
                  "could not read from remote repository", "does not appear to be a git repository",
                  "repository not found", "not found", "does not exist")


def _is_network_failure(stderr: str) -> bool:
    lower = stderr.lower()
    return any(sign in lower for sign in _NETWORK_SIGNS) and "not our ref" not in lower \
        and "couldn't find remote ref" not in lower


def _explain(stderr: str, request: CloneRequest, url: str) -> str:
    """One sentence for the user from git's stderr (run with LC_ALL=C)."""
    lower = stderr.lower()
    ref_kind, ref = ("tag", request.tag) if request.tag else ("branch", request.branch)
    if "did not complete in" in lower or "timed out" in lower or "too slow" in lower:
        return f"cloning {url} timed out: the server did not answer in time (network timeout)"
    if "roost: empty repository" in lower:
        return f"{url} is an empty repository: there is nothing to check out"
    if "roost: commit not found" in lower or "not our ref" in lower or (
            request.commit and ("reference is not a tree" in lower or "unknown revision" in lower)):
        return f"commit '{request.commit}' not found in {url}"
    if ("remote branch" in lower and "not found" in lower) or "couldn't find remote ref" in lower:
        return f"{ref_kind} '{ref}' not found in {url}"
    if any(s in lower for s in ("authentication failed", "could not read username",
                                "could not read password", "invalid username or password",
                                "http basic: access denied", "the requested url returned error: 401",
                                "the requested url returned error: 403", "permission denied")):
        if request.username or request.password:
            return f"authentication failed for {url}: check 'username' and 'password'"
        return f"{url} needs credentials: set 'username' and 'password' (or use a public URL)"
    if "could not resolve host" in lower or "name or service not known" in lower:
        host = re.search(r"could not resolve host: (\S+)", stderr, re.IGNORECASE)
        return f"cannot reach {url}: unknown host {host.group(1) if host else ''}".rstrip()
    if any(s in lower for s in ("connection refused", "failed to connect", "unable to connect",
                                "couldn't connect", "network is unreachable", "no route to host")):
        return f"cannot reach {url}: the connection was refused or the host is unreachable"
    if "protocol" in lower and ("not supported" in lower or "not allowed" in lower):
        return f"'{url}' uses a protocol git cannot clone from here"
    if any(s in lower for s in ("does not appear to be a git repository", "repository not found",
                                "no such repository",
                                "does not exist", "not found", "returned error: 404")):
        return f"no git repository at {url}"
    last = [line.strip() for line in stderr.splitlines() if line.strip()]
    reason = last[-1].removeprefix("fatal: ") if last else "git failed without saying why"
    return f"cloning {url} failed: {reason}"
