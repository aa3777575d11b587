"""The tree script.markup parses a speech text into, and its error."""

from __future__ import annotations

from dataclasses import dataclass


class MarkupError(ValueError):
    """Bad markup at `offset` (0-based, in the text given to `parse`)."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class Element:
    """One element: its name, attributes as written (in order), children (text and elements)
    and the offset of its `<` in the text."""

    name: str
    attributes: tuple[tuple[str, str], ...]
    children: tuple[Node, ...]
    offset: int

    def get(self, name: str, default: str = "") -> str:
        return dict(self.attributes).get(name, default)

    @property
    def content(self) -> str:
        """The text inside, markup removed."""
        return "".join(child if isinstance(child, str) else child.content for child in self.children)


Node = str | Element
