"""What the parser collects before cast ids are given out: stories, speeches, people."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bulletin.script.transcript.bites import GUEST, parse_speaker, person_key

Warn = Callable[[int, str], None]


@dataclass
class Person:
    """A sound-bite speaker."""

    key: str
    name: str
    title: str
    role: str
    line: int  # the first sound bite, for warnings
    effect: str | None = None


@dataclass
class Speech:
    """One paragraph or one sound bite, before cast ids are given out."""

    who: str  # "anchor", "reporter" (this story's reporter) or a Person key
    text: str
    line: int
    last_line: int  # the last source line in it, to join a hard-wrapped paragraph
    signoff: bool = False


@dataclass
class StoryDraft:
    headline: str | None
    line: int
    speeches: list[Speech] = field(default_factory=list)
    reporter: str | None = None  # from the sign-off, the surest source
    intro_reporter: str | None = None  # from "NAME has more." in the lead
    station: str | None = None
    has_package: bool = False  # a report label, a sound bite or a sign-off was seen
    handed_over: bool = False  # a report label or an intro told us where the package starts


def person_of(people: dict[str, Person], speaker: str | None, line: int, warn: Warn) -> Person:
    """The Person a sound bite's speaker names, the same one for every bite of theirs."""
    name, title, notes = parse_speaker(speaker or "")
    key = person_key(name, title)
    person = people.get(key)
    if person is not None:
        person.title = person.title or title
        return person
    role = "guest" if (not name or GUEST.search(f"{name} {title}")) else "official"
    effect = "phone" if any("phone" in note.casefold() for note in notes) else None
    person = Person(key, name, title, role, line, effect)
    people[key] = person
    if not name:
        warn(line, "sound bite names no speaker; cast as an unnamed guest")
    return person


def with_headlines(stories: list[StoryDraft], warn: Warn) -> list[StoryDraft]:
    """The stories that have text, each with a headline (made from its first words if none)."""
    kept = []
    for story in stories:
        if not story.speeches:
            warn(story.line, f"story {story.headline or ''!r} has no text; left out")
            continue
        if not story.headline:
            words = re.split(r"(?<=[.!?])\s+", story.speeches[0].text)[0].split()[:10]
            story.headline = " ".join(words).rstrip(".,;:")
            warn(
                story.line,
                f"no title for this story; headline made from its first "
                f"words: {story.headline!r}",
            )
        kept.append(story)
    return kept
