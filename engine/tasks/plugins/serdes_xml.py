"""Kestra's XML serdes tasks: XmlToIon (org.json's XML mapping) and IonToXml (Jackson's XmlMapper output).

XmlToIon maps elements as org.json's `XML.toJSONObject` does, which Kestra uses:
attributes and child elements become fields, repeated children a list, text next to
attributes or children a `content` field, and text that looks like a number or a
boolean is typed (`44.95` a decimal, `true` a boolean). With `query: /catalog/book`
each matching element is one row, read as the file streams; without it a document
whose root holds one repeated element (`<items><item/>...</items>`) gives one row per
element, anything else one row. Names keep their namespace prefixes (`db:title`).

IonToXml writes every row as an `<item>` under `rootName`, indented by two spaces, with
lists as repeated elements, as Jackson does.
"""

from __future__ import annotations

import base64
import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar
from xml.parsers import expat

from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.serdes_common import SERDES, SerdesTask, java_double
from engine.tasks.plugins.serdes_json import iso_text
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.storage_tasks import OutputWriter

_CHUNK = 64 * 1024


@dataclass
class _Node:
    name: str
    attributes: dict[str, str]
    children: list[tuple[str, Any]] = field(default_factory=list)  # ("text", str) | ("node", _Node)


def typed_text(text: str) -> Any:
    """org.json's XML.stringToValue: booleans, null, integers and decimals typed; the rest text."""
    if text == "":
        return ""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if text[0].isdigit() or text[0] == "-":
        digits = text[1:] if text[0] == "-" else text
        if any(c in text for c in ".eE") or text == "-0":
            try:
                value = Decimal(text)
            except InvalidOperation:
                return text
            return value if value.is_finite() else text
        if digits.isdigit() and not (len(digits) > 1 and digits[0] == "0"):
            return int(text)
    return text


def _accumulate(target: dict[str, Any], key: str, value: Any, force_list: bool) -> None:
    if key not in target:
        target[key] = [value] if force_list else value
    elif isinstance(target[key], list):
        target[key].append(value)
    else:
        target[key] = [target[key], value]


def node_value(node: _Node, force: frozenset[str]) -> Any:
    """One element as org.json maps it: "" when empty, its typed text alone, or a struct."""
    out: dict[str, Any] = {}
    for key, raw in node.attributes.items():
        _accumulate(out, key, typed_text(raw), False)
    text: list[str] = []

    def flush() -> None:
        content = "".join(text).strip()
        text.clear()
        if content:
            _accumulate(out, "content", typed_text(content), False)

    for kind, item in node.children:
        if kind == "text":
            text.append(item)
            continue
        flush()
        _accumulate(out, item.name, node_value(item, force), item.name in force)
    flush()
    if not out:
        return ""
    if len(out) == 1 and "content" in out:
        return out["content"]
    return out


class _TreeReader:
    """An expat parser (no namespace processing: names keep their prefixes) building _Node trees.

    With a `path`, each completed element at that path is handed out and dropped, so a
    large file streams; without one the document's root is kept whole."""

    def __init__(self, path: list[str] | None) -> None:
        self._path = path
        self._stack: list[_Node] = []
        self.done: list[_Node] = []
        self.root: _Node | None = None
        self._parser = expat.ParserCreate(encoding="UTF-8")
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text
        # No DTD-declared entities: XML bombs and external entities are refused, as Kestra does.
        self._parser.EntityDeclHandler = self._entity

    def _entity(self, *_: Any) -> None:
        raise ValueError("the file declares entities (DTD), which are not read for safety")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        node = _Node(name, dict(attributes))
        if self._stack and self._keep(len(self._stack)):
            self._stack[-1].children.append(("node", node))
        self._stack.append(node)

    def _keep(self, depth: int) -> bool:
        """Whether children at `depth` are kept: all of them without a path, only inside a match with one."""
        if self._path is None:
            return True
        names = [n.name for n in self._stack[:len(self._path)]]
        return depth >= len(self._path) and names == self._path

    def _end(self, _name: str) -> None:
        node = self._stack.pop()
        if self._path is None:
            if not self._stack:
                self.root = node
            return
        if len(self._stack) + 1 == len(self._path) and [n.name for n in self._stack] + [node.name] == self._path:
            self.done.append(node)

    def _text(self, data: str) -> None:
        if self._stack and (self._path is None or self._keep(len(self._stack))):
            self._stack[-1].children.append(("text", data))

    def feed(self, data: bytes, final: bool = False) -> None:
        self._parser.Parse(data, final)


@register
@dataclass(kw_only=True, eq=False)
class XmlToIon(SerdesTask):
    """Reads an XML file into Ion rows: the elements at `query` (streamed), or the whole document."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "xml.XmlToIon", SERDES + "xml.XmlReader")

    charset: Any = prop("UTF-8", kind=Kind.STRING)
    query: Any = prop(None, kind=Kind.STRING)
    parser_configuration: Any = prop(None, kind=Kind.MAP)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        charset = self.encoding_of(ctx, self.charset)
        query = ctx.render_optional_str(self.query, "query")
        force: frozenset[str] = frozenset()
        if self.parser_configuration is not None:
            config = ctx.render_map(self.parser_configuration, "parserConfiguration")
            tags = config.get("forceList") or ()
            force = frozenset(str(t) for t in (tags if isinstance(tags, list | tuple) else [tags]))
        segments = [s for s in (query or "").strip().strip("/").split("/") if s] if query else None
        if query is not None and not segments:
            raise self.fail(f"property 'query': '{query}' names no element; use a path like /catalog/book")
        rows = self._rows(path, uri, charset, segments, force)
        return self.store_rows(ctx, rows)

    def _rows(self, path: Path, uri: str, charset: str, segments: list[str] | None,
              force: frozenset[str]) -> Iterator[Any]:
        reader = _TreeReader(segments)
        try:
            # Read as `charset` (like Kestra's InputStreamReader), hand expat UTF-8.
            decoder = codecs.getincrementaldecoder(charset)()
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    reader.feed(decoder.decode(chunk).encode("utf-8"))
                    for node in reader.done:
                        yield node_value(node, force)
                    reader.done.clear()
                reader.feed(b"", final=True)
        except expat.ExpatError as exc:
            if segments is not None and exc.code == expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]:
                return  # Kestra: an empty file gives no rows
            raise self.fail(f"{uri} is not well-formed XML: {expat.ErrorString(exc.code)} at line "
                            f"{exc.lineno}, column {exc.offset + 1}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.fail(f"cannot read {uri}: {exc}") from None
        for node in reader.done:
            yield node_value(node, force)
        if segments is None and reader.root is not None:
            yield from _unwrap({reader.root.name: node_value(reader.root, force)})


def _unwrap(document: dict[str, Any]) -> list[Any]:
    """Kestra's unwrapRootArray: `<items><item/>...</items>` gives its items, anything else itself."""
    (root_value,) = document.values()
    if isinstance(root_value, list):
        return root_value
    if isinstance(root_value, dict) and len(root_value) == 1:
        (inner,) = root_value.values()
        if isinstance(inner, list):
            return inner
    return [document]


@register
@dataclass(kw_only=True, eq=False)
class IonToXml(SerdesTask):
    """Writes an Ion row file as one XML document: each row an `<item>` under `rootName` (default `items`)."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "xml.IonToXml", SERDES + "xml.XmlWriter")

    charset: Any = prop("UTF-8", kind=Kind.STRING)
    root_name: Any = prop("items", kind=Kind.STRING)
    time_zone_id: Any = prop(None, kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        charset = self.encoding_of(ctx, self.charset)
        declared = ctx.render_str(self.charset, "charset").strip().upper()
        root = ctx.render_str(self.root_name, "rootName").strip()
        if not root or _name(root) != root:
            raise self.fail(f"property 'rootName': '{root}' is not an XML element name")
        printer = _XmlPrinter(self.zone(ctx, self.time_zone_id))
        writer = OutputWriter(ctx, ctx.task_id + ".xml")
        count = 0
        try:
            writer.write(f"<?xml version='1.0' encoding='{declared}'?>\n".encode(charset))
            for row in self.rows(path, uri):
                if count == 0:
                    writer.write(f"<{root}>\n".encode(charset))
                writer.write("".join(printer.element("item", row, 1)).encode(charset, errors="xmlcharrefreplace"))
                count += 1
            writer.write((f"</{root}>\n" if count else f"<{root}/>\n").encode(charset))
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "size": count}


def _name(key: str) -> str:
    """A key as an XML element name: characters XML refuses become `_` (Jackson would write them as is)."""
    cleaned = re.sub(r"[^\w.:-]", "_", key) or "_"
    return cleaned if re.match(r"[A-Za-z_:]", cleaned) else "_" + cleaned


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class _XmlPrinter:
    """Jackson's indented XML: two spaces a level, lists as repeated elements, nulls as `<k/>`."""

    zone: tzinfo

    def element(self, name: str, value: Any, depth: int) -> Iterator[str]:
        pad = "  " * depth
        tag = _name(name)
        if isinstance(value, list):
            for item in value:
                yield from self.element(name, item, depth)
            return
        if isinstance(value, dict):
            if not value:
                yield f"{pad}<{tag}/>\n"
                return
            yield f"{pad}<{tag}>\n"
            for key, inner in value.items():
                yield from self.element(str(key), inner, depth + 1)
            yield f"{pad}</{tag}>\n"
            return
        if value is None:
            yield f"{pad}<{tag}/>\n"
            return
        yield f"{pad}<{tag}>{_escape(self.text(value))}</{tag}>\n"

    def text(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return java_double(value)
        if isinstance(value, date | time):
            return iso_text(value, self.zone)
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        return str(value)
