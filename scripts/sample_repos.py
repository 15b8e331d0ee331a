"""Turn sample_flows/repos/<name>/ into bare git repositories the sample flows clone offline.

sample_flows/roost.toml rewrites https://github.com/kestra-io/examples to
sample_flows/.repos/examples.git; this script creates that repository (branch `main`, one
commit of the folder's files) so s3TriggerCommands.yml runs unchanged without GitHub.
`make run` calls it before opening the workbench.

Reproducible and idempotent: the commit has a fixed author, committer and date, and git
reads no user or system configuration, so the same files give the same commit id on every
machine; a repository already at that commit is left alone, and changed files move `main`
to the new commit. Only the bare repositories under .repos/ are written, never the project's
own checkout (every git command names its --git-dir).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLOWS = Path(__file__).resolve().parent.parent / "sample_flows"
BRANCH = "main"
IDENTITY = {"GIT_AUTHOR_NAME": "Roost Samples", "GIT_AUTHOR_EMAIL": "samples@roost.invalid",
            "GIT_COMMITTER_NAME": "Roost Samples", "GIT_COMMITTER_EMAIL": "samples@roost.invalid",
            "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+00:00",
            "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+00:00"}
IGNORED = ("__pycache__/", "*.pyc", ".DS_Store")


class SampleRepoError(Exception):
    """git missing or failing: the message says which repository and why."""


def _git(git_dir: Path, *args: str, work_tree: Path | None = None, index: Path | None = None) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(git_dir),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C", **IDENTITY}
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    command = ["git", f"--git-dir={git_dir}"]
    if work_tree is not None:
        command.append(f"--work-tree={work_tree}")
    try:
        result = subprocess.run([*command, *args], env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SampleRepoError("git is not installed: the sample repositories need it") from None
    if result.returncode != 0:
        raise SampleRepoError(f"{git_dir}: git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def build(source: Path, target: Path) -> tuple[str, bool]:
    """The commit `main` of `target` holds for `source`'s files; True when it had to be written."""
    if not (target / "HEAD").is_file():
        target.mkdir(parents=True, exist_ok=True)
        _git(target, "init", "-q", "--bare", f"--initial-branch={BRANCH}")
    (target / "info").mkdir(exist_ok=True)
    (target / "info" / "exclude").write_text("\n".join(IGNORED) + "\n")
    with tempfile.TemporaryDirectory(prefix="roost-sample-index-") as scratch:
        index = Path(scratch) / "index"
        _git(target, "add", "-A", "--", ".", work_tree=source, index=index)
        tree = _git(target, "write-tree", work_tree=source, index=index)
    commit = _git(target, "commit-tree", tree, "-m", f"{source.name}: Roost's local sample repository")
    try:
        current = _git(target, "rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}")
    except SampleRepoError:
        current = ""
    if current == commit:
        return commit, False
    _git(target, "update-ref", f"refs/heads/{BRANCH}", commit)
    _git(target, "symbolic-ref", "HEAD", f"refs/heads/{BRANCH}")
    return commit, True


def build_all(flows: Path) -> list[tuple[Path, str, bool]]:
    """Every folder of flows/repos/ as flows/.repos/<name>.git: (repository, commit, written)."""
    sources = sorted(p for p in (flows / "repos").iterdir() if p.is_dir()) if (flows / "repos").is_dir() else []
    if not sources:
        raise SampleRepoError(f"no sample repositories under {flows / 'repos'}")
    built = []
    for source in sources:
        target = flows / ".repos" / f"{source.name}.git"
        try:
            commit, written = build(source, target)
        except SampleRepoError:
            shutil.rmtree(target, ignore_errors=True)  # a half-made repository would only mislead
            raise
        built.append((target, commit, written))
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=Path, default=FLOWS,
                        help="the sample flows folder (default: the project's sample_flows/)")
    args = parser.parse_args(argv)
    try:
        built = build_all(args.flows.absolute())
    except SampleRepoError as exc:
        print(f"sample repos: {exc}", file=sys.stderr)
        return 1
    for target, commit, written in built:
        state = "created" if written else "up to date"
        print(f"sample repos: {target.name} {state} ({BRANCH} = {commit[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
