"""Input before output: the terminal driver tells the app of a key press on its input thread.

A key press reaches the app's event loop only when the loop gets the interpreter; while a
task floods its output the engine's threads hold the GIL most of the time, and the key waits
tens of milliseconds before the app even sees it. Told here, on the driver's own thread, the
app asks the flooding tasks to wait at once (see ``EventInbox.hold``), so the loop gets the
key, and the frame answering it, without competing for the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App
from textual.driver import Driver
from textual.message import Message

if TYPE_CHECKING:
    from tui.app.workspace import Workspace

__all__ = ["INPUT_PRIORITY_SECONDS", "InputFirstApp", "input_first"]

INPUT_PRIORITY_SECONDS = 0.1
"""How long a key press may hold flooding tasks (released as soon as its frame is drawn)."""

_WRAPPED: dict[type[Driver], type[Driver]] = {}


def input_first(driver_class: type[Driver]) -> type[Driver]:
    """``driver_class`` whose input thread calls the app's ``input_arrived()`` (if it has
    one) for each key press or mouse click, before passing it on as usual."""
    wrapped = _WRAPPED.get(driver_class)
    if wrapped is None:
        def process_message(self: Driver, message: Message) -> None:
            if isinstance(message, events.Key | events.MouseDown):
                hook: Callable[[], Any] | None = getattr(self._app, "input_arrived", None)
                if hook is not None:
                    hook()
            driver_class.process_message(self, message)

        wrapped = type(f"InputFirst{driver_class.__name__}", (driver_class,),
                       {"process_message": process_message, "__doc__": input_first.__doc__})
        _WRAPPED[driver_class] = wrapped
    return wrapped


class InputFirstApp(App[int]):
    """The workbench app's base (``RoostApp``'s module is at its size limit): a key press or
    a click holds flooding tasks from the driver's thread until the frame answering it is
    drawn (the engine's threads and the UI share one GIL)."""

    workspace: Workspace

    def get_driver_class(self) -> type[Driver]:
        return input_first(super().get_driver_class())

    def input_arrived(self) -> None:
        """On the driver's input thread, before the event loop sees the key."""
        if (session := getattr(getattr(self, "workspace", None), "session", None)) is not None:
            session.inbox.hold(INPUT_PRIORITY_SECONDS)

    async def on_event(self, event: events.Event) -> None:
        session = self.workspace.session
        if isinstance(event, events.Key | events.MouseDown) and session is not None:
            # The user acts: flooding tasks wait until the answering frame is drawn.
            inbox = session.inbox
            inbox.hold(INPUT_PRIORITY_SECONDS)
            self.call_after_refresh(inbox.release)
        await super().on_event(event)
