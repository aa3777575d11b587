"""Arrange: place takes on a timeline. Needs only durations, so `check` can estimate timings
and the cue sheet, captions and chapters are read straight off it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bulletin.story import Segment, Sound, Story, StoryPart

BED_FADE_IN_S = 1.5
BED_FADE_OUT_S = 2.0
DUCK_DB = -22.0  # bed level under speech, relative to its own level (at least 18 dB down)
DUCK_ATTACK_S = 0.01
DUCK_RELEASE_S = 1.0
# speech parts of one segment closer than this stay ducked: no pumping between words
DUCK_HOLD_S = 0.6


@dataclass(frozen=True)
class Placement:
    segment: Segment
    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class BedPlacement:
    story: int
    sound: Sound
    start_s: float  # fade in starts here
    end_s: float  # fade out ends here


@dataclass(frozen=True)
class Chapter:
    index: int
    headline: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Timeline:
    placements: list[Placement]
    beds: list[BedPlacement]
    chapters: list[Chapter]
    duration_s: float

    def voiced(self) -> list[tuple[float, float]]:
        """Spans where someone speaks (speech and clips): what beds duck under."""
        return [(p.start_s, p.end_s) for p in self.placements if p.segment.kind in ("speech", "clip")]


def arrange(story: Story, durations: dict[int, float]) -> Timeline:
    """Place every segment after the previous one and its gap; beds span their stories."""
    placements: list[Placement] = []
    chapters: list[Chapter] = []
    beds: list[BedPlacement] = []
    t = 0.0
    for n, part in enumerate(story.stories):
        if n > 0:
            t += story.master.story_gap_s - _gap_after(story, placements[-1].segment) if placements else 0.0
        story_start = t
        for i, segment in enumerate(part.segments):
            duration = segment.pause_s if segment.kind == "pause" else durations[segment.index]
            placements.append(Placement(segment, t, duration))
            t += duration
            if i < len(part.segments) - 1 or n < len(story.stories) - 1:
                t += _gap_after(story, segment)
        story_end = placements[-1].end_s if part.segments else t
        chapters.append(Chapter(part.index, part.headline, story_start, story_end))
        if part.bed:
            beds.append(_bed(part, story_start, story_end))
    duration = max([t, *(b.end_s for b in beds)]) if placements else 0.0
    return Timeline(placements, beds, chapters, duration)


def _gap_after(story: Story, segment: Segment) -> float:
    return story.master.gap_s if segment.gap_s is None else segment.gap_s


def _bed(part: StoryPart, start_s: float, end_s: float) -> BedPlacement:
    # the bed rises under the story's opening (usually a sting) and fades after its last word
    assert part.bed is not None
    return BedPlacement(part.index, part.bed, start_s, end_s + BED_FADE_OUT_S)


def bed_gain(timeline: Timeline, bed: BedPlacement, rate_hz: int) -> np.ndarray:
    """Linear gain over the bed's span: fades at its ends, ducked while anyone speaks.

    Computed from the timeline, not from the signal: we know exactly when speech plays, so the
    bed is already down when the first word starts (the attack ends at the word's start).
    """
    n = round((bed.end_s - bed.start_s) * rate_hz)
    t = bed.start_s + np.arange(n) / rate_hz
    # ducking in dB: 0 outside speech, DUCK_DB inside; spans closer than DUCK_HOLD_S merge
    spans = _merged([(a, b) for a, b in timeline.voiced() if b > bed.start_s and a < bed.end_s])
    duck = np.zeros(n, np.float32)
    for a, b in spans:
        attack = np.clip((t - (a - DUCK_ATTACK_S)) / DUCK_ATTACK_S, 0, 1)
        release = np.clip(1 - (t - b) / DUCK_RELEASE_S, 0, 1)
        duck = np.minimum(duck, DUCK_DB * np.minimum(attack, release))
    fade_in = np.clip((t - bed.start_s) / BED_FADE_IN_S, 0, 1)
    fade_out = np.clip((bed.end_s - t) / BED_FADE_OUT_S, 0, 1)
    return (10 ** (duck / 20) * fade_in * fade_out).astype(np.float32)


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] < DUCK_HOLD_S:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
