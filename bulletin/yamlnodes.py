"""Safe, positioned YAML: compose nodes (never construct objects) and read them with problems
collected per node, so every error names its file, line and column.

Shared by the story, voice-preset and jobs-file loaders.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterator
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bulletin.errors import InputError, Problem

MAX_FILE_BYTES = 1_000_000
# Visiting more nodes than this means aliases expand far past anything a 1 MB file could
# hold on its own: refuse instead of expanding (the "billion laughs" attack).
MAX_NODE_VISITS = 200_000

_PLAIN_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


def compose_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Node | None:
    """The root node of a YAML file; InputError (positioned) for anything unreadable or unsafe."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError([Problem(name, 1, 1, "file", f"cannot read: {error.strerror}")]) from None
    if len(raw) > max_bytes:
        raise InputError(
            [Problem(name, 1, 1, "file", f"is {len(raw):,} bytes; the limit is {max_bytes:,}")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError([Problem(name, line, 1, "file", "is not UTF-8 text")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(filter(None, [error.context, error.problem]))
        raise InputError([Problem(name, line, column, "YAML", what)]) from None
    except yaml.YAMLError as error:
        raise InputError([Problem(name, 1, 1, "YAML", str(error).splitlines()[0])]) from None
    except RecursionError:
        raise InputError([Problem(name, 1, 1, "YAML", "nested too deeply")]) from None
    if root is not None:
        _check_tags(name, root)
    return root


def _check_tags(name: str, root: Node) -> None:
    """Refuse tags that would build objects (`!!python/object`, custom `!tags`)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            mark = node.start_mark
            raise InputError(
                [Problem(name, mark.line + 1, mark.column + 1, "YAML", f"tag {node.tag!r} is not allowed")]
            )
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack += [key, value]
        elif isinstance(node, SequenceNode):
            stack += node.value


class Reader:
    """Reads composed nodes into plain values, collecting problems instead of stopping at the
    first, and counting node visits to refuse alias bombs."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._visits = 0

    def problem(self, node: Node | None, where: str, what: str) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        self.problems.append(Problem(self.file, line, column, where, what))

    def visit(self, node: Node) -> None:
        self._visits += 1
        if self._visits > MAX_NODE_VISITS:
            self.problem(node, "YAML", "aliases expand past the size limit")
            raise InputError(self.problems)

    def raise_if_problems(self) -> None:
        if self.problems:
            raise InputError(self.problems)

    # -- containers -------------------------------------------------------------------------

    def mapping(
        self, node: Node, where: str, known: tuple[str, ...] | None = None
    ) -> dict[str, tuple[Node, Node]] | None:
        """{key: (key node, value node)}; reports non-mappings, duplicate and unknown keys."""
        self.visit(node)
        if not isinstance(node, MappingNode):
            self.problem(node, where, f"must be a mapping (key: value), not {_kind(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            self.visit(key_node)
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, where, "keys must be plain words")
                continue
            key = key_node.value
            if key in out:
                self.problem(key_node, f"{where}.{key}" if where else key, "is given twice")
                continue
            if known is not None and key not in known:
                self.problem(key_node, f"{where}.{key}" if where else key, "unknown key" + suggest(key, known))
                continue
            out[key] = (key_node, value_node)
        return out

    def sequence(self, node: Node, where: str) -> list[Node] | None:
        self.visit(node)
        if not isinstance(node, SequenceNode):
            self.problem(node, where, f"must be a list, not {_kind(node)}")
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
            self.problem(node, where, f"must be text, not {_kind(node)}")
            return None
        value = node.value.strip()
        if not value:
            self.problem(node, where, "must not be empty")
            return None
        if max_chars is not None and len(value) > max_chars:
            self.problem(node, where, f"is {len(value):,} characters; the limit is {max_chars:,}")
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
            self.problem(node, where, f"{value:g} is out of range: {bound} and at most {high:g}")
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
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.problem(node, where, f"{value!r} is not a date like 2019-11-22")
            return None


def suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    """'; did you mean 'kim'?' for a near miss, else ''."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _scalar_number(node: Node) -> float | None:
    if not isinstance(node, ScalarNode) or not node.tag.endswith((":int", ":float")):
        return None
    try:
        value = float(node.value.replace("_", ""))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "nothing" if node.tag.endswith(":null") else repr(node.value)


def _describe(node: Node) -> str:
    return _kind(node) if not isinstance(node, ScalarNode) else repr(node.value)
