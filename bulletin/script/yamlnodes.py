"""Safe, positioned YAML: compose nodes (never construct objects) and read them with problems
collected per node, so every error names its file, line and column.

Shared by the story, voice-preset and jobs-file loaders.
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bulletin.base.errors import InputError, Problem
from bulletin.script.yamlsyntax import compose

MAX_FILE_BYTES = 1_000_000
# Visiting more nodes than this means aliases expand far past anything a 1 MB file could
# hold on its own: refuse instead of expanding (the "billion laughs" attack).
MAX_NODE_VISITS = 200_000
# Past this many problems the rest are usually one mistake repeated; stop and show these.
MAX_PROBLEMS = 100

_MERGE_TAG = "tag:yaml.org,2002:merge"


def compose_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Node | None:
    """The root node of a YAML file; InputError (positioned) for anything unreadable or unsafe."""
    name = str(path)
    try:
        with open(path, "rb") as stream:
            # read one byte past the limit, never a whole huge file, to tell "too big"
            raw = stream.read(max_bytes + 1)
            size = os.fstat(stream.fileno()).st_size if len(raw) > max_bytes else len(raw)
    except OSError as error:
        raise InputError([Problem(name, 1, 1, "file", f"cannot read: {error.strerror or error}")]) from None
    if len(raw) > max_bytes:
        raise InputError(
            [Problem(name, 1, 1, "file", f"is {max(size, len(raw)):,} bytes; the limit is {max_bytes:,}: split it up")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise InputError(
            [Problem(name, line, column, "file", f"byte 0x{raw[error.start]:02x} is not UTF-8 text; save the file as UTF-8")]
        ) from None
    return compose(name, text)


class Reader:
    """Reads composed nodes into plain values, collecting problems instead of stopping at the
    first, and counting node visits to refuse alias bombs."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._visits = 0
        self._merging: set[int] = set()  # mappings being merged now, to refuse `&a {<<: *a}`

    def problem(self, node: Node | None, where: str, what: str) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        self.problems.append(Problem(self.file, line, column, where, what))
        if len(self.problems) >= MAX_PROBLEMS:
            note = Problem(self.file, line, column, "file", f"{MAX_PROBLEMS} problems so far; fix these and check again")
            raise InputError(self._in_order() + [note])

    def problem_at(self, line: int, column: int, where: str, what: str) -> None:
        """A problem at a place inside a node (a tag in a text), not at the node's start."""
        self.problems.append(Problem(self.file, line, column, where, what))
        if len(self.problems) >= MAX_PROBLEMS:
            raise InputError(self._in_order())

    def visit(self, node: Node) -> None:
        self._visits += 1
        if self._visits > MAX_NODE_VISITS:
            note = Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, "YAML",
                           "aliases repeat the data past the size limit; write it out instead")
            raise InputError(self._in_order() + [note])

    def raise_if_problems(self) -> None:
        if self.problems:
            raise InputError(self._in_order())

    def _in_order(self) -> list[Problem]:
        """In file order, the way an editor walks them, whatever order the loader checked in."""
        return sorted(self.problems, key=lambda p: (p.line, p.column))

    # -- containers -------------------------------------------------------------------------

    def mapping(
        self, node: Node, where: str, known: tuple[str, ...] | None = None
    ) -> dict[str, tuple[Node, Node]] | None:
        """{key: (key node, value node)}; reports non-mappings, duplicate and unknown keys.

        Merge keys (`<<: *defaults`) are followed; keys written here win over merged ones."""
        self.visit(node)
        if not isinstance(node, MappingNode):
            self.problem(node, where or "file", f"must be a mapping (key: value), not {describe_node(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            self.visit(key_node)
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, where or "file", "keys must be plain words, not a list or mapping")
                continue
            if key_node.tag == _MERGE_TAG:
                merges += value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                continue
            key = key_node.value
            here = f"{where}.{key}" if where else key
            if key in out:
                first = out[key][0].start_mark.line + 1
                self.problem(key_node, here, f"is given twice (first on line {first}); keep one")
                continue
            if known is not None and key not in known:
                hint = comma_split(node, key_node) or suggest(key, known) or f"; known keys: {', '.join(known)}"
                self.problem(key_node, here, "unknown key" + hint)
                continue
            out[key] = (key_node, value_node)
        for source in merges:
            if id(source) in self._merging:
                self.problem(source, where or "file", "a merge (<<) includes the mapping itself")
                continue
            self._merging.add(id(source))
            try:
                for key, pair in (self.mapping(source, where, known) or {}).items():
                    out.setdefault(key, pair)
            finally:
                self._merging.discard(id(source))
        return out

    def sequence(self, node: Node, where: str) -> list[Node] | None:
        self.visit(node)
        if not isinstance(node, SequenceNode):
            self.problem(node, where, f"must be a list (lines starting '- ', or [a, b]), not {describe_node(node)}")
            return None
        return list(node.value)

    def items(self, node: Node, where: str) -> Iterator[tuple[int, Node]]:
        for i, item in enumerate(self.sequence(node, where) or []):
            self.visit(item)
            yield i, item

    # -- scalars ----------------------------------------------------------------------------

    def text(self, node: Node, where: str, max_chars: int | None = None) -> str | None:
        """Any scalar as the text written (so `anchor: 1984` reads "1984"), stripped, non-empty."""
        self.visit(node)
        if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
            self.problem(node, where, f"must be text, not {describe_node(node)}{_text_hint(node)}")
            return None
        value = node.value.strip()
        if not value:
            self.problem(node, where, "must not be empty")
            return None
        if max_chars is not None and len(value) > max_chars:
            self.problem(node, where, f"is {len(value):,} characters; the limit is {max_chars:,}: split it into several segments")
            return None
        return value

    def number(
        self, node: Node, where: str, low: float, high: float, *, low_open: bool = False
    ) -> float | None:
        self.visit(node)
        value = _scalar_number(node)
        if value is None:
            self.problem(node, where, f"must be a number, not {_describe(node)}")
            return None
        too_low = value <= low if low_open else value < low
        if too_low or value > high:
            bound = f"more than {low:g}" if low_open else f"at least {low:g}"
            self.problem(node, where, f"{value:g} is out of range: use {bound} and at most {high:g}")
            return None
        return value

    def integer(self, node: Node, where: str, low: int, high: int) -> int | None:
        value = self.number(node, where, low, high)
        if value is not None and value != int(value):
            self.problem(node, where, f"must be a whole number, not {value:g}")
            return None
        return None if value is None else int(value)

    def choice(self, node: Node, where: str, options: tuple[str, ...]) -> str | None:
        value = self.text(node, where)
        if value is not None and value not in options:
            self.problem(node, where, f"{value!r} is not one of {', '.join(options)}" + suggest(value, options))
            return None
        return value

    def date(self, node: Node, where: str) -> datetime.date | None:
        value = self.text(node, where)
        if value is None:
            return None
        try:
            # YYYY-MM-DD only: Python also takes 20191122 and week dates, which YAML, the JSON
            # Schema and most readers would not see as dates
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.problem(node, where, f"{value!r} is not a date like 2019-11-22")
            return None


def comma_split(node: MappingNode, key_node: Node) -> str:
    """'; a comma inside {...} starts a new key: ...' when `key_node` has no ':' of its own and
    follows a plain value in a flow mapping (`{title: Spokesman, Ministry of Defense}`), else ''."""
    pairs = node.value if isinstance(node, MappingNode) and node.flow_style else []
    for i, (key, value) in enumerate(pairs):
        if key is not key_node:
            continue
        no_colon = value.tag.endswith(":null") and value.start_mark.index == key.end_mark.index
        if i == 0 or not no_colon:
            return ""
        before_key, before = pairs[i - 1]
        if not isinstance(before, ScalarNode) or before.style is not None or not isinstance(before_key, ScalarNode):
            return ""
        name = before_key.value
        return (f"; a comma inside {{...}} starts a new key: put the {name} in quotes "
                f"({name}: \"{before.value}, {key.value}\")")
    return ""


def suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    """'; did you mean 'kim'?' for a near miss, else ''."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


_NUMBERS = SafeConstructor()


def _scalar_number(node: Node) -> float | None:
    """A scalar YAML reads as a number (so `0x10` and `1_000` count), else None."""
    if not isinstance(node, ScalarNode):
        return None
    try:
        if node.tag.endswith(":int"):
            value = float(_NUMBERS.construct_yaml_int(node))
        elif node.tag.endswith(":float"):
            value = float(_NUMBERS.construct_yaml_float(node))
        else:
            return None
    except (ValueError, OverflowError):  # an explicit `!!int abc`, or an int too big for a float
        return None
    return value if value == value and abs(value) != float("inf") else None


def _text_hint(node: Node) -> str:
    """How text usually turns into something else in YAML, and the fix."""
    if isinstance(node, MappingNode):
        return "; put text that contains ': ' in quotes"
    if isinstance(node, SequenceNode):
        return "; put text that starts with '[' or '- ' in quotes"
    return "; write the text after the ':'"


def describe_node(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "nothing" if node.tag.endswith(":null") else repr(node.value)


def _describe(node: Node) -> str:
    return describe_node(node) if not isinstance(node, ScalarNode) else repr(node.value)
