"""A take's words as written: the engines time the words they were given (the text after
respellings); captions, the transcript and the cue sheet show the written words."""

from __future__ import annotations

import numpy as np

from bulletin.engines.timing import prefix_groups, regroup, spread
from bulletin.script.model import Segment
from bulletin.script.written import written_text
from bulletin.sound.store import Take
from bulletin.sound.takes import respell


def written_words(segment: Segment, take: Take, pronounce: dict[str, str]) -> list[tuple[str, float, float]]:
    """Each written word of `segment` (written_text) with its start and end in seconds from the
    take's first sample: a speech take's own word times (a respelled word takes the times of
    what it was respelled as), a clip's spread over it by syllables; [] where there is no text."""
    tokens = written_text(segment).split()
    if not tokens:
        return []
    times = take.words
    spoken = respell(" ".join(tokens), pronounce).split()
    if times is None or len(times) != len(spoken):
        times = spread(tokens, 0.0, take.duration_s)
    else:
        times = regroup(np.asarray(times, np.float64), prefix_groups(tokens, lambda text: respell(text, pronounce)))
    return [(token, float(start), float(end)) for token, (start, end) in zip(tokens, times, strict=True)]
