"""Log flood: a task prints 1,000,000 lines while the user moves in the task tree.

The real workbench runs in a pseudo-terminal (the same path as a terminal over SSH). The parent
sends arrow keys (down/up in the task tree) and the instrumented child records when each frame
reaches the terminal driver and where the tree cursor is in it; key-to-frame latency is the
time from writing the key to the pty to the first frame showing the moved cursor.

Figures: key latency while idle (baseline) and during the flood (median, ratio), lines stored,
peak memory (max RSS) of the workbench process.

    .venv/bin/python benchmarks/tui_log_flood.py [--lines 1000000] [--presses 30]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
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

def latencies(sends: list[tuple[float, int]], frames: list[tuple[float, int]]) -> list[float]:
    found = []
    for sent_at, expected in sends:
        shown = next((t for t, line in frames if t >= sent_at and line == expected), None)
        if shown is not None:
            found.append(shown - sent_at)
    return found


def press_keys(child_process: Any, count: int, spacing: float, start_down: bool) -> list[tuple[float, int]]:
    """Alternate down/up in the tree (cursor lines 1 and 0); returns (time, expected line)."""
    sends = []
    down = start_down
    for _ in range(count):
        sent_at = child_process.send(DOWN if down else UP)
        sends.append((sent_at, 1 if down else 0))
        down = not down
        time.sleep(spacing)
    return sends


def main() -> None:
    from tui_pty import PYTHON, PtyProcess, bench_env, median

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "RESULTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "flows"
        folder.mkdir()
        (folder / "flood.yml").write_text(FLOOD_FLOW.format(lines=args.lines))
        results = Path(tmp) / "results.json"
        env = bench_env(Path(tmp) / "home")
        process = PtyProcess([PYTHON, __file__, "--child", str(folder), str(results)],
                             size=(120, 40), env=env)
        started = time.monotonic()
        try:
            process.wait_for_text("flood python.Script", "q Quit", timeout=60)
            time.sleep(0.5)
            process.send(TAB)  # focus the task tree
            time.sleep(0.5)
            idle_sends = press_keys(process, args.presses, 0.15, start_down=True)
            time.sleep(0.3)
            process.send(b"r")
            deadline = time.monotonic() + 120
            while not (folder / "running").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            flood_sends = press_keys(process, args.presses, 0.15, start_down=len(idle_sends) % 2 == 0)
            deadline = time.monotonic() + 1800
            while not results.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            data = json.loads(results.read_text())
        finally:
            process.stop()
        total = time.monotonic() - started
    frames = [tuple(f) for f in data["frames"]]
    idle = latencies(idle_sends, frames)
    flood_end = data["marks"].get("done", float("inf"))
    in_flood = [s for s in flood_sends if s[0] < flood_end]
    during = latencies(in_flood, frames)
    idle_median, flood_median = median(idle), median(during)
    print(f"execution {data['state']}; lines stored: {data['lines_stored']:,} "
          f"({data['flood_lines']:,} from the flooding task, {args.lines:,} printed)")
    print(f"key -> frame latency idle (baseline): median {idle_median * 1000:.1f} ms "
          f"over {len(idle)} presses")
    print(f"key -> frame latency during the flood: median {flood_median * 1000:.1f} ms over "
          f"{len(during)} presses (max {max(during) * 1000:.0f} ms)  (target: < 100 ms)")
    print(f"ratio flood / idle: {flood_median / idle_median:.1f}x")
    print(f"peak memory of the workbench process: {data['max_rss_kb'] / 1024:.0f} MB "
          f"(target: < 300 MB); whole benchmark {total:.0f} s")
    # Where the time goes during the flood: the key reaching the app, the cursor moving, frames.
    keys, moves = data.get("keys", []), data.get("moves", [])
    arrived = [k - sent for sent, _ in in_flood
               if (k := next((t for t in keys if t >= sent), None)) is not None]
    moved = [m - sent for sent, line in in_flood
             if (m := next((t for t, at in moves if t >= sent and at == line), None)) is not None]
    running_at = data["marks"].get("running", 0)
    flood_frames = [t for t, _line in frames if running_at <= t <= flood_end]
    gaps = [b - a for a, b in zip(flood_frames, flood_frames[1:], strict=False)]
    print(f"  during the flood: key reaches the app after {median(arrived) * 1000:.1f} ms, the "
          f"cursor moves after {median(moved) * 1000:.1f} ms; {len(flood_frames)} frames, "
          f"median gap {median(gaps) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
