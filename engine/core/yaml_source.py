"""YAML loading that remembers where every key and value came from.

Kestra reads YAML with Jackson: `on`, `yes`, `no` stay strings and dates stay
strings. PyYAML's default YAML 1.1 resolvers would turn the S3 trigger's
`on: CREATE` key into `True`, so only YAML 1.2 core booleans are resolved here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from engine.core.errors import FlowError, InvalidFlowError
from engine.core.yaml_hints import explain, template_hint


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a flow file."""

    line: int
    column: int


class YamlMap(dict[str, Any]):
    """A mapping from YAML that knows the position of itself, its keys and its values."""

    position: Position
    key_positions: dict[str, Position]
    value_positions: dict[str, Position]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.position = Position(1, 1)
        self.key_positions = {}
        self.value_positions = {}

    def position_of(self, key: str) -> Position:
        """Where the value of `key` starts, else the key, else the mapping itself."""
        return self.value_positions.get(key) or self.key_positions.get(key) or self.position

    def key_position(self, key: str) -> Position:
        return self.key_positions.get(key) or self.position


class YamlList(list[Any]):
    """A sequence from YAML that knows the position of itself and of each item."""

    position: Position
    item_positions: list[Position]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.position = Position(1, 1)
        self.item_positions = []

    def position_of(self, index: int) -> Position:
        if 0 <= index < len(self.item_positions):
            return self.item_positions[index]
        return self.position


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2 core-schema scalars: true/false only, no sexagesimal, no timestamps."""


_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


MAX_EXPANDED_NODES = 100_000
"""How many values a document may stand for once its aliases are expanded (an "alias bomb",
anchors nested ten deep with ten aliases each, stands for ten billion)."""


class _AliasBomb(Exception):
    def __init__(self, alias: str, position: Position, stands_for: int) -> None:
        super().__init__(alias)
        self.alias = alias
        self.position = position
        self.stands_for = stands_for


class _HugeInteger(Exception):
    def __init__(self, digits: int, position: Position) -> None:
        super().__init__(digits)
        self.digits = digits
        self.position = position


MAX_INTEGER_DIGITS = 4300
"""Python's own limit for converting digits to an int (sys.get_int_max_str_digits)."""


class _UnquotedTemplate(Exception):
    def __init__(self, position: Position, line: str) -> None:
        super().__init__(line)
        self.position = position
        self.line = line


class _DuplicateKey(Exception):
    def __init__(self, key: str, position: Position) -> None:
        super().__init__(key)
        self.key = key
        self.position = position


class _PositionConstructor(yaml.constructor.SafeConstructor):
    """Maps and lists that keep their positions, and the checks both parsers share."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(ch.isdigit() for ch in node.value)
        if digits > MAX_INTEGER_DIGITS:
            raise _HugeInteger(digits, _mark(node))
        return super().construct_yaml_int(node)  # type: ignore[no-any-return]

    def construct_positioned_map(self, node: yaml.MappingNode) -> YamlMap:
        return self._positioned_map(node, self._deep, flatten=True)

    def construct_positioned_list(self, node: yaml.SequenceNode) -> YamlList:
        return self._positioned_list(node, self._deep)

    def construct_plain(self, node: yaml.Node) -> Any:
        """The document without aliases, built by a direct walk of its nodes: the same values
        and positions as `construct_document`, at about a third of its cost (PyYAML's generic
        construction keeps per-node state for aliases and generators a plain document never
        needs; a 200-task flow spent 17 us a task in it). A node it has no shortcut for (an
        explicit tag, a merge key) is built by the generic constructor, as before."""
        try:
            return self._plain(node)
        finally:
            self.constructed_objects = {}
            self.recursive_objects = {}

    def _deep(self, node: yaml.Node) -> Any:
        return self.construct_object(node, deep=True)

    def _plain(self, node: yaml.Node) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _MAP:
            if any(key.tag == _MERGE for key, _value in node.value):
                return self.construct_positioned_map(node)  # type: ignore[arg-type]  # `<<:`: the generic way
            return self._positioned_map(node, self._plain, flatten=False)  # type: ignore[arg-type]
        if tag == _SEQ:
            return self._positioned_list(node, self._plain)  # type: ignore[arg-type]
        if tag in _PLAIN_SCALARS:
            return self.yaml_constructors[tag](self, node)
        return self._deep(node)

    def _positioned_map(self, node: yaml.MappingNode, build: Callable[[yaml.Node], Any], *,
                        flatten: bool) -> YamlMap:
        """The map with its positions; `build` makes each key and value (generic or direct)."""
        result = YamlMap()
        result.position = _mark(node)
        if node.flow_style and any(isinstance(key, yaml.MappingNode) and key.flow_style
                                   for key, _value in node.value):
            # `message: {{ x }}` unquoted: YAML reads a map whose key is a map
            raise _UnquotedTemplate(result.position, _source_line(node.start_mark))
        if flatten:
            self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = build(key_node)
            if not isinstance(key, str):
                key = "true" if key is True else "false" if key is False else str(key)
            if key in result:
                raise _DuplicateKey(key, _mark(key_node))
            result[key] = build(value_node)
            result.key_positions[key] = _mark(key_node)
            result.value_positions[key] = _mark(value_node)
        return result

    def _positioned_list(self, node: yaml.SequenceNode, build: Callable[[yaml.Node], Any]) -> YamlList:
        result = YamlList()
        result.position = _mark(node)
        for item in node.value:
            result.append(build(item))
            result.item_positions.append(_mark(item))
        return result


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_SCALARS = frozenset(("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                            "tag:yaml.org,2002:null"))


_PositionConstructor.add_constructor(
    "tag:yaml.org,2002:int", _PositionConstructor.construct_yaml_int  # type: ignore[type-var]
)
_PositionConstructor.add_constructor(
    "tag:yaml.org,2002:map", _PositionConstructor.construct_positioned_map  # type: ignore[type-var]
)
_PositionConstructor.add_constructor(
    "tag:yaml.org,2002:seq", _PositionConstructor.construct_positioned_list  # type: ignore[type-var]
)


class _PositionLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _PositionConstructor,
    _Resolver,
):
    """The pure-Python loader: used where libyaml is missing, and to give every error its
    exact message and position (libyaml words some errors differently)."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _PositionConstructor.__init__(self)
        _Resolver.__init__(self)
        self._aliases: list[tuple[yaml.Mark, str, yaml.Node | None]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self._aliases.append((event.start_mark, event.anchor, self.anchors.get(event.anchor)))
        return super().compose_node(parent, index)  # type: ignore[no-any-return, return-value]

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        if self._aliases:
            self._refuse_alias_bombs(node)
        return self.construct_document(node)

    def _refuse_alias_bombs(self, root: yaml.Node) -> None:
        """Count the values the document stands for with its aliases expanded; refuse past
        MAX_EXPANDED_NODES, naming the alias that stands for the most of them."""
        sizes: dict[int, int] = {}
        total = _expanded_size(root, sizes)
        if total <= MAX_EXPANDED_NODES:
            return
        mark, anchor, node = max(self._aliases, key=lambda a: sizes.get(id(a[2]), 0))
        raise _AliasBomb(anchor, Position(mark.line + 1, mark.column + 1), sizes.get(id(node), 0))


try:
    from yaml._yaml import CParser as _CParser
    LIBYAML = True
except ImportError:  # PyYAML built without libyaml: the pure-Python loader does it all
    LIBYAML = False

_FALLBACK = object()
"""What `_load_with_libyaml` answers when the pure-Python loader must load (or refuse) the text."""


def _load_with_libyaml(text: str) -> Any:
    """libyaml's parser and composer (15x faster than PyYAML's) with the same constructor and
    resolver, so values and positions are the same. Anything it refuses or trips on, text
    with a character the pure reader refuses, and a document whose aliases expand past the
    bound all go back to the pure-Python loader, which gives each error its usual message."""
    if not LIBYAML or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return _FALLBACK
    loader = _CLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:  # maybe aliases: the generic constructor shares their values
            if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
                return _FALLBACK
            return loader.construct_document(node)
        return loader.construct_plain(node)
    except Exception:  # noqa: BLE001 - every error is reported by the pure-Python loader
        return _FALLBACK
    finally:
        loader.dispose()


if LIBYAML:
    class _CLoader(_CParser, _PositionConstructor, _Resolver):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _PositionConstructor.__init__(self)
            _Resolver.__init__(self)


def _source_line(mark: yaml.Mark) -> str:
    """The line of the source `mark` points into (empty when the parser kept no buffer)."""
    buffer = getattr(mark, "buffer", None)
    if not isinstance(buffer, str):
        return ""
    start = buffer.rfind("\n", 0, mark.pointer) + 1
    end = buffer.find("\n", mark.pointer)
    return buffer[start:end if end >= 0 else len(buffer)].rstrip("\0")


def _expanded_size(root: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes `root` stands for with every alias expanded; memoised per node (aliases
    share their node), iterative (deep documents), and a node inside itself counts once (the
    constructor refuses such recursive aliases with its own message)."""
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    visiting: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            visiting.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in children)
            continue
        visiting.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes and id(c) not in visiting)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(text: str, path: str) -> Any:
    """Parse YAML text; syntax errors become an InvalidFlowError at the offending line."""
    data = _load_with_libyaml(text)
    if data is not _FALLBACK:
        return data
    try:
        loader = _PositionLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character (NUL, ESC...) in the text
        raise InvalidFlowError([_reader_error(path, text, exc)]) from None
    try:
        return loader.get_single_data()
    except _AliasBomb as bomb:
        raise InvalidFlowError([FlowError(
            path, bomb.position.line, bomb.position.column,
            f"YAML aliases expand this document to more than {MAX_EXPANDED_NODES:,} values "
            f"(the alias *{bomb.alias} here stands for {bomb.stands_for:,} of them): "
            "refused as an alias bomb; repeat fewer nested anchors, or write the values out")]) from None
    except _HugeInteger as huge:
        raise InvalidFlowError([FlowError(
            path, huge.position.line, huge.position.column,
            f"this integer has {huge.digits:,} digits, over the {MAX_INTEGER_DIGITS:,} a number may have: "
            "quote it to keep it as text")]) from None
    except _UnquotedTemplate as unquoted:
        raise InvalidFlowError([FlowError(
            path, unquoted.position.line, unquoted.position.column,
            template_hint(unquoted.line) or "a value that starts with '{{' must be quoted")]) from None
    except _DuplicateKey as dup:
        raise InvalidFlowError(
            [FlowError(path, dup.position.line, dup.position.column,
                       f"duplicate key '{dup.key}': each key may appear once in a mapping")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise InvalidFlowError(
            [FlowError(path, line, column, f"YAML syntax error: {explain(exc, text) or _syntax_problem(exc)}")]
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidFlowError([FlowError(path, 1, 1, f"YAML error: {exc}")]) from None
    except RecursionError:
        raise InvalidFlowError(
            [FlowError(path, 1, 1, "YAML is nested too deeply to load")]
        ) from None
    finally:
        loader.dispose()


def _reader_error(path: str, text: str, exc: yaml.reader.ReaderError) -> FlowError:
    before = text[:exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return FlowError(path, line, column,
                     f"YAML syntax error: the control character U+{code:04X} is not allowed in YAML")


def _syntax_problem(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem and context as one sentence, with a hint for the usual mistakes."""
    problem = exc.problem or exc.context or "invalid YAML"
    if problem.startswith("but ") and exc.context:  # "expected X" + "but found Y"
        return f"{exc.context}, {problem}"
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].replace("tag:yaml.org,2002:", "!!")
        return f"the tag {tag} is not supported: a flow is plain YAML (maps, lists, text, numbers)"
    if "recursive node" in problem:
        return "an alias (*name) is used inside the very node its anchor (&name) marks"
    text = problem + (f" ({exc.context})" if exc.context and exc.problem else "")
    start, end = exc.context_mark, exc.problem_mark
    if start is not None and end is not None and exc.problem and start.line != end.line:
        text += f"; it starts at line {start.line + 1}, column {start.column + 1}"
    if "'\\t'" in problem:
        text += "; indent with spaces, YAML does not allow tabs there"
    return text
