"""`roost run FLOW --fire TRIGGER_ID [--file PATH]... [--body JSON|@FILE] [--date ISO]`.

The flow runs as if that trigger had fired: engine/scheduling/simulate.py builds the very
`trigger` variables the real firing builds (files stored under the new execution). The
options that describe what the trigger found apply to some types only, and a wrong one is a
usage error (exit 2) naming what the trigger takes, not an option silently ignored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.errors import UsageError

if TYPE_CHECKING:
    from engine.execution.runtime import Runtime
    from engine.flow.model import Flow
    from engine.triggers.base import TriggerFiring

_DESCRIBING = (("files", "--file"), ("body", "--body"), ("date", "--date"), ("headers", "--header"),
               ("params", "--param"))


def add_fire_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fire", metavar="TRIGGER_ID",
                        help="run as if this trigger of the flow fired, with the variables it sets")
    parser.add_argument("--file", dest="files", action="append", default=[], metavar="PATH",
                        help="with --fire (S3, local-file trigger): a file the trigger found (repeatable)")
    parser.add_argument("--body", metavar="JSON|@FILE",
                        help="with --fire (webhook, HTTP, Flow trigger): the body, inline or @file")
    parser.add_argument("--date", metavar="ISO",
                        help="with --fire (Schedule): the scheduled date (default now)")
    parser.add_argument("--header", dest="headers", action="append", default=[], metavar="NAME=VALUE",
                        help="with --fire (webhook): a request header (repeatable)")
    parser.add_argument("--param", dest="params", action="append", default=[], metavar="NAME=VALUE",
                        help="with --fire (webhook): a query parameter (repeatable)")


def check_fire_usage(args: argparse.Namespace) -> None:
    """Before anything loads: --fire with --trigger, or a describing option without --fire."""
    if args.fire and args.trigger:
        raise UsageError("--fire and --trigger exclude each other: --fire builds the trigger "
                         "variables, --trigger PAYLOAD.json gives them")
    if not args.fire:
        given = [option for name, option in _DESCRIBING if getattr(args, name)]
        if given:
            raise UsageError(f"{given[0]} describes a trigger firing: use it with --fire TRIGGER_ID")


def fired_trigger(args: argparse.Namespace, flow: Flow, runtime: Runtime) -> TriggerFiring | None:
    """The simulated firing `--fire` asks for (files stored), None without it; raises UsageError."""
    if not args.fire:
        return None
    from engine.scheduling.simulate import FireArgs, read_body, simulated_firing

    fire = FireArgs(files=tuple(Path(p).expanduser() for p in args.files),
                    body=read_body(args.body) if args.body is not None else None, date=args.date,
                    headers=_pairs(args.headers, "--header"), params=_pairs(args.params, "--param"))
    return simulated_firing(flow, args.fire, fire, runtime, log=_warn)


def _pairs(values: list[str], option: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise UsageError(f"{option} '{value}' must look like NAME=VALUE")
        pairs.append((name, text))
    return tuple(pairs)


def _warn(level: str, message: str) -> None:
    if level in ("WARN", "ERROR"):
        print(f"{level.lower()}: {message}", file=sys.stderr)
