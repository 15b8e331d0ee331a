"""A shell task printing a million lines, whole process, against a Python loop reading the same pipe.

Target (issue 17): `roost run FLOW --runner process` on a flow whose one task runs
`seq 1000000` takes at most 10x a plain Python process that reads `seq 1000000` from a pipe
line by line, measured in the same run (rounds interleaved, medians), with every line in
history.db and on the console. The Roost process's peak memory is printed beside it.

Run: .venv/bin/python benchmarks/log_throughput.py [--lines N] [--repeat N]; exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 10.0

FLOW = """id: flood
namespace: bench.logs
tasks:
  - id: flood
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - seq {lines}
"""

READER = """import subprocess, sys
proc = subprocess.Popen(["seq", sys.argv[1]], stdout=subprocess.PIPE)
count = 0
for line in proc.stdout:
    count += 1
proc.wait()
print(count)
"""


def timed(command: list[str], env: dict[str, str] | None = None,
          stderr_path: Path | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS (KiB) and stdout of one whole process."""
    with open(stderr_path or os.devnull, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read() if proc.stdout else b""
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{command[:4]} failed with exit code {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.decode()


def in_process_reader(lines: int) -> float:
    """The same loop inside this process (no interpreter start): the issue's 0.144 s figure."""
    started = time.perf_counter()
    proc = subprocess.Popen(["seq", str(lines)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    for _line in proc.stdout:
        pass
    proc.wait()
    return time.perf_counter() - started


def roost_round(work: Path, flow: Path, lines: int, index: int) -> tuple[float, float, int]:
    home = work / f"home-{index}"
    env = {**os.environ, "ROOST_HOME": str(home)}
    console = work / f"console-{index}.txt"
    elapsed, cpu, rss, _ = timed([sys.executable, "-m", "engine.cli", "run", str(flow), "--runner", "process"],
                            env, console)
    connection = sqlite3.connect(home / "history.db")
    stored = connection.execute("SELECT COUNT(*) FROM logs WHERE task_id='flood'").fetchone()[0]
    first, last = connection.execute(
        "SELECT MIN(CAST(message AS INTEGER)), MAX(CAST(message AS INTEGER)) FROM logs "
        "WHERE task_id='flood'").fetchone()
    connection.close()
    with open(console, "rb") as text:
        shown = sum(1 for line in text if b" flood INFO  " in line)
    if stored != lines or (first, last) != (1, lines) or shown != lines:
        raise SystemExit(f"lines lost: {stored} in history.db, {shown} on the console, of {lines}")
    console.unlink()
    return elapsed, cpu, rss


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    roost: list[float] = []
    reader: list[float] = []
    roost_cpu: list[float] = []
    reader_cpu: list[float] = []
    rss: list[int] = []
    with tempfile.TemporaryDirectory(prefix="roost-log-bench-") as folder:
        work = Path(folder)
        flow = work / "flood.yml"
        flow.write_text(FLOW.format(lines=args.lines))
        for index in range(args.repeat):  # interleaved: a busy moment hits both sides
            seconds, cpu, _, out = timed([sys.executable, "-c", READER, str(args.lines)])
            if out.strip() != str(args.lines):
                raise SystemExit(f"the reader counted {out.strip()} lines")
            reader.append(seconds)
            reader_cpu.append(cpu)
            seconds, cpu, peak = roost_round(work, flow, args.lines, index)
            roost.append(seconds)
            roost_cpu.append(cpu)
            rss.append(peak)
        loop = statistics.median(in_process_reader(args.lines) for _ in range(args.repeat))
    roost_s, reader_s = statistics.median(roost), statistics.median(reader)
    ratio = roost_s / reader_s
    print(f"python process reading `seq {args.lines}` from a pipe : {reader_s:.3f} s (baseline; "
          f"the loop alone in-process: {loop:.3f} s)")
    print(f"roost run, task `seq {args.lines}`, --runner process : {roost_s:.3f} s "
          f"({args.lines / roost_s:,.0f} lines/s), every line in history.db and on the console")
    print(f"ratio roost / reader                                : {ratio:.1f}x (target <= {TARGET_RATIO:.0f}x); "
          f"rounds: {', '.join(f'{r:.2f}' for r in roost)} s vs {', '.join(f'{r:.3f}' for r in reader)} s")
    cpu_ratio = statistics.median(roost_cpu) / statistics.median(reader_cpu)
    print(f"CPU (user + system) roost / reader                  : {statistics.median(roost_cpu):.2f} s / "
          f"{statistics.median(reader_cpu):.2f} s = {cpu_ratio:.1f}x (a busy machine moves it less)")
    print(f"roost peak RSS                                      : {max(rss) / 1024:.0f} MB")
    if ratio > TARGET_RATIO:
        print(f"MISS: {ratio:.1f}x > {TARGET_RATIO:.0f}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
