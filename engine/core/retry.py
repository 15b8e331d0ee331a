"""Kestra's retry policies: constant, exponential and random intervals with attempt and time caps."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.core.durations import parse_duration


class RetryConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again; maxAttempt counts every attempt, the first included, as Kestra does."""

    type: str
    max_attempt: int | None
    max_duration: timedelta | None
    interval: timedelta
    max_interval: timedelta | None
    delay_factor: float
    min_interval: timedelta
    warning_on_retry: bool

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> RetryPolicy:
        kind = str(raw.get("type", "constant")).lower()
        if kind not in ("constant", "exponential", "random"):
            raise RetryConfigError(f"retry type '{raw.get('type')}' is not constant, exponential or random")

        def duration(key: str, default: timedelta | None) -> timedelta | None:
            return parse_duration(str(raw[key])) if raw.get(key) is not None else default

        max_attempt = raw.get("maxAttempts", raw.get("maxAttempt"))
        max_duration = duration("maxDuration", None)
        if max_attempt is None and max_duration is None:
            raise RetryConfigError("retry needs maxAttempt or maxDuration")
        return cls(
            type=kind,
            max_attempt=int(max_attempt) if max_attempt is not None else None,
            max_duration=max_duration,
            interval=duration("interval", timedelta(seconds=1)) or timedelta(seconds=1),
            max_interval=duration("maxInterval", None),
            delay_factor=float(raw.get("delayFactor", 2.0)),
            min_interval=duration("minInterval", timedelta(0)) or timedelta(0),
            warning_on_retry=bool(raw.get("warningOnRetry", False)),
        )

    def next_delay(self, attempts_done: int, elapsed: timedelta) -> timedelta | None:
        """The wait before the next attempt, or None when the policy is exhausted."""
        if self.max_attempt is not None and attempts_done >= self.max_attempt:
            return None
        if self.type == "exponential":
            delay = self.interval * (self.delay_factor ** (attempts_done - 1))
            if self.max_interval is not None:
                delay = min(delay, self.max_interval)
        elif self.type == "random":
            upper = self.max_interval or self.interval
            low, high = self.min_interval.total_seconds(), upper.total_seconds()
            delay = timedelta(seconds=random.uniform(low, max(low, high)))
        else:
            delay = self.interval
        if self.max_duration is not None and elapsed + delay > self.max_duration:
            return None
        return delay
