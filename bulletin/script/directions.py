"""A marked-up speech text as the voices take it: a spoken plan of runs (words, IPA, pauses)
each with its pace and emphasis; and the text as leaves (for cutting it into sentences).

The plan is what an engine receives for one sentence; the written form (markup.written) is
what captions show. `<say-as>` and `<sub>` become the words said, `<phoneme>` its IPA.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulletin.script.ipa import normal_ipa
from bulletin.script.markup import Element, Node, parse
from bulletin.script.markupspec import BREAK_STRENGTHS, ELEMENTS, break_seconds, prosody_rate
from bulletin.script.sayas import say_as

# SSML's default for a break without attributes
DEFAULT_BREAK = "medium"


@dataclass(frozen=True)
class Run:
    """One piece of a spoken plan: `kind` "words" (value: text to read), "ipa" (value: IPA in
    the normal form of script.ipa) or "pause" (seconds); `rate` a factor of the pace."""

    kind: str
    value: str = ""
    seconds: float = 0.0
    rate: float = 1.0
    emphasis: str = "none"
    written: str = ""  # the words as written (a sub's or say-as's text, a phoneme's words)


def spoken_plan(text: str) -> list[Run]:
    """The runs of a marked-up text, in order."""
    out: list[Run] = []
    _walk(parse(text), 1.0, "none", out)
    return out


def breaks_s(text: str) -> float:
    """The seconds of silence the breaks of `text` add (0 for a text without markup): those
    between its words; a break before the first word or after the last adds nothing."""
    if "<" not in text:
        return 0.0
    runs = spoken_plan(text)
    said = [i for i, run in enumerate(runs) if run.kind != "pause" and run.value.strip()]
    return sum((run.seconds for run in runs[said[0]:said[-1]] if run.kind == "pause"), 0.0) if said else 0.0


def _walk(nodes: tuple[Node, ...], rate: float, emphasis: str, out: list[Run]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(Run("words", node, rate=rate, emphasis=emphasis, written=node))
        elif node.name == "break":
            out.append(Run("pause", seconds=pause_seconds(node)))
        elif node.name == "say-as":
            out.append(Run("words", say_as(node, node.offset), rate=rate, emphasis=emphasis, written=node.content))
        elif node.name == "sub":
            out.append(Run("words", node.get("alias"), rate=rate, emphasis=emphasis, written=node.content))
        elif node.name == "phoneme":
            out.append(Run("ipa", normal_ipa(node.get("ph")), rate=rate, emphasis=emphasis, written=node.content))
        elif node.name == "emphasis":
            _walk(node.children, rate, node.get("level", "moderate"), out)
        else:  # prosody
            _walk(node.children, rate * prosody_rate(node.get("rate")), emphasis, out)


def pause_seconds(element: Element) -> float:
    """A break's length: its time, else its strength's."""
    if element.get("time"):
        return break_seconds(element.get("time"))
    return BREAK_STRENGTHS[element.get("strength", DEFAULT_BREAK)]


Leaf = tuple[Node, tuple[Element, ...]]  # a text or an element said whole, and the elements around it


def leaves(nodes: tuple[Node, ...], around: tuple[Element, ...] = ()) -> list[Leaf]:
    """The text and the whole-said elements (break, say-as, sub, phoneme) of `nodes`, in order,
    each with the elements (emphasis, prosody) it is inside."""
    out: list[Leaf] = []
    for node in nodes:
        if isinstance(node, str) or ELEMENTS[node.name].empty or ELEMENTS[node.name].text_only:
            out.append((node, around))
        else:
            out += leaves(node.children, (*around, node))
    return out


def rebuild(items: list[Leaf]) -> tuple[Node, ...]:
    """Leaves back into a tree, each element around them opened once for a stretch of leaves."""
    root: list[object] = []
    stack: list[tuple[Element | None, list[object]]] = [(None, root)]
    for leaf, around in items:
        depth = 0
        while depth < len(around) and depth + 1 < len(stack) and stack[depth + 1][0] is around[depth]:
            depth += 1
        del stack[depth + 1:]
        for element in around[depth:]:
            kids: list[object] = []
            stack[-1][1].append((element, kids))
            stack.append((element, kids))
        stack[-1][1].append(leaf)
    return _tree(root)


def _tree(items: list[object]) -> tuple[Node, ...]:
    out: list[Node] = []
    for item in items:
        if isinstance(item, tuple):
            element, kids = item
            out.append(Element(element.name, element.attributes, _tree(kids), element.offset))
        else:
            out.append(item)  # type: ignore[arg-type]
    return tuple(out)
