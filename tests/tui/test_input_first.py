"""input_first: the driver tells the app of a key press on its own thread, before posting it."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import events
from textual.driver import Driver
from textual.message import Message

from tui.app.input_first import input_first


class RecordingDriver(Driver):
    """A driver that records what it would post to the app instead of posting it."""

    posted: list[str]

    def process_message(self, message: Message) -> None:
        self.posted.append(type(message).__name__)

    def write(self, data: str) -> None: ...

    def start_application_mode(self) -> None: ...

    def disable_input(self) -> None: ...

    def stop_application_mode(self) -> None: ...


class App:
    """What the driver reads of the app: its ``input_arrived`` hook."""

    def __init__(self, posted: list[str]) -> None:
        self.posted = posted

    def input_arrived(self) -> None:
        self.posted.append("input_arrived")


def test_a_key_press_is_told_to_the_app_before_it_is_posted_and_a_resize_is_not() -> None:
    posted: list[str] = []
    driver_class = input_first(RecordingDriver)

    async def drive() -> None:  # a driver is made inside the app's event loop
        driver: Any = driver_class(App(posted))  # type: ignore[arg-type]
        driver.posted = posted
        driver.process_message(events.Key("down", None))
        driver.process_message(events.Resize.from_dimensions((80, 24), None))

    asyncio.run(drive())
    assert posted == ["input_arrived", "Key", "Resize"]
    assert input_first(RecordingDriver) is driver_class  # one subclass per driver class
