"""A target the limit on limiting leaves just out of reach (by less than half the tolerance)
is met there, not refused: a short bulletin, a second of its three silence inside the speech,
rendered for real (espeak-ng) and measured by pyloudnorm."""

from __future__ import annotations

import json

import pyloudnorm
import pytest
import soundfile as sf

from bulletin.mix.master import LOUDNESS_TOLERANCE_LU
from bulletin.pipeline.render import render

STORY = """title: Short
date: 2026-03-04
cast: {anchor: {role: anchor}}
segments:
  - anchor: 'Hello there, <break time="1s"/> everyone, and welcome.'
"""


def test_a_target_within_the_tolerance_of_the_most_the_limiter_allows_is_met(tmp_path):
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    result = render(story, tmp_path / "out", jobs=1, draft=True, formats=["wav"])
    loudness = json.loads(result.files["json"].read_text())["loudness"]
    assert loudness["target_met"] and "note" not in loudness
    samples, rate_hz = sf.read(str(result.files["wav"]))
    assert pyloudnorm.Meter(rate_hz).integrated_loudness(samples) == pytest.approx(-16.0, abs=LOUDNESS_TOLERANCE_LU)
