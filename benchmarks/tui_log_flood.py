"""Log flood: a task prints 1,000,000 lines while the user moves in the task tree.

The real workbench runs in a pseudo-terminal (the same path as a terminal over SSH). The parent
is the terminal: it keeps a screen of what it reads (tui_pty.TerminalScreen; it answers the
synchronized-output query, so each frame is read whole), sends an arrow key (down/up in the
task tree), and waits for the frame that shows the tree cursor on the other line. Key-to-frame
latency is the time from writing the key to the pty to reading that frame; a key whose frame is
not on the terminal within ``--miss-after`` seconds is a miss, and any miss fails the run.
The instrumented child only records where the time goes (key in, cursor moved, frame handed
to the driver).

Figures: key latency while idle (baseline) and during the flood (median, ratio), misses, lines
stored, peak memory (max RSS) of the workbench process. Exits 1 when the median during the
flood is not under 50 ms, a key is missed, a line is lost or memory reaches 300 MB.

    .venv/bin/python benchmarks/tui_log_flood.py [--lines 1000000] [--presses 30]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

FLOOD_FLOW = """\
id: flood
namespace: bench.tui
tasks:
  - id: flood
    type: io.kestra.plugin.scripts.python.Script
    script: |
      import sys
      write = sys.stdout.write
      for i in range({lines}):
          write(f"line {{i:07d}} of the flood, with some payload to make it realistic\\n")
"""

DOWN, UP, TAB = b"\x1b[B", b"\x1b[A", b"\t"


# -- child: the instrumented workbench -------------------------------------------------------

def child(folder: Path, results: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from textual.widgets import Tree

    from tui.app.roost_app import RoostApp
    from tui.widgets.task_tree import TaskTree

    class TimedApp(RoostApp):
        frames: list[tuple[float, int]] = []
        keys: list[float] = []
        moves: list[tuple[float, int]] = []
        marks: dict[str, Any] = {}

        async def on_event(self, event: Any) -> None:
            from textual import events

            if isinstance(event, events.Key):
                self.keys.append(time.monotonic())
            await super().on_event(event)

        def on_mount(self) -> None:
            super().on_mount()

        def _watch_tree(self) -> None:
            tree = self.main.query_one(TaskTree)
            self.watch(tree, "cursor_line", lambda line: self.moves.append((time.monotonic(), line)),
                       init=False)

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is None or self._batch_count:
                return
            try:
                line = self.main.query_one(TaskTree).cursor_line
            except Exception:
                return
            self.frames.append((time.monotonic(), line))

        def _tick(self) -> None:
            super()._tick()
            model = self.shown
            if not self.marks.get("watching"):
                self.marks["watching"] = True
                self._watch_tree()
            if model is None:
                return
            if "running" not in self.marks and len(model.logs) > 1000:
                self.marks["running"] = time.monotonic()
                (folder / "running").touch()
            if model.finished and not model.live and "done" not in self.marks:
                self.marks["done"] = time.monotonic()
                self._write_results(model)

        def _write_results(self, model: Any) -> None:
            flood_runs = [r.id for r in model.task_runs.values() if r.task_id == "flood"]
            flood_lines = len(model.logs.filtered(task_run_id=flood_runs[0])) if flood_runs else 0
            results.write_text(json.dumps({
                "frames": self.frames,
                "keys": self.keys,
                "moves": self.moves,
                "marks": self.marks,
                "state": model.execution.state.value,
                "lines_stored": len(model.logs),
                "flood_lines": flood_lines,
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }))

    del Tree
    TimedApp(folder).run()


# -- parent: the user at the terminal --------------------------------------------------------

TASK_LABEL = "flood python.Script"
TARGET_MS = 50.0
MEMORY_TARGET_MB = 300


class TreeCursor:
    """The task tree's cursor line (0: the flow, 1: the task) as the terminal shows it.

    Called on the pty reader thread with each whole frame: the cursor line is the one whose
    label has the highlighted background; each change is recorded with the time it showed.
    """

    def __init__(self) -> None:
        self.line: int | None = None
        self.changes: list[tuple[float, int]] = []
        self.frames: list[float] = []

    def __call__(self, screen: Any, shown_at: float) -> None:
        self.frames.append(shown_at)
        where = screen.find(TASK_LABEL)
        if where is None or where[0] == 0 or where[0] + 1 >= screen.height:
            return
        row, column = where
        root_column = screen.line(row - 1).find("flood", max(0, column - 8))
        if root_column < 0:
            return
        plain = screen.backgrounds[row + 1][column]
        if screen.backgrounds[row][column] != plain:
            line = 1
        elif screen.backgrounds[row - 1][root_column] != plain:
            line = 0
        else:
            return
        if line != self.line:
            self.line = line
            self.changes.append((shown_at, line))


@dataclass
class Presses:
    """Key presses and what the terminal showed: a latency, or None when no frame came."""

    sent: list[float] = field(default_factory=list)
    latencies: list[float | None] = field(default_factory=list)

    @property
    def shown(self) -> list[float]:
        return [latency for latency in self.latencies if latency is not None]

    @property
    def missed(self) -> int:
        return sum(1 for latency in self.latencies if latency is None)


def press_keys(process: Any, cursor: TreeCursor, count: int, spacing: float, miss_after: float,
               until: Callable[[], bool] = lambda: False) -> Presses:
    """Move the tree cursor ``count`` times (down from the flow, up from the task), each time
    waiting for the frame showing it, as a user who looks at the screen does. A frame that is
    not on the terminal ``miss_after`` seconds after the key is a miss (a failure)."""
    presses = Presses()
    for _ in range(count):
        if until():
            break
        current = cursor.line
        expected = 0 if current == 1 else 1
        seen = len(cursor.changes)
        sent_at = process.send(DOWN if expected == 1 else UP)
        deadline = sent_at + miss_after
        latency = None
        while time.monotonic() < deadline:
            shown = [t for t, line in cursor.changes[seen:] if line == expected]
            if shown:
                latency = shown[0] - sent_at
                break
            time.sleep(0.001)
        presses.sent.append(sent_at)
        presses.latencies.append(latency)
        if latency is None:  # let a late frame land before the next key, so it is not taken
            late = time.monotonic() + 2 * miss_after  # for that key's
            while time.monotonic() < late and cursor.line != expected:
                time.sleep(0.01)
        time.sleep(spacing)
    return presses


def main() -> int:
    from tui_pty import PYTHON, PtyProcess, bench_env, median

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--miss-after", type=float, default=1.0,
                        help="seconds after which a key press with no frame is a miss")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "RESULTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0
    cursor = TreeCursor()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "flows"
        folder.mkdir()
        (folder / "flood.yml").write_text(FLOOD_FLOW.format(lines=args.lines))
        results = Path(tmp) / "results.json"
        env = bench_env(Path(tmp) / "home")
        process = PtyProcess([PYTHON, __file__, "--child", str(folder), str(results)],
                             size=(120, 40), env=env, on_frame=cursor)
        started = time.monotonic()
        try:
            process.wait_for_screen(TASK_LABEL, "q Quit", timeout=60)
            time.sleep(0.5)
            process.send(TAB)  # focus the task tree
            process.wait_for_screen(TASK_LABEL, timeout=10)
            time.sleep(0.5)
            if cursor.line is None:
                raise SystemExit("FAILED: the tree cursor is not on the terminal")
            idle = press_keys(process, cursor, args.presses, 0.15, args.miss_after)
            time.sleep(0.3)
            process.send(b"r")
            deadline = time.monotonic() + 120
            while not (folder / "running").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            flood = press_keys(process, cursor, args.presses, 0.15, args.miss_after,
                               until=results.exists)
            deadline = time.monotonic() + 1800
            while not results.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            data = json.loads(results.read_text())
        finally:
            process.stop()
        total = time.monotonic() - started
    flood_end = data["marks"].get("done", float("inf"))
    # A press the flood outlived is in it; one sent after the last line is not.
    in_flood = [(sent, latency) for sent, latency in zip(flood.sent, flood.latencies, strict=True)
                if sent < flood_end]
    during = [latency for _sent, latency in in_flood if latency is not None]
    missed = sum(1 for _sent, latency in in_flood if latency is None)
    idle_median, flood_median = median(idle.shown), median(during)
    complete = data["flood_lines"] >= args.lines  # (plus the lines Roost logs itself)
    memory_mb = data["max_rss_kb"] / 1024
    print(f"execution {data['state']}; lines stored: {data['lines_stored']:,} "
          f"({data['flood_lines']:,} from the flooding task, {args.lines:,} printed)")
    print(f"key -> frame on the terminal, idle (baseline): median {idle_median * 1000:.1f} ms "
          f"over {len(idle.shown)} presses, {idle.missed} missed")
    worst = f"max {max(during) * 1000:.0f} ms" if during else "no frame"
    print(f"key -> frame on the terminal during the flood: median {flood_median * 1000:.1f} ms "
          f"over {len(in_flood)} presses ({worst}), {missed} missed (no frame within "
          f"{args.miss_after:.1f} s)  (target: median < {TARGET_MS:.0f} ms, none missed)")
    print(f"ratio flood / idle: {flood_median / idle_median:.1f}x")
    print(f"peak memory of the workbench process: {memory_mb:.0f} MB "
          f"(target: < {MEMORY_TARGET_MB} MB); whole benchmark {total:.0f} s")
    # Where the time goes during the flood: the key reaching the app, the cursor moving, the
    # frame handed to the driver (all read in the workbench), the frame on the terminal.
    keys, moves = data.get("keys", []), data.get("moves", [])
    handed = [tuple(f) for f in data.get("frames", [])]
    sends = [sent for sent, _latency in in_flood]
    arrived = [k - sent for sent in sends if (k := next((t for t in keys if t >= sent), None)) is not None]
    moved_at = [(sent, m) for sent in sends
                if (m := next((t for t, _line in moves if t >= sent), None)) is not None]
    moved = [m - sent for sent, m in moved_at]
    drawn = [d - sent for sent, m in moved_at
             if (d := next((t for t, _line in handed if t >= m), None)) is not None]
    running_at = data["marks"].get("running", 0)
    flood_frames = [t for t in cursor.frames if running_at <= t <= flood_end]
    gaps = [b - a for a, b in zip(flood_frames, flood_frames[1:], strict=False)]
    print(f"  during the flood: key reaches the app after {median(arrived) * 1000:.1f} ms, the "
          f"cursor moves after {median(moved) * 1000:.1f} ms, the frame after that is handed to "
          f"the driver after {median(drawn) * 1000:.1f} ms; {len(flood_frames)} frames on the "
          f"terminal, median gap {median(gaps) * 1000:.0f} ms")
    failures = []
    if missed or idle.missed:
        failures.append(f"{missed + idle.missed} key presses got no frame")
    if not during or flood_median * 1000 >= TARGET_MS:
        failures.append(f"median {flood_median * 1000:.1f} ms >= {TARGET_MS:.0f} ms")
    if not complete:
        failures.append(f"{data['flood_lines']:,} of {args.lines:,} lines stored")
    if memory_mb >= MEMORY_TARGET_MB:
        failures.append(f"peak memory {memory_mb:.0f} MB")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
