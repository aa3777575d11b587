"""Voice directions inside a speech text: a strict parser of the SSML 1.1 subset the format
takes (`<break>`, `<say-as>`, `<sub>`, `<phoneme>`, `<emphasis>`, `<prosody>`), giving a
tree whose elements know their offset in the text, so an error names the tag's place.

The names and values are SSML 1.1's (https://www.w3.org/TR/speech-synthesis11/). The text is
not an XML document: there is no `<speak>` root, and a `<` or `&` that starts no tag or
entity ("a < b", "AT&T") is text, so a text without markup reads exactly as before. Entities
are XML's five and numeric references. Everything else that looks like markup and is not
the subset (an unknown element or attribute, a value out of range, a tag never closed,
nesting that makes no sense) is a MarkupError at the offset of its tag.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bulletin.script.markupspec import ELEMENTS, check_element, check_nesting, suggest_fix
from bulletin.script.markuptree import Element, MarkupError, Node

# a deeper nesting than this is no direction a producer means
MAX_DEPTH = 8
# elements in one text: a few per sentence is plenty
MAX_ELEMENTS = 500
MAX_ATTRIBUTE_CHARS = 200
MAX_NAME_CHARS = 32

_NAME = re.compile(r"[A-Za-z][\w:.-]*")
_ATTRIBUTE = re.compile(r"\s+([A-Za-z][\w:.-]*)\s*(?:=\s*(?:\"([^\"<]*)\"|'([^'<]*)'|([^\s\"'=<>/`]+)))?")
_TAG_END = re.compile(r"\s*(/?)>")
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z][A-Za-z0-9]{0,31}));")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def has_markup(text: str) -> bool:
    """Whether `text` holds any element or entity (a quick test before parsing)."""
    return ("<" in text or "&" in text) and parse(text) != (text,)


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple[Node, ...]:
    """`text` as a tree: strings (entities decoded) and Elements; MarkupError where it is bad."""
    return _Parser(text).run()


def elements(nodes: tuple[Node, ...]) -> list[Element]:
    """Every element of `nodes`, in text order."""
    out: list[Element] = []
    for node in nodes:
        if isinstance(node, Element):
            out += [node, *elements(node.children)]
    return out


def written(text: str) -> str:
    """What `text` shows in writing (captions, the cue sheet, chapters, transcripts): the
    markup removed; `<sub>` and `<phoneme>` show their content, not what is said. A text
    without markup is returned as it is."""
    if "<" not in text and "&" not in text:
        return text
    try:
        nodes = parse(text)
    except MarkupError:
        return text  # the loader refuses such a text; nothing else shows it
    if nodes == (text,):
        return text
    plain = "".join(n if isinstance(n, str) else n.content for n in nodes)
    return re.sub(r"[ \t]{2,}", " ", plain).strip()


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def serialize(nodes: tuple[Node, ...]) -> str:
    """The canonical markup of `nodes`: text escaped, attributes double-quoted."""
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(escape(node))
            continue
        attributes = "".join(f' {name}="{escape(value).replace(chr(34), "&quot;")}"' for name, value in node.attributes)
        if not node.children and ELEMENTS[node.name].empty:
            out.append(f"<{node.name}{attributes}/>")
        else:
            out.append(f"<{node.name}{attributes}>{serialize(node.children)}</{node.name}>")
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.count = 0

    def run(self) -> tuple[Node, ...]:
        children, closing = self.children(None, 0)
        if closing is not None:
            name, offset = closing
            raise MarkupError(offset, f"</{name}> closes no open element: remove it")
        return children

    def children(self, parent: Element | None, depth: int) -> tuple[tuple[Node, ...], tuple[str, int] | None]:
        """Nodes up to the end of the text or an end tag (returned as (name, offset))."""
        out: list[Node] = []
        text: list[str] = []
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "&":
                text.append(self.entity())
            elif char == "<" and self.at + 1 < len(self.text) and (self.text[self.at + 1].isalpha()
                                                                   or self.text[self.at + 1] in "/!?"):
                if text:
                    out.append("".join(text))
                    text = []
                node = self.tag(parent, depth)
                if isinstance(node, tuple):
                    return tuple(out), node
                out.append(node)
            else:
                text.append(char)
                self.at += 1
        if text:
            out.append("".join(text))
        return tuple(out), None

    def entity(self) -> str:
        match = _ENTITY.match(self.text, self.at)
        if match is None:
            self.at += 1
            return "&"  # a plain ampersand: AT&T
        number, hexa, name = match.groups()
        if name is not None and name.isupper():
            self.at += 1
            return "&"  # not an entity: R&D; in a sentence
        if name is not None and name not in _ENTITIES:
            raise MarkupError(self.at, f"unknown entity &{name};: write &amp; for '&', or one of "
                              "&amp; &lt; &gt; &quot; &apos;")
        code = int(number) if number else int(hexa, 16) if hexa else None
        if code is not None and (code > 0x10FFFF or not (chr(code).isprintable() or chr(code) in "\n\t")):
            raise MarkupError(self.at, f"{match.group(0)} is not a printable character")
        self.at = match.end()
        return chr(code) if code is not None else _ENTITIES[name]

    def tag(self, parent: Element | None, depth: int) -> Element | tuple[str, int]:
        start = self.at
        nxt = self.text[start + 1]
        if nxt in "!?":
            what = "comments (<!-- -->)" if self.text.startswith("<!--", start) else f"'<{nxt}' declarations"
            raise MarkupError(start, f"{what} are not taken in speech text: remove it")
        if nxt == "/":
            name = self.name(start + 2, start)
            end = _TAG_END.match(self.text, start + 2 + len(name))
            if end is None or end.group(1):
                raise MarkupError(start, f"</{name} is not closed with '>': write </{name}>")
            self.at = end.end()
            return name, start
        name = self.name(start + 1, start)
        self.at = start + 1 + len(name)
        attributes = self.attributes(name, start)
        end = _TAG_END.match(self.text, self.at)
        if end is None:
            raise MarkupError(start, f"<{name}> is not closed with '>'" + suggest_fix(name, attributes))
        self.at = end.end()
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise MarkupError(start, f"more than {MAX_ELEMENTS} elements in one text: split it into several segments")
        check_element(name, attributes, start, parent.name if parent else None)
        if end.group(1):
            element = Element(name, attributes, (), start)
        elif ELEMENTS[name].empty:
            close = re.compile(rf"\s*</{re.escape(name)}\s*>").match(self.text, self.at)
            if close is None:
                raise MarkupError(start, f"<{name}> takes no content and is not closed" + suggest_fix(name, attributes))
            self.at = close.end()
            element = Element(name, attributes, (), start)
        else:
            element = self.element_body(name, attributes, start, depth)
        check_nesting(element, parent.name if parent else None)
        return element

    def element_body(self, name: str, attributes: tuple[tuple[str, str], ...], start: int, depth: int) -> Element:
        if depth + 1 > MAX_DEPTH:
            raise MarkupError(start, f"markup nested more than {MAX_DEPTH} deep: close some elements")
        element = Element(name, attributes, (), start)
        children, closing = self.children(element, depth + 1)
        if closing is None:
            raise MarkupError(start, f"<{name}> is never closed: add </{name}> where it ends"
                              + suggest_fix(name, attributes))
        closed, at = closing
        if closed != name:
            raise MarkupError(at, f"</{closed}> does not close <{name}> (opened at character {start + 1}): "
                              f"close <{name}> first with </{name}>")
        return Element(name, attributes, children, start)

    def name(self, at: int, start: int) -> str:
        match = _NAME.match(self.text, at)
        if match is None:
            raise MarkupError(start, "'<' starts a tag: write &lt; for a '<' in the text")
        if len(match.group(0)) > MAX_NAME_CHARS:
            raise MarkupError(start, f"an element name longer than {MAX_NAME_CHARS} characters")
        return match.group(0)

    def attributes(self, name: str, start: int) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        while (match := _ATTRIBUTE.match(self.text, self.at)) is not None:
            key, double, single, bare = match.groups()
            value = double if double is not None else single if single is not None else bare
            where = match.start(1)
            if value is None:
                raise MarkupError(where, f"<{name}> attribute {key} has no value: write {key}=\"...\"")
            if bare is not None:
                raise MarkupError(where, f"<{name}> attribute {key}={bare}: put the value in quotes: {key}=\"{bare}\"")
            if len(value) > MAX_ATTRIBUTE_CHARS:
                raise MarkupError(where, f"<{name}> attribute {key} is {len(value):,} characters; "
                                  f"the limit is {MAX_ATTRIBUTE_CHARS}")
            if any(k == key for k, _ in out):
                raise MarkupError(where, f"<{name}> has attribute {key} twice: keep one")
            out.append((key, _Parser(value).plain(where)))
            self.at = match.end()
        return tuple(out)

    def plain(self, offset: int) -> str:
        """An attribute value with its entities decoded (errors placed at `offset`)."""
        try:
            nodes, _ = self.children(None, 0)
        except MarkupError as error:
            raise MarkupError(offset, error.message) from None
        return "".join(n for n in nodes if isinstance(n, str))
