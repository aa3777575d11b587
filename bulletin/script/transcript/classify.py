"""What one line is, judged on its own (the parser judges it again in context)."""

from __future__ import annotations

from bulletin.script.transcript.furniture import END_LINES, is_furniture
from bulletin.script.transcript.labels import BRACKET_LABEL, COLON_LABEL, HEADING_LINE, labelled
from bulletin.script.transcript.lines import (
    BLANK,
    END,
    FURNITURE,
    HEADING,
    SIGNOFF,
    TEXT,
    Token,
    looks_like_headline,
    tidy,
)
from bulletin.script.transcript.signoffs import SIGNOFF_LINE


def classify(number: int, raw: str) -> Token:
    """What one line is, judged on its own; the parser judges it again in context."""
    text = tidy(raw)
    if not text:
        return Token(BLANK, number, text)
    folded = text.casefold().replace("’", "'")
    if folded in END_LINES:
        return Token(END, number, text)
    if is_furniture(folded):
        return Token(FURNITURE, number, text)
    label = BRACKET_LABEL.match(text) or COLON_LABEL.match(text)
    if label:
        return labelled(number, text, label.group("label"), label.group("rest"))
    heading = HEADING_LINE.match(text)
    if heading and looks_like_headline(heading.group("headline")):
        return Token(HEADING, number, text, body=heading.group("headline"))
    signoff = SIGNOFF_LINE.match(text)
    if signoff:
        return Token(
            SIGNOFF, number, text, name=signoff.group("name"), station=signoff.group("station")
        )
    return Token(TEXT, number, text)
