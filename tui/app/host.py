"""What the workbench's parts need of the Textual app, as a protocol: the parts never import
:mod:`tui.app.roost_app` (which composes them), so no import cycle runs through the app.

:class:`~tui.app.roost_app.RoostApp` is the one implementation; the type checker checks that
it is one wherever it passes itself to a part.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from textual.message import Message
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.timer import Timer
    from textual.worker import Worker

    from tui.screens.main import MainScreen

__all__ = ["AppHost", "report_error"]

ScreenResult = TypeVar("ScreenResult")


class AppHost(Protocol):
    """The app's services a part uses: the main screen, notices, modal screens and threads."""

    @property
    def main(self) -> MainScreen:
        """The workbench screen (the bottom of the screen stack)."""
        ...

    @property
    def screen(self) -> Screen[object]:
        """The screen on top (a modal one while it is open)."""
        ...

    @property
    def screen_stack(self) -> list[Screen[Any]]: ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None: ...

    def push_screen(self, screen: Screen[ScreenResult],
                    callback: Callable[[ScreenResult | None], None] | None = None) -> Any: ...

    def suspend(self) -> AbstractContextManager[None]:
        """Give the terminal to another program (``with host.suspend(): ...``)."""
        ...

    def refresh_bindings(self) -> None: ...

    def set_interval(self, interval: float, callback: Callable[[], Any] | None = None, *,
                     name: str | None = None) -> Timer: ...

    def set_timer(self, delay: float, callback: Callable[[], Any] | None = None, *,
                  name: str | None = None) -> Timer: ...

    def call_after_refresh(self, callback: Callable[..., Any], *args: Any,
                           **kwargs: Any) -> bool: ...

    def run_worker(self, work: Callable[[], Any], name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True,
                   exclusive: bool = False, thread: bool = False) -> Worker[Any]: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``callback`` on the UI thread and wait for it (from a worker thread)."""
        ...

    def post_message(self, message: Message) -> bool:
        """Queue a message for the app (thread-safe: the engine's threads use it)."""
        ...


def report_error(host: AppHost, what: str, exc: BaseException) -> None:
    """An engine or UI error as one notice, never a traceback on screen."""
    host.notify(f"{what}: {exc}", severity="error", timeout=8)
