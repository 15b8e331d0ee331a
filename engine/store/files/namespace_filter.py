"""Which namespace files a task gets: Kestra's include/exclude globs and `.kestraignore`.

Kestra tests each namespace file as `/a/b.txt` against Java globs, and a
pattern that starts with a word character is made recursive (`**/` + pattern,
see `PathMatcherPredicate.mayAddRecursiveMatch`), so `scripts/**` also matches
`/x/scripts/y`, while `/scripts/**` is anchored at the root. A `.kestraignore`
at the root of the folder (gitignore syntax, as Kestra's CLI honours when it
uploads a folder) keeps files out, and is never listed itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.store.files.java_glob import CompiledPattern, compile_pattern

KESTRA_IGNORE = ".kestraignore"
_WORD_START = re.compile(r"\w", re.ASCII)


@dataclass(frozen=True)
class NamespaceFileFilter:
    """The `namespaceFiles.include` / `exclude` globs; both empty means every file."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def matches(self, relative: str) -> bool:
        """Whether the file at `relative` (POSIX, no leading slash) passes include and exclude."""
        path = "/" + relative
        if self.include and not _any_match(_compiled(self.include), path):
            return False
        return not (self.exclude and _any_match(_compiled(self.exclude), path))


def _kestra_pattern(pattern: str) -> str:
    if pattern.startswith(("glob:", "regex:")):
        return pattern
    return "glob:" + ("**/" + pattern if _WORD_START.match(pattern) else pattern)


def _compiled(patterns: tuple[str, ...]) -> list[CompiledPattern]:
    return [compile_pattern(_kestra_pattern(p)) for p in patterns]


def _any_match(patterns: list[CompiledPattern], path: str) -> bool:
    return any(p.regex.fullmatch(path) for p in patterns)


@dataclass(frozen=True)
class _IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


def _unescaped_trailing_spaces_stripped(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped + " "  # "foo\ " keeps one escaped space
    return stripped


def _gitignore_glob_to_regex(pattern: str) -> str:
    """gitignore wildcards: `*`/`?`/classes stay in one component; `**` only as a whole component."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i) and (i == 0 or pattern[i - 1] == "/"):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i) and i + 2 == len(pattern) and (i == 0 or pattern[i - 1] == "/"):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "[":
            # As in fnmatch, a ']' right after '[' (or '[!') is part of the class.
            first = i + 2 if pattern[i + 1:i + 2] in ("!", "^") else i + 1
            end = pattern.find("]", first + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
                continue
            body = pattern[i + 1:end]
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = "".join("\\" + ch if ch in "\\[]^&~|" else ch for ch in body)
            out.append(f"(?!/)[{'^' if negate else ''}{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _parse_ignore_line(raw: str) -> _IgnoreRule | None:
    line = _unescaped_trailing_spaces_stripped(raw.rstrip("\r\n"))
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated or line.startswith(("\\!", "\\#")):
        line = line[1:]  # drop the '!' or the backslash escaping a leading '!'/'#'
    directory_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    # A slash at the start or in the middle anchors the pattern at the root.
    anchored = "/" in line
    line = line.lstrip("/")
    regex = _gitignore_glob_to_regex(line)
    if not anchored and not line.startswith("**/"):
        regex = "(?:.*/)?" + regex
    try:
        return _IgnoreRule(re.compile(regex), negated, directory_only)
    except re.error:
        return None  # git ignores lines it cannot understand


class KestraIgnore:
    """The rules of a `.kestraignore`: the last matching line decides, `!` re-includes."""

    def __init__(self, text: str) -> None:
        self.rules = [r for r in map(_parse_ignore_line, text.splitlines()) if r is not None]

    @classmethod
    def of_folder(cls, root: Path) -> KestraIgnore:
        try:
            return cls((root / KESTRA_IGNORE).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return cls("")

    def is_ignored(self, relative: str, is_dir: bool) -> bool:
        ignored = False
        for rule in self.rules:
            if rule.directory_only and not is_dir:
                continue
            if rule.regex.fullmatch(relative):
                ignored = not rule.negated
        return ignored


def list_namespace_files(root: Path, file_filter: NamespaceFileFilter) -> list[str]:
    """Sorted relative POSIX paths of the regular files under `root` that the task gets.

    Symlinks are not followed; an ignored folder is skipped whole (as in git, a
    file inside it cannot be re-included).
    """
    ignore = KestraIgnore.of_folder(root)
    found: list[str] = []
    pending = [("", str(root))]
    while pending:
        prefix, folder = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:
            continue
        for entry in entries:
            relative = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if not ignore.is_ignored(relative, is_dir=True):
                    pending.append((relative + "/", entry.path))
            elif entry.is_file(follow_symlinks=False):
                if relative == KESTRA_IGNORE or ignore.is_ignored(relative, is_dir=False):
                    continue
                if file_filter.matches(relative):
                    found.append(relative)
    return sorted(found)
