"""Kestra's outputFiles matching: Java's `PathMatcher` globs, applied to a directory tree.

Kestra prefixes each plain pattern with the working directory
(`glob:<dir>/<pattern>`) and tests every regular file found by
`Files.walkFileTree`; a pattern that already says `glob:` or `regex:` is used
as is, against the file's absolute path. Matching a plain pattern against the
path relative to the directory is the same thing, minus the surprises of a
directory name that contains glob characters.

The translation follows the JDK's `sun.nio.fs.Globs.toRegexPattern` (Unix
flavour): `*` and `?` stay inside one path component, `**` crosses `/`,
classes never match `/`, groups `{a,b}` cannot be nested.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.core.errors import TaskFailure

GLOB_META = set("\\*?[{")
REGEX_META = set(".^$+{[]|()")


class GlobPatternError(TaskFailure):
    """A pattern Java would reject with a PatternSyntaxException; the message says where."""


@dataclass(frozen=True)
class CompiledPattern:
    """One outputFiles pattern, ready to test paths: relative ones, or absolute for `glob:`/`regex:`."""

    text: str
    regex: re.Pattern[str]
    absolute: bool


def _error(pattern: str, index: int, reason: str) -> GlobPatternError:
    return GlobPatternError(f"invalid file pattern '{pattern}': {reason} at position {index}")


def _class_to_regex(glob: str, i: int) -> tuple[str, int]:
    """Translate the class starting after `[` at `i`; returns the regex and the index after `]`."""
    parts: list[str] = []
    negate = False
    if i < len(glob) and glob[i] == "^":
        parts.append(re.escape("^"))  # Java escapes it: `[^a]` is a class of '^' and 'a'
        i += 1
    else:
        if i < len(glob) and glob[i] == "!":
            negate = True
            i += 1
        if i < len(glob) and glob[i] == "-":
            parts.append(re.escape("-"))
            i += 1
    has_range_start = False
    last = ""
    closed = False
    while i < len(glob):
        c = glob[i]
        i += 1
        if c == "]":
            closed = True
            break
        if c == "/":
            raise _error(glob, i - 1, "explicit 'name separator' in class")
        if c == "-":
            if not has_range_start:
                raise _error(glob, i - 1, "invalid range")
            if i >= len(glob) or glob[i] == "]":
                parts.append(re.escape("-"))
                continue
            end = glob[i]
            i += 1
            if end < last:
                raise _error(glob, i - 3, "invalid range")
            parts[-1] = f"{re.escape(last)}-{re.escape(end)}"
            has_range_start = False
        else:
            parts.append(re.escape(c))
            has_range_start = True
            last = c
    if not closed:
        raise _error(glob, i - 1, "missing ']'")
    body = "".join(parts)
    # Java intersects every class with [^/]: a range like [.-0] still never matches '/'.
    return f"(?!/)[{'^' if negate else ''}{body}]", i


def glob_to_regex(glob: str) -> str:
    """The Python regex (for fullmatch) equivalent to Java's `glob:` syntax on Unix."""
    out: list[str] = []
    in_group = False
    i = 0
    while i < len(glob):
        c = glob[i]
        i += 1
        if c == "\\":
            if i == len(glob):
                raise _error(glob, i - 1, "no character to escape")
            out.append(re.escape(glob[i]))
            i += 1
        elif c == "[":
            regex, i = _class_to_regex(glob, i)
            out.append(regex)
        elif c == "{":
            if in_group:
                raise _error(glob, i - 1, "cannot nest groups")
            out.append("(?:(?:")
            in_group = True
        elif c == "}":
            out.append("))" if in_group else re.escape("}"))
            in_group = False
        elif c == "," and in_group:
            out.append(")|(?:")
        elif c == "*":
            if i < len(glob) and glob[i] == "*":
                out.append(".*")
                i += 1
            else:
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
    if in_group:
        raise _error(glob, i - 1, "missing '}'")
    return "".join(out)


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> CompiledPattern:
    """Compile one pattern once; `glob:`/`regex:` prefixed ones match absolute paths."""
    if pattern.startswith("regex:"):
        source, absolute = pattern[len("regex:"):], True
    elif pattern.startswith("glob:"):
        source, absolute = glob_to_regex(pattern[len("glob:"):]), True
    else:
        # Kestra builds `<dir>` + (pattern if it starts with '/' else '/' + pattern).
        source, absolute = glob_to_regex(pattern[1:] if pattern.startswith("/") else pattern), False
    try:
        return CompiledPattern(pattern, re.compile(source), absolute)
    except re.error as exc:  # e.g. an empty class `[]`, which Java rejects too
        raise GlobPatternError(f"invalid file pattern '{pattern}': {exc}") from None


def _walk_regular_files(directory: str, prefix: str = "") -> Iterator[str]:
    """Relative POSIX paths of the regular files below `directory`; symlinks are never followed."""
    try:
        with os.scandir(directory) as scan:
            entries = list(scan)
    except OSError:
        return  # Kestra's visitor skips what it cannot read
    for entry in entries:
        name = prefix + entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk_regular_files(entry.path, name + "/")
            elif entry.is_file(follow_symlinks=False):
                yield name
        except OSError:
            continue


def match_output_files(directory: Path, patterns: list[str]) -> list[Path]:
    """Regular files under `directory` matching any pattern, sorted, each once.

    A pattern matching nothing is not an error; an invalid one raises GlobPatternError.
    """
    compiled = [compile_pattern(p) for p in patterns]
    if not compiled or not directory.is_dir():
        return []
    relative_regexes = [c.regex for c in compiled if not c.absolute]
    absolute_regexes = [c.regex for c in compiled if c.absolute]
    base = str(directory.absolute()).rstrip("/") + "/"
    matched: list[Path] = []
    for name in _walk_regular_files(str(directory)):
        if any(r.fullmatch(name) for r in relative_regexes) or (
                absolute_regexes and any(r.fullmatch(base + name) for r in absolute_regexes)):
            matched.append(directory / name)
    return sorted(set(matched))
