"""SQL text as Kestra's JDBC tasks read it: statements split on `;`, `:name` parameters bound.

Both scans skip what is not SQL code: quoted strings and identifiers, comments, PostgreSQL's
dollar-quoted bodies. Splitting also keeps `CREATE TRIGGER ... BEGIN ...; END;` whole, as
Kestra's SqlSplitter does, while a statement that *starts* with BEGIN (a transaction) is an
ordinary statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _segments(sql: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pieces in order: kind is 'code', 'quoted' or 'comment'; they add up to `sql`."""
    i, start, n = 0, 0, len(sql)
    while i < n:
        ch = sql[i]
        end = -1
        kind = "quoted"
        if ch in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # '' or "" inside: an escaped quote
                        end += 2
                        continue
                    break
                end += 1
            end = min(end + 1, n)
        elif sql.startswith("--", i):
            kind = "comment"
            newline = sql.find("\n", i)
            end = n if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            kind = "comment"
            close = sql.find("*/", i + 2)
            end = n if close < 0 else close + 2
        elif ch == "$" and (match := _DOLLAR_TAG.match(sql, i)) and not (i and sql[i - 1].isalnum()):
            close = sql.find(match.group(), match.end())
            end = n if close < 0 else close + len(match.group())
        if end < 0:
            i += 1
            continue
        if start < i:
            yield "code", sql[start:i]
        yield kind, sql[i:end]
        i = start = end
    if start < n:
        yield "code", sql[start:]


def split_statements(sql: str) -> list[str]:
    """The statements of `sql`, without their `;`; blank and comment-only ones are left out."""
    statements: list[str] = []
    current: list[str] = []
    has_code = False
    depth = 0  # inside BEGIN ... END or CASE ... END

    def flush() -> None:
        nonlocal has_code
        text = "".join(current).strip()
        if text and has_code:
            statements.append(text)
        current.clear()
        has_code = False

    for kind, text in _segments(sql):
        if kind != "code":
            current.append(text)
            has_code = has_code or kind == "quoted"
            continue
        pos = 0
        for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*|;", text):
            word = match.group()
            if word == ";":
                if depth == 0:
                    current.append(text[pos:match.start()])
                    flush()
                    pos = match.end()
                continue
            upper = word.upper()
            first_word = not has_code and not "".join(current).strip() and not text[pos:match.start()].strip()
            if upper in ("BEGIN", "CASE") and not first_word:
                depth += 1
            elif upper == "END" and depth:
                depth -= 1
            has_code = True
        current.append(text[pos:])
        has_code = has_code or bool(text[pos:].strip())
    flush()
    return statements


def bind_named(sql: str, parameters: Mapping[str, Any], placeholder: str) -> tuple[str, list[Any]]:
    """`:name` replaced by the driver's `placeholder` (`?` or `%s`) for each name in `parameters`.

    Casts (`::int`), names that are not parameters and anything quoted stay as they are. With
    `%s` (psycopg) every other `%` is doubled, since the driver reads them all as markers."""
    values: list[Any] = []
    out: list[str] = []
    escape_percent = placeholder == "%s"
    for kind, text in _segments(sql):
        if escape_percent:
            text = text.replace("%", "%%")
        if kind != "code":
            out.append(text)
            continue
        pos = 0
        for match in re.finditer(r":([A-Za-z_][A-Za-z0-9_]*)", text):
            name = match.group(1)
            before = text[match.start() - 1] if match.start() else ""
            if before == ":" or name not in parameters:
                continue
            out.append(text[pos:match.start()])
            out.append(placeholder)
            values.append(parameters[name])
            pos = match.end()
        out.append(text[pos:])
    return "".join(out), values


def first_word(statement: str) -> str:
    """The statement's keyword (SELECT, INSERT...), comments skipped; '' when there is none."""
    for kind, text in _segments(statement):
        if kind == "code" and (match := _WORD.search(text)):
            return match.group().upper()
        if kind == "quoted":
            return ""
    return ""
