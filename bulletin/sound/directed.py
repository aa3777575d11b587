"""A speech text with voice directions (script.markup) cut into the sentences (and clauses)
that are voiced and cached apart, each as canonical markup: the key of a sentence is then
exactly the markup that changes its sound, so editing a break re-makes that sentence only.

The text is cut where its plain form would be (sentences.split_sentences and split_clauses):
elements said whole (say-as, sub, phoneme) stand in as one character and are never cut; an
emphasis or prosody that spans a cut is opened again in the next piece. A break at a cut is
no part of either piece: it lengthens the pause between them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bulletin.script.directions import Leaf, leaves, pause_seconds, rebuild
from bulletin.script.ipa import normal_ipa
from bulletin.script.markup import Element, Node, escape, parse, serialize

# stands for a say-as, sub or phoneme in the text the sentence splitter reads
_WHOLE = "\ue000"


def directed_pieces(text: str, split: Callable[[str], list[tuple[str, bool]]],
                    pause: Callable[[bool], float]) -> tuple[list[str], list[float]]:
    """The pieces of marked-up `text` (canonical markup, or plain text where a piece has none),
    and the silence before each piece but the first: `pause(starts a sentence)` plus the
    breaks at the cut.

    `split(plain)` gives the pieces of a plain text and whether each starts a new sentence."""
    items = leaves(parse(text))
    plain = "".join(leaf if isinstance(leaf, str) else "" if leaf.name == "break" else _WHOLE
                    for leaf, _ in items)
    parts = split(plain)
    groups = _cut(items, [len("".join(piece.split())) for piece, _ in parts])
    pieces: list[str] = []
    gaps: list[float] = []
    carried, starts = 0.0, False
    for group, (_, new_sentence) in zip(groups, parts or [("", True)], strict=True):
        starts = starts or new_sentence
        before, body, after = _strip_breaks(group)
        if not body:
            carried += before + after
            continue
        if pieces:
            gaps.append(pause(starts) + carried + before)
        pieces.append(_as_text(rebuild(body)))
        carried, starts = after, False
    return pieces, gaps


def _cut(items: list[Leaf], sizes: list[int]) -> list[list[Leaf]]:
    """`items` in groups of `sizes` non-space characters each (a whole element counts one);
    a break goes with the group being filled, the last group takes what is left."""
    groups: list[list[Leaf]] = [[] for _ in sizes] or [[]]
    index, left = 0, sizes[0] if sizes else 0

    def next_group_if_full() -> None:
        nonlocal index, left
        while left <= 0 and index + 1 < len(groups):
            index, left = index + 1, sizes[index + 1]

    for leaf, around in items:
        if isinstance(leaf, Element):
            if leaf.name != "break":
                next_group_if_full()
                left -= 1
            groups[index].append((leaf, around))
            continue
        rest = leaf
        while rest.strip():
            next_group_if_full()
            at = _after_chars(rest, left) if index + 1 < len(groups) else len(rest)
            groups[index].append((rest[:at], around))
            left -= len("".join(rest[:at].split()))
            rest = rest[at:]
        if rest:
            groups[index].append((rest, around))
    return groups


def _after_chars(text: str, count: int) -> int:
    """The index in `text` just after its `count`-th non-space character (or its end)."""
    seen = 0
    for i, char in enumerate(text):
        if not char.isspace():
            seen += 1
            if seen == count:
                return i + 1
    return len(text)


def _strip_breaks(group: list[Leaf]) -> tuple[float, list[Leaf], float]:
    """(seconds of breaks before the first word, the group without them and the blank text at
    its ends, seconds of breaks after the last word)."""
    def spoken(leaf: Node) -> bool:
        return leaf.strip() != "" if isinstance(leaf, str) else leaf.name != "break"

    said = [i for i, (leaf, _) in enumerate(group) if spoken(leaf)]
    if not said:
        return sum(pause_seconds(x) for x, _ in group if isinstance(x, Element)), [], 0.0
    first, last = said[0], said[-1]
    before = sum(pause_seconds(x) for x, _ in group[:first] if isinstance(x, Element))
    after = sum(pause_seconds(x) for x, _ in group[last + 1:] if isinstance(x, Element))
    body = [(re.sub(r"\s+", " ", x) if isinstance(x, str) else x, around) for x, around in group[first:last + 1]]
    if isinstance(body[0][0], str):
        body[0] = (body[0][0].lstrip(), body[0][1])
    if isinstance(body[-1][0], str):
        body[-1] = (body[-1][0].rstrip(), body[-1][1])
    return before, body, after


def _as_text(nodes: tuple[Node, ...]) -> str:
    """A piece as an engine takes it: plain text where it has no element and reads back as
    itself, else canonical markup."""
    if all(isinstance(node, str) for node in nodes):
        plain = "".join(nodes)  # type: ignore[arg-type]
        try:
            if parse(plain) == (plain,) or not plain:
                return plain
        except ValueError:
            pass
        return escape(plain)
    return serialize(nodes)


def direct(text: str, respell: Callable[[str], str], ipa: dict[str, str]) -> str:
    """Marked-up `text` with the story's respellings applied to its words (not its tags) and
    words with an IPA pronunciation wrapped in `<phoneme>`; canonical markup."""
    return serialize(_directed(parse(text), respell, ipa))


def _directed(nodes: tuple[Node, ...], respell: Callable[[str], str], ipa: dict[str, str]) -> tuple[Node, ...]:
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, str):
            out += _wrap(respell(node), ipa)
        elif node.name in ("emphasis", "prosody"):
            out.append(Element(node.name, node.attributes, _directed(node.children, respell, ipa), node.offset))
        else:
            out.append(node)  # said as its markup says: the producer's direction wins
    return tuple(out)


def _wrap(text: str, ipa: dict[str, str]) -> list[Node]:
    """`text` with each whole word that has an IPA pronunciation as a `<phoneme>` element."""
    if not ipa:
        return [text]
    words = sorted(ipa, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])")
    out: list[Node] = []
    start = 0
    for match in pattern.finditer(text):
        out.append(text[start:match.start()])
        word = match.group(1)
        out.append(Element("phoneme", (("alphabet", "ipa"), ("ph", normal_ipa(ipa[word]))), (word,), 0))
        start = match.end()
    out.append(text[start:])
    return [piece for piece in out if piece != ""]
