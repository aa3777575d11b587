"""The parse as a story file: the cast with unique ids, the segments, the programme's title
and date, written as YAML in the order a producer reads it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import yaml

from bulletin.script.transcript.bites import cast_id, person_key
from bulletin.script.transcript.drafts import StoryDraft
from bulletin.script.transcript.lines import chunks
from bulletin.script.transcript.parser import Parser

SCHEMA_COMMENT = "# yaml-language-server: $schema=https://bulletin.invalid/story.schema.json"
DEFAULT_TITLE = "News Bulletin"
LANGUAGE = "en"


def assemble(parser: Parser, path: Path) -> dict[str, object]:
    """The story mapping, in the order a producer reads a story file."""
    ids = CastIds()
    cast: dict[str, dict[str, str]] = {}
    if any(s.who == "anchor" for story in parser.stories for s in story.speeches):
        cast[ids.claim("anchor", "anchor")] = {"role": "anchor"}
    reporters = [reporter_of(story, parser, ids, cast) for story in parser.stories]
    for person in parser.people.values():
        member_id = ids.claim(person.key, cast_id(person.name or person.title) or "unnamed")
        member = {"role": person.role}
        member.update({k: v for k, v in (("name", person.name), ("title", person.title),
                                         ("effect", person.effect)) if v})
        cast[member_id] = member

    stings = {"open": "builtin:open", "close": "builtin:close"}
    if len(parser.stories) > 1:
        stings["transition"] = "builtin:transition"
    stories = _stories(parser, reporters, ids)
    story_map: dict[str, object] = {"title": programme_title(parser)}
    when = date_of(parser, path)
    if when:
        story_map["date"] = when
    story_map.update({"language": LANGUAGE, "cast": cast, "stings": stings, "stories": stories})
    return story_map


def _stories(parser: Parser, reporters: list[str], ids: CastIds) -> list[dict[str, object]]:
    """Each story's segments between the stings, its speeches cut to the segment limit."""
    stories = []
    signoffs = 0
    for index, (story, reporter) in enumerate(zip(parser.stories, reporters, strict=True)):
        segments: list[dict[str, object]] = [{"sting": "open" if index == 0 else "transition"}]
        for speech in story.speeches:
            speaker = reporter if speech.who == "reporter" else ids.of(speech.who)
            for chunk in chunks(speech.text):
                if speech.signoff:
                    signoffs += 1
                    name = "signoff" if signoffs == 1 else f"signoff-{signoffs}"
                    segments.append({"speaker": speaker, "text": chunk, "id": name})
                else:
                    segments.append({speaker: chunk})
        if index == len(parser.stories) - 1:
            segments.append({"sting": "close"})
        stories.append({"headline": story.headline, "segments": segments})
    return stories


class CastIds:
    """Gives each speaker a unique id, adding -2, -3 when two share a family name."""

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}
        self.used: set[str] = set()

    def claim(self, key: str, base: str) -> str:
        if key in self.by_key:
            return self.by_key[key]
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}-{n}", n + 1
        self.used.add(candidate)
        self.by_key[key] = candidate
        return candidate

    def of(self, key: str) -> str:
        return self.by_key[key]


def reporter_of(
    story: StoryDraft, parser: Parser, ids: CastIds, cast: dict[str, dict[str, str]]
) -> str:
    """The cast id of the story's reporter, adding the member on first sight."""
    name = story.reporter or story.intro_reporter
    if not any(s.who == "reporter" for s in story.speeches):
        return ""
    if name is None:
        parser.warn(
            story.line,
            "no reporter named (no sign-off or 'NAME has more.' line); "
            "the package is read by cast member 'reporter'",
        )
        member_id = ids.claim("reporter:", "reporter")
        cast.setdefault(member_id, {"role": "reporter"})
        return member_id
    member_id = ids.claim(f"reporter:{person_key(name, '')}", cast_id(name) or "reporter")
    cast.setdefault(member_id, {"role": "reporter", "name": name})
    return member_id


def programme_title(parser: Parser) -> str:
    """The programme's name: the station in the sign-offs, else the page title of a
    page of several numbered stories, else a default the producer should change."""
    stations = Counter(s.station for s in parser.stories if s.station)
    if stations:
        return stations.most_common(1)[0][0]
    headlines = {s.headline for s in parser.stories}
    if parser.page_title and len(parser.stories) > 1 and parser.page_title not in headlines:
        return parser.page_title
    parser.warn(1, f"no sign-off names the station; title set to {DEFAULT_TITLE!r}")
    return DEFAULT_TITLE


DATE_LINE = re.compile(
    r"^(?P<label>written|posted|published|date|updated|input)\s*[:：]\s*"
    r"(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})",
    re.I,
)


def date_of(parser: Parser, path: Path) -> date | None:
    """The day the story was written: `Written:` first, then other page dates, then the
    file name (`kbs-gsomia-2019-11-22.txt`)."""
    found: list[tuple[int, int, str, str, str]] = []
    for token in parser.tokens:
        match = DATE_LINE.match(token.text)
        if match:
            rank = 1 if match.group("label").casefold() in {"updated", "input"} else 0
            found.append((rank, token.line, match["y"], match["m"], match["d"]))
    name_match = re.search(r"(\d{4})-(\d{2})-(\d{2})", path.name)
    if name_match:
        found.append((2, 1, *name_match.groups()))
    for _rank, line, year, month, day in sorted(found):
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            parser.warn(line, f"not a real date: {year}-{month}-{day}; left out")
    return None


def emit(story: dict[str, object], filename: str) -> str:
    """The story as YAML: block style, except one-line cast members as in the spec."""
    safe_name = "".join(ch if ch.isprintable() else "?" for ch in filename)
    head = {k: v for k, v in story.items() if k not in {"cast", "stings", "stories"}}
    parts = [
        f"{SCHEMA_COMMENT}\n# imported from {safe_name}\n",
        dump(head, flow=False),
        dump({"cast": story["cast"]}, flow=None),  # None: flow style for leaf mappings only
        dump({"stings": story["stings"]}, flow=False),
        dump({"stories": story["stories"]}, flow=False),
    ]
    return "".join(parts)


def dump(data: dict[str, object], flow: bool | None) -> str:
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, width=1_000_000, default_flow_style=flow
    )
