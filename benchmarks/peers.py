"""Roost beside Dagster and Prefect on the same workload: N tasks each running `sh -c true`.

Every contender runs as a whole process, as a user runs it, at two sizes (N=20 and N=200);
the per-task cost is the slope between them, so start-up (Dagster's instance, Roost's flow
parse and history) cancels out and what remains is what one more task costs. Prefect talks to
a `prefect server` this script starts once beforehand (its temporary per-process server takes
10-30 s to start, a spread that would swamp the slope). The floor is a plain Python loop of `subprocess.run(["sh", "-c", "true"])`.
Rounds are interleaved (each round runs every contender at both sizes) so a busy machine
slows all of them alike; the figures are medians over rounds.

Dagster and Prefect live in a venv of their own (pinned below, built with uv on first use
under .bench/peers-venv, reused after); their workloads are benchmarks/peer_workloads/.

Targets: Roost's slope <= 1.3x the floor and below both peers'. Exits 1 when missed.
Run: .venv/bin/python benchmarks/peers.py [--rounds N] (or `make bench-peers`)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / ".bench" / "peers-venv"
PINS = ("dagster==1.13.29", "prefect==3.9.1")
WORKLOADS = Path(__file__).resolve().parent / "peer_workloads"
SMALL, LARGE = 20, 200
FLOOR_TARGET = 1.3


def uv_binary() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def peers_python() -> Path:
    """The peers' venv interpreter, built when missing or when the pins changed."""
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".pins"
    if python.exists() and stamp.exists() and stamp.read_text() == "\n".join(PINS):
        return python
    print(f"building {PEERS_VENV} with {', '.join(PINS)} (once)", flush=True)
    subprocess.run([uv_binary(), "venv", "-q", "--allow-existing", "-p", sys.executable, str(PEERS_VENV)],
                   check=True)
    subprocess.run([uv_binary(), "pip", "install", "-q", "-p", str(python), *PINS], check=True)
    stamp.write_text("\n".join(PINS))
    return python


def roost_flow(n: int) -> str:
    tasks = "".join(f"      - id: t{i}\n        type: io.kestra.plugin.scripts.shell.Commands\n"
                    f"        commands: [\"true\"]\n" for i in range(n))
    return ("id: shell_chain\nnamespace: bench\ntasks:\n  - id: wdir\n"
            "    type: io.kestra.plugin.core.flow.WorkingDirectory\n    tasks:\n" + tasks)


PREFECT_PORT = 4299


@contextmanager
def prefect_server(peers: Path, env: dict[str, str]) -> Iterator[str]:
    """A Prefect API server on 127.0.0.1 for the Prefect runs; its URL."""
    url = f"http://127.0.0.1:{PREFECT_PORT}/api"
    prefect = peers.parent / "prefect"
    server = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(PREFECT_PORT)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("prefect server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


FLOOR_LOOP = "import subprocess, sys\nfor _ in range(int(sys.argv[1])):\n    subprocess.run(['sh', '-c', 'true'])\n"


class Contenders:
    """How to start each contender for N tasks, all in one scratch folder."""

    def __init__(self, scratch: Path, peers: Path) -> None:
        self.scratch = scratch
        self.peers = peers
        for n in (SMALL, LARGE):
            (scratch / f"shell_{n}.yml").write_text(roost_flow(n))
        self.env = {**os.environ, "ROOST_HOME": str(scratch / "roost-home"), "PREFECT_HOME": str(scratch / "prefect"),
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                    "PREFECT_LOGGING_LEVEL": "WARNING", "DAGSTER_HOME": "", "PYTHONWARNINGS": "ignore"}
        self.env.pop("DAGSTER_HOME")

    def commands(self) -> dict[str, Callable[[int], list[str]]]:
        return {
            "plain loop (floor)": lambda n: [sys.executable, "-c", FLOOR_LOOP, str(n)],
            "Roost": lambda n: [sys.executable, "-m", "engine.cli", "run", str(self.scratch / f"shell_{n}.yml"),
                                "--runner", "process"],
            "Dagster 1.13 (in process)": lambda n: [str(self.peers), str(WORKLOADS / "dagster_shell_ops.py"), str(n)],
            "Prefect 3.9": lambda n: [str(self.peers), str(WORKLOADS / "prefect_shell_tasks.py"), str(n)],
        }

    def time_run(self, command: list[str]) -> float:
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command[:3])}... failed ({result.returncode}):\n{result.stderr[-2000:]}")
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    peers = peers_python()
    with tempfile.TemporaryDirectory(prefix="roost-peers-") as tmp:
        contenders = Contenders(Path(tmp), peers)
        with prefect_server(peers, contenders.env) as api_url:
            contenders.env["PREFECT_API_URL"] = api_url
            slopes = measure(contenders, args.rounds)
    return report(slopes, args.rounds)


def measure(contenders: Contenders, rounds: int) -> dict[str, list[float]]:
    """Each contender's per-task slope, once per round, rounds interleaved."""
    commands = contenders.commands()
    slopes: dict[str, list[float]] = {name: [] for name in commands}
    for round_number in range(rounds):
        for name, command in commands.items():
            small = contenders.time_run(command(SMALL))
            large = contenders.time_run(command(LARGE))
            slopes[name].append((large - small) / (LARGE - SMALL))
        print(f"round {round_number + 1}/{rounds} done", flush=True)
    return slopes


def report(slopes: dict[str, list[float]], rounds: int) -> int:
    """The table, and the exit status: 1 when Roost misses a target."""
    per_task = {name: statistics.median(values) for name, values in slopes.items()}
    floor = per_task["plain loop (floor)"]
    print(f"\nper-task slope, N={SMALL} -> {LARGE}, whole processes, median of {rounds} interleaved rounds")
    print(f"{'':28} {'ms/task':>8} {'x floor':>8}")
    for name, value in per_task.items():
        print(f"{name:28} {value * 1000:8.2f} {value / floor:8.2f}")
    roost = per_task["Roost"]
    missed = []
    if roost / floor > FLOOR_TARGET:
        missed.append(f"Roost {roost / floor:.2f}x the floor (target <= {FLOOR_TARGET}x)")
    missed += [f"Roost not ahead of {name}" for name, value in per_task.items()
               if name not in ("Roost", "plain loop (floor)") and roost >= value]
    for line in missed:
        print(f"MISS: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
