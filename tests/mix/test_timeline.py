"""Arranging: where every segment, story and bed goes, from the segments' durations alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bulletin.mix.timeline import (
    BED_FADE_OUT_S,
    BED_LEAD_IN_S,
    DUCK_DB,
    DUCK_HOLD_S,
    Placement,
    Timeline,
    arrange,
    bed_gain,
)
from bulletin.script.story import Story, load_story

HEAD = "title: T\ncast: {anchor: {role: anchor}}\n"


def _story(tmp_path: Path, body: str) -> Story:
    path = tmp_path / "story.yaml"
    path.write_text(HEAD + body)
    return load_story(path)


def _arranged(story: Story, seconds: float = 2.0) -> Timeline:
    return arrange(story, {s.index: seconds for s in story.segments if s.kind != "pause"})


def _spans(timeline: Timeline) -> list[tuple[float, float]]:
    return [(round(p.start_s, 6), round(p.end_s, 6)) for p in timeline.placements]


def test_segments_follow_each_other_after_their_gaps_and_the_bulletin_ends_with_the_last(tmp_path: Path):
    story = _story(tmp_path, "master: {gap: 0.5, story_gap: 3}\nstories:\n"
                   "  - headline: One\n    segments:\n      - anchor: A.\n      - {speaker: anchor, text: B., gap: 1.5}\n"
                   "      - pause: 1.25\n      - anchor: C.\n"
                   "  - headline: Two\n    segments:\n      - anchor: D.\n")
    timeline = _arranged(story)
    assert _spans(timeline) == [(0.0, 2.0), (2.5, 4.5), (6.0, 7.25), (7.75, 9.75), (12.75, 14.75)]
    assert timeline.duration_s == pytest.approx(14.75)  # no gap after the last segment
    assert [(c.index, c.headline, c.start_s, c.end_s) for c in timeline.chapters] == [
        (1, "One", 0.0, 9.75), (2, "Two", 12.75, 14.75)]
    assert timeline.beds == []
    assert timeline.voiced() == [(0.0, 2.0), (2.5, 4.5), (7.75, 9.75), (12.75, 14.75)]  # not the pause


def test_a_segments_gap_before_a_new_story_is_the_story_gap(tmp_path: Path):
    story = _story(tmp_path, "stories:\n  - headline: One\n    segments:\n      - {speaker: anchor, text: A., gap: 5}\n"
                   "  - headline: Two\n    segments:\n      - anchor: B.\n")
    assert _spans(_arranged(story)) == [(0.0, 2.0), (3.0, 5.0)]  # story_gap (1.0), not the segment's gap


def test_a_bed_spans_its_story_with_a_lead_in_before_speech_and_none_before_a_sting(tmp_path: Path):
    story = _story(tmp_path, "stories:\n"
                   "  - headline: Speech first\n    bed: builtin:bed\n    segments:\n      - anchor: A.\n"
                   "  - headline: Sting first\n    bed: builtin:bed\n    segments:\n      - sting: builtin:open\n"
                   "      - anchor: B.\n")
    timeline = _arranged(story)
    first, second = timeline.beds
    assert _spans(timeline) == [(BED_LEAD_IN_S, BED_LEAD_IN_S + 2.0), (5.0, 7.0), (7.4, 9.4)]
    assert (first.story, first.start_s, first.end_s) == (1, 0.0, BED_LEAD_IN_S + 2.0 + BED_FADE_OUT_S)
    assert (second.story, second.start_s, second.end_s) == (2, 5.0, 9.4 + BED_FADE_OUT_S)
    assert first.sound.builtin == "bed"
    # the chapter starts with the bed; the bulletin ends with the last bed's fade
    assert [(c.start_s, c.end_s) for c in timeline.chapters] == [(0.0, 4.0), (5.0, 9.4)]
    assert timeline.duration_s == pytest.approx(9.4 + BED_FADE_OUT_S)


def test_speech_closer_than_the_hold_stays_ducked_and_farther_apart_the_bed_comes_up(tmp_path: Path):
    story = _story(tmp_path, "stories:\n  - headline: One\n    bed: builtin:bed\n    segments:\n      - anchor: A.\n")
    timeline = _arranged(story)
    bed = replace(timeline.beds[0], end_s=20.0)  # long enough that its fade is far off
    rate = 1000
    word = timeline.placements[0]
    floor = 10 ** (DUCK_DB / 20)
    for apart_s, ducked in ((DUCK_HOLD_S - 0.05, True), (DUCK_HOLD_S + 0.6, False)):
        second = Placement(word.segment, word.end_s + apart_s, 1.0)
        gain = bed_gain(Timeline([word, second], [bed], [], 10.0), bed, rate)
        between = gain[round((word.end_s + apart_s / 2) * rate)]
        assert bool(abs(between - floor) < 1e-6) is ducked, (apart_s, between)
    # speech outside the bed's span does not duck it
    outside = Placement(word.segment, bed.end_s + 1.0, 1.0)
    alone = bed_gain(Timeline([outside], [bed], [], 25.0), bed, rate)
    assert np.max(alone) == pytest.approx(1.0, abs=1e-6)


def test_clips_duck_the_bed_as_speech_does_and_stings_and_pauses_do_not(tmp_path: Path):
    sf.write(str(tmp_path / "bite.wav"), np.full(8000, 0.1, np.float32), 8000)
    story = _story(tmp_path, "stories:\n  - headline: One\n    bed: builtin:bed\n    segments:\n"
                   "      - sting: builtin:open\n      - clip: bite.wav\n      - pause: 1\n      - anchor: A.\n")
    timeline = _arranged(story)
    sting, clip, pause, speech = timeline.placements
    assert timeline.voiced() == [(clip.start_s, clip.end_s), (speech.start_s, speech.end_s)]
    gain = bed_gain(timeline, timeline.beds[0], 1000)
    middle = round((clip.start_s + clip.duration_s / 2) * 1000)
    assert gain[middle] == pytest.approx(10 ** (DUCK_DB / 20), abs=1e-6)
