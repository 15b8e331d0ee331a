"""A folder watched with watchfiles in a thread: local-file triggers and flow reloading use it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path


class FolderWatch:
    """Calls `on_change(paths)` after changes under `folder` settle, until `stop()`."""

    def __init__(self, folder: Path, on_change: Callable[[set[Path]], None], *, recursive: bool = True,
                 accept: Callable[[Path], bool] | None = None, name: str = "watch") -> None:
        self.folder = folder
        self._on_change = on_change
        self._recursive = recursive
        self._accept = accept
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.error: str | None = None

    def start(self) -> FolderWatch:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        from watchfiles import watch

        try:
            # step: changes are handed over once the folder is quiet for 50 ms, so a file being
            # copied is reported when the copy pauses, and the trigger's poll checks it settled.
            for changes in watch(self.folder, recursive=self._recursive, stop_event=self._stop,
                                 debounce=400, step=50, rust_timeout=500, raise_interrupt=False):
                paths = {Path(path) for _change, path in changes}
                if self._accept is not None:
                    paths = {p for p in paths if self._accept(p)}
                if paths:
                    self._on_change(paths)
        except Exception as exc:  # a vanished folder: the poll interval still applies
            self.error = str(exc)
