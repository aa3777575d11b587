"""Edits to a story file that keep everything else as written: comments, key order, quoting,
folding, and every line the edit does not touch, byte for byte.

ruamel.yaml's round trip does the edit. Its indentation and line width are set to what the file
itself uses (the first of a few layouts that reproduce the file exactly). Where no layout does
(a plain scalar folded over lines, say, which ruamel joins), the lines ruamel would rewrite but
the edit does not touch are taken from the file as it was: see `_merge`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import FoldedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from bulletin.base.errors import InputError

# A line width past any line in a story: ruamel re-wraps plain scalars at its width otherwise.
NO_WRAP = 1_000_000
# Where a folded text has no folds to measure, fold it at this many characters (our examples').
FOLD_CHARS = 88


@dataclass(frozen=True)
class Edits:
    """What the page changed: segment texts by segment number, voices by cast member id."""

    texts: dict[int, str] = field(default_factory=dict)
    voices: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.texts or self.voices)


def apply_edits(source: str, edits: Edits) -> str:
    """The story text with `edits` applied and nothing else changed. Segment numbers count
    segments in file order across stories, as the loader numbers them."""
    if not edits:
        return source
    yaml, doc = _load(source)
    if not isinstance(doc, CommentedMap):
        raise InputError("the story is not a mapping, so it cannot be edited here")
    for index, text in edits.texts.items():
        _set_text(_segment(doc, index), index, text)
    for member_id, voice in edits.voices.items():
        _set_voice(doc, member_id, voice)
    return _merge(source, round_trip(source), _dump(yaml, doc))


def round_trip(source: str) -> str:
    """The story as ruamel.yaml writes it back unedited: `source` itself for our files."""
    yaml, doc = _load(source)
    return _dump(yaml, doc)


def segment_lines(source: str) -> dict[int, int]:
    """The 1-based line each segment starts on, by segment number (to place errors)."""
    _, doc = _load(source)
    return {index: item.lc.line + 1 for index, item in _segments(doc) if hasattr(item, "lc")}


def _load(source: str) -> tuple[YAML, object]:
    """A round-trip loader and dumper laid out like `source`, and the document."""
    _, sequence, offset = load_yaml_guess_indent(source)
    layouts = [(2, sequence or 2, offset or 0), (2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 4, 0), (4, 6, 4)]
    best: tuple[int, YAML, object] | None = None
    for mapping, seq, off in dict.fromkeys(layouts):
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = NO_WRAP
        yaml.indent(mapping=mapping, sequence=seq, offset=off)
        doc = yaml.load(source)
        changed = _changed_lines(source, _dump(yaml, doc))
        if changed == 0:
            return yaml, doc
        if best is None or changed < best[0]:
            best = (changed, yaml, doc)
    assert best is not None
    return best[1], best[2]


def _changed_lines(a: str, b: str) -> int:
    if a == b:
        return 0
    ops = SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def _dump(yaml: YAML, doc: object) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _segments(doc: object) -> Iterator[tuple[int, object]]:
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("stories"), list):
        lists = [part.get("segments") for part in doc["stories"] if isinstance(part, dict)]
    else:
        lists = [doc.get("segments")]
    index = 0
    for segments in lists:
        for item in segments if isinstance(segments, list) else []:
            index += 1
            yield index, item


def _segment(doc: CommentedMap, index: int) -> CommentedMap:
    for number, item in _segments(doc):
        if number == index and isinstance(item, CommentedMap):
            return item
    raise InputError(f"segment {index}: no such segment in the story file")


def _set_text(item: CommentedMap, index: int, text: str) -> None:
    """Replace a speech segment's text, in the style it was written in."""
    if "speaker" in item:
        key = "text"
    else:
        keys = [k for k in item if k not in ("voice", "rate", "effect", "gap", "id")]
        if len(keys) != 1 or "pause" in item or "sting" in item or "clip" in item:
            raise InputError(f"segment {index}: only a speech segment's text can be edited")
        key = keys[0]
    old = item.get(key)
    if old == text:
        return
    item[key] = _styled_like(old, text)


def _styled_like(old: object, text: str) -> object:
    """`text` as a scalar of `old`'s style: folded text is folded at the width it was."""
    if isinstance(old, FoldedScalarString):
        new = FoldedScalarString(text)
        new.fold_pos = _fold_positions(text, _fold_width(old))  # type: ignore[attr-defined]
        return new
    if type(old) is not str and isinstance(old, str):  # literal or quoted: same class
        return type(old)(text)
    return text


def _fold_width(old: FoldedScalarString) -> int:
    folds = getattr(old, "fold_pos", [])
    if not folds:
        return FOLD_CHARS
    edges = [-1, *folds, len(old)]
    return max(b - a - 1 for a, b in zip(edges, edges[1:], strict=False))


def _fold_positions(text: str, width: int) -> list[int]:
    """Spaces at which to fold `text` so no line is longer than `width` (where a word allows)."""
    positions = []
    line_start = 0
    last_space = -1
    for i, char in enumerate(text):
        if char == "\n":
            line_start, last_space = i + 1, -1
        elif char == " " and 0 < i < len(text) - 1 and text[i - 1] != " " and text[i + 1] not in " \n":
            if i - line_start > width and last_space > line_start:
                positions.append(last_space)
                line_start = last_space + 1
            last_space = i
    if len(text) - line_start > width and last_space > line_start:
        positions.append(last_space)
    return positions


def _set_voice(doc: CommentedMap, member_id: str, voice: str) -> None:
    cast = doc.get("cast")
    if not isinstance(cast, dict) or member_id not in cast:
        raise InputError(f"cast.{member_id}: no such cast member in the story file")
    member = cast[member_id]
    if isinstance(member, dict):
        if member.get("voice", "auto") != voice:
            member["voice"] = voice
    elif voice != "auto":
        cast[member_id] = CommentedMap(voice=voice)


def _merge(original: str, baseline: str, edited: str) -> str:
    """`edited` (ruamel's dump after the edit), but with every line that the edit did not touch
    as it is in `original`. `baseline` is ruamel's dump without the edit: where it differs from
    the original, ruamel rewrote lines on its own, and those are kept as they were unless the
    edit changed them."""
    if baseline == original:
        return edited
    o, b, e = (text.splitlines(keepends=True) for text in (original, baseline, edited))
    ob = SequenceMatcher(None, b, o, autojunk=False).get_opcodes()  # baseline -> original
    be = SequenceMatcher(None, b, e, autojunk=False).get_opcodes()  # baseline -> edited
    regions = [(i1, i2, False) for tag, i1, i2, _, _ in ob if tag != "equal"]
    regions += [(i1, i2, True) for tag, i1, i2, _, _ in be if tag != "equal"]
    out: list[str] = []
    at = 0
    for start, end, touched in _merged(regions):
        out += b[at:start]
        out += e[_map(be, start, True):_map(be, end, False)] if touched else o[_map(ob, start, True):_map(ob, end, False)]
        at = end
    out += b[at:]
    return "".join(out)


def _merged(regions: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Overlapping regions (of baseline lines) joined; a joined region is touched if any part
    was. An empty region (an insertion) joins a region it falls strictly inside."""
    out: list[list] = []
    for start, end, touched in sorted(regions, key=lambda r: (r[0], r[1])):
        if out and (start < out[-1][1] or start == end == out[-1][0] == out[-1][1]):
            out[-1][1] = max(out[-1][1], end)
            out[-1][2] = out[-1][2] or touched
        else:
            out.append([start, end, touched])
    return [(start, end, touched) for start, end, touched in out]


def _map(opcodes: list[tuple[str, int, int, int, int]], position: int, start: bool) -> int:
    """A baseline line position in the other text: a region's start maps to the first line of
    what it became, its end past the last."""
    chosen = None
    for op in opcodes:
        tag, i1, i2, j1, j2 = op
        if start and (i2 > position or i1 == i2 == position):
            chosen = op
            break
        if not start and (i1 < position or i1 == i2 == position):
            chosen = op
    if chosen is None:
        return 0 if start else (opcodes[-1][4] if opcodes else 0)
    tag, i1, i2, j1, j2 = chosen
    if tag == "equal":
        return j1 + (position - i1)
    return j1 if start else j2
