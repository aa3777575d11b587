"""Arrange: place takes on a timeline. Needs only durations, so `check` can estimate timings
and the cue sheet, captions and chapters are read straight off it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bulletin.script.story import Segment, Sound, Story, StoryPart

BED_FADE_IN_S = 1.5
# a bed under a story that opens with speech plays alone this long first (under a sting, it
# rises with the sting)
BED_LEAD_IN_S = 2.0
BED_FADE_OUT_S = 2.0
DUCK_DB = -22.0  # bed level under speech, relative to its own level (at least 18 dB down)
DUCK_ATTACK_S = 0.01
DUCK_RELEASE_S = 0.8
# speech parts of one segment closer than this stay ducked: no pumping between words
DUCK_HOLD_S = 0.6


@dataclass(frozen=True)
class Word:
    """A written word on the timeline: when it is said, in seconds from the bulletin's start."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Placement:
    segment: Segment
    start_s: float
    duration_s: float
    words: tuple[Word, ...] = ()  # what is said in it, word by word (speech, clips with text)

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
    # fitted to a post: the programme is exactly duration_s long (to the sample), its beds are
    # backtimed (each ends with its story, its music's own end on the story's end)
    fitted: bool = False

    def voiced(self) -> list[tuple[float, float]]:
        """Spans where someone speaks (speech and clips): what beds duck under."""
        return [(p.start_s, p.end_s) for p in self.placements if p.segment.kind in ("speech", "clip")]


def arrange(story: Story, durations: dict[int, float],
            words: dict[int, list[tuple[str, float, float]]] | None = None, *, gap_factor: float = 1.0,
            fitted: bool = False) -> Timeline:
    """Place every segment after the previous one and its gap; beds span their stories.

    `words`: each segment's written words with their times from its own start (sound.words),
    placed with it. `gap_factor` scales every gap, story gap and pause (fitting to a post flexes
    them); `fitted` backtimes the beds: each ends with its story instead of fading out after it."""
    placements: list[Placement] = []
    chapters: list[Chapter] = []
    beds: list[BedPlacement] = []
    t = 0.0
    for n, part in enumerate(story.stories):
        if n > 0 and placements:
            t += (story.master.story_gap_s - _gap_after(story, placements[-1].segment)) * gap_factor
        story_start = t
        if part.bed and part.segments and part.segments[0].kind != "sting":
            t += BED_LEAD_IN_S  # the bed is heard on its own before the first word
        for i, segment in enumerate(part.segments):
            duration = segment.pause_s * gap_factor if segment.kind == "pause" else durations[segment.index]
            said = (words or {}).get(segment.index, [])
            placements.append(Placement(segment, t, duration, tuple(Word(w, t + a, t + b) for w, a, b in said)))
            t += duration
            if i < len(part.segments) - 1 or n < len(story.stories) - 1:
                t += _gap_after(story, segment) * gap_factor
        story_end = placements[-1].end_s if part.segments else t
        chapters.append(Chapter(part.index, part.headline, story_start, story_end))
        if part.bed:
            beds.append(_bed(part, story_start, story_end if fitted else story_end + BED_FADE_OUT_S))
    duration = max([t, *(b.end_s for b in beds)]) if placements else 0.0
    return Timeline(placements, beds, chapters, duration, fitted)


def _gap_after(story: Story, segment: Segment) -> float:
    return story.master.gap_s if segment.gap_s is None else segment.gap_s


def _bed(part: StoryPart, start_s: float, end_s: float) -> BedPlacement:
    # the bed rises under the story's opening (usually a sting) and fades at `end_s`
    assert part.bed is not None
    return BedPlacement(part.index, part.bed, start_s, end_s)


def bed_gain(timeline: Timeline, bed: BedPlacement, rate_hz: int) -> np.ndarray:
    """Linear gain over the bed's span: fades at its ends, ducked while anyone speaks.

    Computed from the timeline, not guessed from the signal: we know exactly when speech plays,
    so the bed is already down when the first word starts (the attack ends at the word's
    start) and comes back up after the last (a raised-cosine release, within 3 dB of full
    level after 60% of it). Spans closer than DUCK_HOLD_S stay ducked: no pumping between
    the words and sentences of one segment, or between segments spoken back to back.
    """
    n = round((bed.end_s - bed.start_s) * rate_hz)
    ducked = np.zeros(n, np.float32)  # 0 = full level, 1 = fully ducked
    spans = _merged([(a, b) for a, b in timeline.voiced() if b > bed.start_s and a < bed.end_s])
    attack, release = round(DUCK_ATTACK_S * rate_hz), round(DUCK_RELEASE_S * rate_hz)
    for a, b in spans:
        first, last = round((a - bed.start_s) * rate_hz), round((b - bed.start_s) * rate_hz)
        _maximum_at(ducked, first, np.ones(max(last - first, 0), np.float32))
        _maximum_at(ducked, first - attack, np.linspace(0, 1, attack, endpoint=False, dtype=np.float32))
        fall = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, release, dtype=np.float32))
        _maximum_at(ducked, last, fall)
    floor = np.float32(10 ** (DUCK_DB / 20))
    gain = 1 - ducked * (1 - floor)
    t = np.arange(n, dtype=np.float32) / rate_hz
    gain *= np.clip(t / BED_FADE_IN_S, 0, 1) * np.clip((n / rate_hz - t) / BED_FADE_OUT_S, 0, 1)
    return gain


def _maximum_at(out: np.ndarray, start: int, values: np.ndarray) -> None:
    """out[start:start+len(values)] = max(out, values), clipped to out's bounds."""
    lo, hi = max(start, 0), min(start + values.size, out.size)
    if hi > lo:
        np.maximum(out[lo:hi], values[lo - start : hi - start], out=out[lo:hi])


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] < DUCK_HOLD_S:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
