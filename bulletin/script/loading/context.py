"""What the readers of one story file share: its Reader, the names defined so far, running
counts, and the small checks every part of the format makes."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from bulletin.script.model import ID_PATTERN, Member, Sound
from bulletin.script.yamlnodes import Reader, comma_split, suggest

ID = re.compile(ID_PATTERN)

# {key: (key node, value node)}, as Reader.mapping returns it
Pairs = dict[str, tuple[Node, Node]]


@dataclass
class Context:
    path: Path
    r: Reader
    roots: list[Path]  # folders a sound file must resolve inside: the story's, then --assets
    cast: dict[str, Member] = field(default_factory=dict)
    stings: dict[str, Sound] = field(default_factory=dict)
    # names given but invalid: their own problem is reported once, not at every use
    broken_cast: set[str] = field(default_factory=set)
    broken_stings: set[str] = field(default_factory=set)
    ids: dict[str, int] = field(default_factory=dict)  # segment id -> line it was first given on
    count: int = 0  # segments read so far
    text_chars: int = 0  # speech and caption characters so far
    durations: dict[Path, float] = field(default_factory=dict)  # audio file -> seconds, from its header
    phonemes: dict[str, str] = field(default_factory=dict)  # pronounce: word -> IPA

    def required(self, node: Node, key: str, where: str, what: str, known: tuple[str, ...]) -> None:
        """Report a missing key, unless a misspelling of it is there (reported as unknown)."""
        if not misspelt(node, key, known):
            self.r.problem(node, where, f"is required: add `{key}:` with {what}")

    def only(self, node: Node, m: Pairs, allowed: tuple[str, ...], where: str, why: str = "unknown key here") -> None:
        """Report every key of mapping `node` (read as `m`) that is not `allowed`."""
        for key, (key_node, _) in m.items():
            if key not in allowed:
                hint = comma_split(node, key_node) or suggest(key, allowed) or f"; allowed: {', '.join(allowed)}"
                self.r.problem(key_node, f"{where}.{key}", why + hint)


def misspelt(node: Node, key: str, known: tuple[str, ...]) -> bool:
    """Whether mapping `node` holds an unknown key that is a near miss for `key` (the reader
    reports that key, with the suggestion, itself)."""
    if not isinstance(node, MappingNode):
        return False
    written = [k.value for k, _ in node.value if isinstance(k, ScalarNode) and k.value not in known]
    return bool(difflib.get_close_matches(key, written, n=1, cutoff=0.6))


def as_id(name: str) -> str:
    """A valid id close to `name`, for suggestions."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-").lower() or "speaker"
