"""Sign-offs: `NAME, STATION News.` ending a package (alone or run on at the end of the last
paragraph), and the lead's hand-over, "NAME has more." or "NAME reports."."""

from __future__ import annotations

import re

NAME_PATTERN = r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,4}"

STATION_PATTERN = r"(?:[A-Z][\w&'’.-]*\s+){0,6}(?:News|Radio)"

SIGNOFF_TAIL = (
    rf"(?:This is\s+)?(?P<name>{NAME_PATTERN}),\s+(?P<station>{STATION_PATTERN})"
    r"(?:,\s+[A-Z][\w .'’-]{0,40})?\s*\.?"
)

SIGNOFF_LINE = re.compile(rf"^{SIGNOFF_TAIL}$")


# A sign-off run on at the end of the last paragraph, after its final sentence.
SIGNOFF_AT_END = re.compile(rf"(?<=[.!?\"”’])\s+{SIGNOFF_TAIL}$")

INTRO = re.compile(
    r"^(?:(?:Here's|Here is)\s+)?(?:.*?\s)??(?P<name>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,3})\s+"
    r"(?:has more|has the story|has the details|has details|has this report|has the report"
    r"|reports|reports from .+|with more|with the story|with details)\s*\.?$"
)

NOT_A_REPORTER = re.compile(
    r"\b(Ministry|Agency|Office|Committee|Affairs|Government|News|Service|Administration"
    r"|Police|Court|Party|Bank|Association|Institute|Company|Yonhap|Reuters|AP|AFP|KCNA"
    r"|Bloomberg|Xinhua|Kyodo|NHK|CNN|BBC|Statistics|Korea)\b"
)


def reporter_in_intro(paragraph: str) -> str | None:
    """The reporter an anchor hands over to in the lead's last sentence, if any."""
    last = re.split(r"(?<=[.!?])\s+", paragraph)[-1]
    if len(last.split()) > 10:
        return None
    match = INTRO.match(last)
    if not match or NOT_A_REPORTER.search(match.group("name")):
        return None
    return match.group("name")
