"""Music beds: placed under their story, looped, faded, and ducked under speech from the
timeline; the cue sheet lists them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bulletin.mix.timeline import DUCK_DB, arrange, bed_gain
from bulletin.pipeline.render import render
from bulletin.script.story import load_story
from tests.conftest import rms_db

STORY = """title: Bed Test
date: 2026-05-06
master: {formats: [wav]}
cast: {anchor: {role: anchor}, kim: {role: reporter, name: Kim}}
stories:
  - headline: With a bed
    bed: builtin:bed
    segments:
      - anchor: Good morning. Here is the news, read over a bed of music that should duck.
      - kim: The bed stays down while I speak, between my sentences too. Then it comes back.
      - pause: 3.0
      - anchor: And after the pause the bed ducks again, under this last line.
  - headline: Without
    segments:
      - anchor: This story has no bed at all.
"""


def test_bed_gain_ducks_under_speech_and_recovers_in_pauses(tmp_path: Path):
    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    story = load_story(path)
    durations = {s.index: 4.0 for s in story.segments if s.kind == "speech"}
    timeline = arrange(story, durations)
    bed = timeline.beds[0]
    rate = 8000
    gain = bed_gain(timeline, bed, rate)
    to_db = lambda g: 20 * np.log10(np.maximum(g, 1e-9))  # noqa: E731
    for p in timeline.placements:
        a, b = (round((p.start_s - bed.start_s) * rate), round((p.end_s - bed.start_s) * rate))
        if p.segment.kind == "speech" and p.segment.story == 1:
            assert to_db(gain[a:b]).max() <= DUCK_DB + 0.01  # fully down for every word
            assert DUCK_DB <= -18
        if p.segment.kind == "pause":
            # back within 3 dB of its own level for most of the pause
            middle = gain[a + (b - a) // 4 : b - (b - a) // 8]
            assert to_db(middle).min() >= -3.0
    # no pumping between segments spoken back to back: stays ducked across the 0.4 s gap
    first, second = timeline.placements[0], timeline.placements[1]
    gap = gain[round((first.end_s - bed.start_s) * rate) : round((second.start_s - bed.start_s) * rate)]
    assert to_db(gap).max() <= DUCK_DB + 0.01
    # fades: silent at both ends
    assert gain[0] == 0 and gain[-1] < 0.01


def test_render_with_bed_lists_it_and_bed_is_under_speech(tmp_path: Path):
    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    result = render(path, tmp_path / "out", jobs=1)
    cue = json.loads(result.files["json"].read_text())
    bed = cue["stories"][0]["bed"]
    assert bed["source"] == "builtin:bed"
    assert bed["start"] == cue["stories"][0]["start"] and bed["end"] > cue["stories"][0]["end"]
    assert "bed" not in cue["stories"][1]
    # the bed is heard alone before the first word
    first_word = cue["segments"][0]["start"]
    assert first_word >= 1.9
    import soundfile as sf

    data, rate = sf.read(str(result.files["wav"]))
    lead = data[int(1.0 * rate) : int(first_word * rate)]
    assert rms_db(lead) > -45  # music is playing
    pause = next(s for s in cue["segments"] if s["kind"] == "pause")
    in_pause = data[int((pause["start"] + 0.8) * rate) : int(pause["end"] * rate)]
    # in the pause the bed is back up: within 3 dB of its level before the first word
    assert abs(rms_db(in_pause) - rms_db(lead)) < 3.0


def test_bed_gain_follows_the_timeline_exactly(tmp_path: Path):
    """The envelope's shape, point by point: its length is the bed's span, fades are linear
    over their stated times, the attack ramps over DUCK_ATTACK_S ending at the first word, the
    release is a raised cosine over DUCK_RELEASE_S, and the floor is DUCK_DB."""
    from bulletin.mix.timeline import (
        BED_FADE_IN_S,
        BED_FADE_OUT_S,
        DUCK_ATTACK_S,
        DUCK_RELEASE_S,
        Timeline,
    )

    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    story = load_story(path)
    timeline = arrange(story, {s.index: 4.0 for s in story.segments if s.kind == "speech"})
    rate = 1000
    # a bed that starts 3 s into the programme under one word of speech 5 s into the bed, to
    # see each edge alone
    bed = replace(timeline.beds[0], start_s=3.0, end_s=23.0)
    word = timeline.placements[0]
    lone = Timeline([replace(word, start_s=bed.start_s + 5.0, duration_s=1.0)], [bed], [], 25.0)
    gain = bed_gain(lone, bed, rate).astype(np.float64)
    assert gain.size == 20 * rate  # the bed's span
    floor = 10 ** (DUCK_DB / 20)
    at = lambda s: gain[round(s * rate)]  # noqa: E731  (seconds after the bed starts)
    assert at(0.0) == 0.0
    assert at(BED_FADE_IN_S / 2) == pytest.approx(0.5, abs=0.01)  # linear fade in
    assert at(BED_FADE_IN_S + 0.5) == pytest.approx(1.0, abs=1e-6)
    attack = round(DUCK_ATTACK_S * rate)
    ramp = gain[round(5.0 * rate) - attack : round(5.0 * rate)]
    assert np.all(np.diff(ramp) < 0) and ramp[0] == pytest.approx(1.0, abs=1e-6)  # going down, from full
    # linear, over exactly DUCK_ATTACK_S, ending at the word
    assert ramp == pytest.approx(1 - np.arange(attack) / attack * (1 - floor), abs=1e-6)
    assert gain[round(5.0 * rate) : round(6.0 * rate)] == pytest.approx(floor, abs=1e-6)
    release = gain[round(6.0 * rate) : round(6.0 * rate) + round(DUCK_RELEASE_S * rate)]
    expected = 1 - (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, release.size))) * (1 - floor)
    assert release == pytest.approx(expected, abs=1e-3)  # raised-cosine release
    assert at(6.0 + DUCK_RELEASE_S + 0.5) == pytest.approx(1.0, abs=1e-6)
    span_s = gain.size / rate
    assert at(span_s - BED_FADE_OUT_S / 2) == pytest.approx(0.5, abs=0.01)  # linear fade out
    assert gain[-1] < 0.001
