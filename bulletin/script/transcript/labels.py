"""Labels: `Anchor:` / `[Anchor Lead]` for the lead, `Report:` / `[Pkg]` for the package,
`[Sound bite: ...]`, closing tags, and numbered headings (`2. U.S. Veterans`) when one page
carries several stories."""

from __future__ import annotations

import re

from bulletin.script.transcript.bites import split_bite_rest
from bulletin.script.transcript.lines import ANCHOR, BITE, LABEL, REPORT, TAG, Token

BRACKET_LABEL = re.compile(r"^\[\s*(?P<label>[^\[\]]{1,300}?)\s*\]\s*(?P<rest>.*)$")

COLON_LABEL = re.compile(
    r"^(?P<label>anchor(?: lead)?|report(?:er)?|correspondent|package|pkg|narration"
    r"|sound ?bite|sot)\s*[:：]\s*(?P<rest>.*)$",
    re.I,
)

ANCHOR_KEYS = frozenset(
    {"anchor", "anchorlead", "anchorment", "anchorcomment", "anchorintro", "lead"}
)

TAG_KEYS = frozenset({"closing", "closingcomment", "anchortag", "tag", "anchorclosing"})

REPORT_KEYS = frozenset(
    {
        "report",
        "reporter",
        "correspondent",
        "pkg",
        "package",
        "standup",
        "reporterstandup",
        "narration",
        "vo",
        "voiceover",
    }
)

BITE_KEYS = frozenset({"soundbite", "soundbites", "sot", "bite", "interview", "actuality", "sb"})

HEADING_LINE = re.compile(r"^(?P<number>\d{1,2})[.)]\s+(?P<headline>\S.{0,150})$")


def labelled(number: int, text: str, label: str, rest: str) -> Token:
    """A line that starts with a label: `[Pkg]`, `Anchor:`, `[Sound bite: NAME - TITLE]`."""
    head, _, spec = label.partition(":")
    key = re.sub(r"[^a-z]", "", head.casefold())
    rest = rest.strip()
    if key in BITE_KEYS:
        if spec.strip():
            return Token(BITE, number, text, body=rest, speaker=spec.strip())
        speaker, quote = split_bite_rest(rest)
        return Token(BITE, number, text, body=quote or "", speaker=speaker)
    for keys, kind in ((ANCHOR_KEYS, ANCHOR), (TAG_KEYS, TAG), (REPORT_KEYS, REPORT)):
        if key in keys:
            return Token(kind, number, text, body=rest)
    return Token(LABEL, number, text, body=rest, speaker=label)
