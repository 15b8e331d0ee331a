"""String filters with Pebble's and Kestra's exact behaviour.

Each follows the Java class it imitates (Pebble's core filters, Kestra's
`io.kestra.core.runners.pebble.filters`): `abbreviate` keeps Pebble's off-by-one,
`split` takes a Java regex and drops trailing empty strings, `indent` skips the
first line while `nindent` starts with a newline, `substringAfter` and friends
follow Apache commons-lang, `urlencode` is Java's `URLEncoder`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
import urllib.parse
from typing import Any

from engine.template.errors import TemplateError
from engine.template.operators import MAX_TEXT
from engine.template.values import describe_type, is_number, print_value


def _text(value: Any, filter_name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        raise TemplateError(f"the '{filter_name}' filter needs a string, got {describe_type(value)}")
    return print_value(value)


def upper(value: Any) -> str:
    return _text(value, "upper").upper()


def lower(value: Any) -> str:
    return _text(value, "lower").lower()


def trim(value: Any) -> str:
    return _text(value, "trim").strip()


def capitalize(value: Any) -> str:
    """First non-blank character in title case; the rest untouched (Pebble, not Jinja)."""
    text = _text(value, "capitalize")
    stripped = text.lstrip()
    if not stripped:
        return text
    start = len(text) - len(stripped)
    return text[:start] + stripped[0].title() + stripped[1:]


def title(value: Any) -> str:
    """Every word's first character in title case; the rest untouched."""
    out, capitalize_next = [], True
    for char in _text(value, "title"):
        if char.isspace():
            capitalize_next = True
        elif capitalize_next:
            char, capitalize_next = char.title(), False
        out.append(char)
    return "".join(out)


def abbreviate(value: Any, length: Any) -> str:
    text = _text(value, "abbreviate")
    if not is_number(length) or length < 0:
        raise TemplateError("abbreviate needs a length of 0 or more")
    width = int(length)
    if len(text) < width or len(text) <= 3:
        return text
    if width <= 3:
        return text[:width]
    return text[:width - 3] + "..."


def split(value: Any, delimiter: Any = None, limit: Any = None) -> list[str]:
    """Java's `String.split(regex[, limit])`: trailing empty strings dropped when no limit."""
    text = _text(value, "split")
    if not isinstance(delimiter, str):
        raise TemplateError("split needs a delimiter, e.g. split(',')")
    pattern = _java_regex(delimiter)
    if limit is not None and int(limit) > 0:
        return pattern.split(text, maxsplit=int(limit) - 1)
    parts = pattern.split(text)
    if limit is None or int(limit) == 0:
        while parts and parts[-1] == "":
            parts.pop()
    if text and parts and parts[0] == "" and pattern.match(text) and pattern.match(text).end() == 0:  # type: ignore[union-attr]
        parts.pop(0)
    return parts or ([text] if text == "" else [])


def _java_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise TemplateError(f"'{pattern}' is not a valid regular expression: {exc}") from None


def java_replacement(replacement: str) -> str:
    """A Java `replaceAll` replacement (`$1`, `\\$`) as a Python `re.sub` one."""
    out, index = [], 0
    while index < len(replacement):
        char = replacement[index]
        if char == "\\" and index + 1 < len(replacement):
            out.append(replacement[index + 1].replace("\\", "\\\\"))
            index += 2
        elif char == "$" and (match := re.match(r"\$(\d+|\{(\w+)\})", replacement[index:])):
            out.append(f"\\g<{match.group(2) or match.group(1)}>")
            index += match.end()
        else:
            out.append("\\\\" if char == "\\" else char)
            index += 1
    return "".join(out)


def replace(value: Any, replace_pairs: Any = None, regexp: Any = False) -> Any:
    """Kestra's `replace({'a': 'b'}, regexp=false)`; Roost also takes `replace('a', 'b')`."""
    if isinstance(replace_pairs, str) and isinstance(regexp, str):
        replace_pairs, regexp = {replace_pairs: regexp}, False
    if not isinstance(replace_pairs, dict):
        raise TemplateError("replace needs a map of replacements, e.g. replace({'.csv': ''})")
    return _replace_in(value, replace_pairs, regexp is True)


def _replace_in(value: Any, pairs: dict[Any, Any], regexp: bool) -> Any:
    if isinstance(value, dict):
        return {k: _replace_in(v, pairs, regexp) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_in(v, pairs, regexp) for v in value]
    text = print_value(value) if value is not None else "null"
    for search, replacement in pairs.items():
        search_text, replacement_text = print_value(search), print_value(replacement)
        if regexp:
            text = _java_regex(search_text).sub(java_replacement(replacement_text), text)
        else:
            grows = (text.count(search_text) if search_text else len(text) + 1) * len(replacement_text)
            _check_length(len(text) + grows, "replace")
            text = text.replace(search_text, replacement_text)
    return text


def slugify(value: Any) -> str:
    """Kestra's `Slugify.of`: dashes for spaces, accents dropped, lower case."""
    text = re.sub(r"\s", "-", _text(value, "slugify"))
    text = unicodedata.normalize("NFD", text)
    text = re.sub(r"[^\w-]", "", text, flags=re.ASCII).replace("_", "-")
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text.lower()


def starts_with(value: Any, prefix: Any) -> bool:
    return _text(value, "startsWith").startswith(print_value(prefix))


def ends_with(value: Any, suffix: Any) -> bool:
    return _text(value, "endsWith").endswith(print_value(suffix))


def substring_before(value: Any, separator: Any) -> str:
    text, sep = _text(value, "substringBefore"), print_value(separator)
    if not sep:
        return ""
    index = text.find(sep)
    return text if index < 0 else text[:index]


def substring_after(value: Any, separator: Any) -> str:
    text, sep = _text(value, "substringAfter"), print_value(separator)
    if not sep:
        return text
    index = text.find(sep)
    return "" if index < 0 else text[index + len(sep):]


def substring_before_last(value: Any, separator: Any) -> str:
    text, sep = _text(value, "substringBeforeLast"), print_value(separator)
    if not sep:
        return text
    index = text.rfind(sep)
    return text if index < 0 else text[:index]


def substring_after_last(value: Any, separator: Any) -> str:
    text, sep = _text(value, "substringAfterLast"), print_value(separator)
    if not sep:
        return ""
    index = text.rfind(sep)
    return "" if index < 0 or index == len(text) - len(sep) else text[index + len(sep):]


def _line_separator(text: str) -> str:
    for separator in ("\r\n", "\n\r", "\n", "\r"):
        if separator in text:
            return separator
    return "\n"


def _check_length(length: int, name: str) -> None:
    if length > MAX_TEXT:
        raise TemplateError(f"the '{name}' filter would build a text of more than {MAX_TEXT} characters")


def _indent_args(amount: Any, prefix: Any, name: str) -> str:
    if not is_number(amount) or amount < 0:
        raise TemplateError(f"the '{name}' filter expects a number of 0 or more, e.g. {name}(2)")
    unit = print_value(prefix)
    _check_length(len(unit) * int(amount), name)
    return unit * int(amount)


def indent(value: Any, amount: Any = None, prefix: Any = " ") -> str:
    """Indents every line but the first (the first is assumed to sit in place already)."""
    text = _text(value, "indent")
    padding = _indent_args(amount, prefix, "indent")
    newline = _line_separator(text)
    return text.replace(newline, newline + padding) if text else text


def nindent(value: Any, amount: Any = None, prefix: Any = " ") -> str:
    """A newline first, then every line indented."""
    text = _text(value, "nindent")
    padding = _indent_args(amount, prefix, "nindent")
    newline = _line_separator(text)
    return (newline + text).replace(newline, newline + padding) if text else text


def escape_char(value: Any, type: Any = None) -> str:  # noqa: A002
    kind = str(type).lower() if type is not None else ""
    text = _text(value, "escapeChar")
    if kind == "shell":
        return text.replace("'", "'\\''")
    if kind == "single":
        return text.replace("'", "\\'")
    if kind == "double":
        return text.replace('"', '\\"')
    raise TemplateError("escapeChar expects 'single', 'double' or 'shell'")


def urlencode(value: Any) -> str:
    """Java's `URLEncoder.encode(s, UTF-8)`: spaces become '+', `*-._` stay."""
    return urllib.parse.quote_plus(_text(value, "urlencode"), safe="*").replace("~", "%7E")


def urldecode(value: Any) -> str:
    return urllib.parse.unquote_plus(_text(value, "urldecode"))


def base64encode(value: Any) -> str:
    return base64.b64encode(_text(value, "base64encode").encode("utf-8")).decode("ascii")


def base64decode(value: Any) -> str:
    try:
        return base64.b64decode(_text(value, "base64decode"), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise TemplateError("base64decode: the value is not valid base64 text") from None


def _digest(algorithm: str) -> Any:
    def digest(value: Any) -> str:
        return hashlib.new(algorithm, _text(value, algorithm).encode("utf-8")).hexdigest()

    return digest


sha1, sha256, sha512, md5 = (_digest(name) for name in ("sha1", "sha256", "sha512", "md5"))


def to_string(value: Any) -> str:
    return print_value(value)
