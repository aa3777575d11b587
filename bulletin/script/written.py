"""What a segment says, as a reader sees it: the one place captions, transcripts and the cue
sheet's words take a segment's text from."""

from __future__ import annotations

from bulletin.script.model import Segment


def written_text(segment: Segment) -> str:
    """`segment`'s text as written for a reader (whitespace made single spaces): never a
    respelling meant for the voices, and the place where anything else meant only for the
    voices (markup: `Segment.written`) is taken out."""
    return " ".join((segment.written or "").split())
