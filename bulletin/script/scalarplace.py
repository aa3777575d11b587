"""Where a character of a YAML scalar's value is in its file: the line and column of an offset
into `node.value`, for errors inside a text (a tag of its markup).

YAML only changes whitespace between the file and the value of a plain or block scalar
(folding lines, dropping indentation), so the value's other characters are found in the
source in order: exact for plain and literal (`|`) scalars, and for folded (`>`) ones. Quoted
scalars add escapes (`\\"`, `''`, `\\u00e9`); a character that is not found near the place
expected keeps the position reached so far (the error lands at most an escape away).
"""

from __future__ import annotations

from yaml.nodes import ScalarNode

# how far ahead a value's character is looked for in the source (past indentation, escapes)
_WINDOW = 64


def value_position(node: ScalarNode, offset: int) -> tuple[int, int]:
    """(1-based line, 1-based column) in the file of `node.value[offset]`."""
    start, end = node.start_mark, node.end_mark
    buffer = getattr(start, "buffer", None)
    if not buffer or end is None:
        return start.line + 1, start.column + 1
    source = buffer[start.index:end.index]
    at = _content_start(source, node.style)
    for char in node.value[:offset + 1]:
        if char.isspace():
            continue
        found = source.find(char, at, at + _WINDOW)
        if found >= 0:
            at = found + 1
    index = start.index + max(at - 1, 0)
    if offset < len(node.value) and node.value[offset].isspace():
        index = start.index + at
    line = start.line + buffer.count("\n", start.index, index)
    column = index - (buffer.rfind("\n", 0, index) + 1)
    return line + 1, column + 1


def _content_start(source: str, style: str | None) -> int:
    """Where the value begins in its source: after a block scalar's header line, or a quote."""
    if style in ("|", ">"):
        newline = source.find("\n")
        return newline + 1 if newline >= 0 else len(source)
    return 1 if style in ("'", '"') else 0
