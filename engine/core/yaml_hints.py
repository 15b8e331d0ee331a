"""PyYAML's syntax errors, said as what to do.

PyYAML reports what its parser expected (`expected <block end>, but found
'<block mapping start>'`), which names no mistake a user knows they made. The usual
mistakes behind those words are few: a line indented unlike its siblings, a tab, a value
holding an unquoted `: `, a template `{{ ... }}` left unquoted (YAML reads `{` as a map),
a quote never closed. Each gets a sentence; the position stays PyYAML's.
"""

from __future__ import annotations

import re

import yaml

_UNQUOTED_TEMPLATE = re.compile(r"^\s*(-\s+)?[^\s\"'#][^:#]*:\s+\{\{|^\s*-\s+\{\{")
_KEY = re.compile(r"^(\s*)(-\s+)?([^\s:#][^:#]*?):(\s|$)")


def _line(text: str, index: int) -> str:
    lines = text.splitlines()
    return lines[index] if 0 <= index < len(lines) else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def template_hint(line: str) -> str | None:
    """The fix for a `{{` YAML took as the start of a map, when `line` shows one."""
    if not _UNQUOTED_TEMPLATE.search(line):
        return None
    match = _KEY.match(line)
    quoted = "\"" + line.split(":", 1)[1].strip() + "\"" if match else ""
    if not match or not quoted.startswith("\"{{"):
        quoted = "\"" + line.strip().lstrip("- ").strip() + "\""
        return (f"a value that starts with '{{{{' must be quoted, or YAML reads it as a map: "
                f"write - {quoted}")
    return (f"a value that starts with '{{{{' must be quoted, or YAML reads it as a map: "
            f"write {match.group(3).strip()}: {quoted}")


def explain(exc: yaml.MarkedYAMLError, text: str) -> str | None:
    """A sentence saying what to do about `exc` in `text`, or None when no usual mistake fits."""
    problem, context = exc.problem or "", exc.context or ""
    mark, start = exc.problem_mark, exc.context_mark
    line = _line(text, mark.line) if mark is not None else ""
    if "'\\t'" in problem:
        return "a tab indents this line: YAML allows only spaces there; replace the tab with spaces"
    if (hint := template_hint(line)) is not None:
        return hint
    if problem == "mapping values are not allowed here" and mark is not None:
        before = line[:mark.column]
        if re.search(r":\s", before):
            key = before.split(":", 1)[0].strip().lstrip("- ")
            value = line.split(":", 1)[1].strip().replace('"', '\\"')
            return (f"the value of '{key}' holds ': ', which YAML reads as a new key: put the value "
                    f"in quotes: {key}: \"{value}\"")
        above = next((_line(text, i) for i in range(mark.line - 1, -1, -1) if _line(text, i).strip()), "")
        if _indent(line) > _indent(above):
            return (f"this line is indented {_indent(line)} spaces, the line above it {_indent(above)}: "
                    "keys of one block line up; indent it like the key above (or end that line "
                    "with ':' if this is its value)")
        return "a key here follows a value on the same line: put each key on its own line"
    if problem.startswith("expected <block end>") or (
            problem.startswith("but found") and "block end" in context + problem):
        where = f" (the block that starts at line {start.line + 1}, column {start.column + 1})" if start else ""
        return (f"this line is not lined up with the lines of its block{where}: "
                "indent it exactly like its siblings (same number of spaces)")
    if "unexpected end of stream" in problem and "quoted scalar" in context and start is not None:
        return (f"the quote opened at line {start.line + 1}, column {start.column + 1} is never closed: "
                "close it on the same value")
    found = re.match(r"found character '(.)' that cannot start any token", problem)
    if found:
        return f"'{found.group(1)}' cannot start a plain value: put the value in quotes"
    if "while parsing a flow mapping" in context or "while parsing a flow sequence" in context:
        opening, closing, what = ("[", "]", "list") if "sequence" in context else ("{", "}", "map")
        where = f" at line {start.line + 1}, column {start.column + 1}" if start is not None else ""
        return (f"the '{opening}'{where} opens an inline {what} that is not closed with "
                f"'{closing}' where YAML expects it: close it, or quote the whole value if it is text")
    return None
