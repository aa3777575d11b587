"""Voice directions (script.markup) in a speech text, checked where the text is read: a bad
tag is a problem at its own line and column in the file, block scalars included."""

from __future__ import annotations

from yaml.nodes import Node, ScalarNode

from bulletin.script.loading.context import Context
from bulletin.script.markup import MarkupError, elements, parse, written
from bulletin.script.model import Direction
from bulletin.script.scalarplace import value_position


def read_directions(ctx: Context, node: Node, text: str, where: str) -> tuple[Direction, ...] | None:
    """The elements of `text` (read from `node`) with their places; None, with the problem
    reported at the bad tag, when the markup is bad."""
    if "<" not in text and "&" not in text:
        return ()
    lead = len(node.value) - len(node.value.lstrip()) if isinstance(node, ScalarNode) else 0

    def place(offset: int) -> tuple[int, int]:
        if not isinstance(node, ScalarNode):
            return node.start_mark.line + 1, node.start_mark.column + 1
        return value_position(node, lead + offset)

    try:
        found = elements(parse(text))
    except MarkupError as error:
        ctx.r.problem_at(*place(error.offset), where, error.message)
        return None
    if found and not any(c.isalnum() for c in written(text)):
        ctx.r.problem(node, where, "has no words, only markup; for a silence use a `pause:` segment")
        return None
    return tuple(Direction(e.name, *place(e.offset), e.get("ph")) for e in found)
