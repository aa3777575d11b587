"""The espeak-ng engine: every take right, every time, with the real library from PyPI."""

from __future__ import annotations

import pytest

from bulletin.base.errors import BulletinError
from bulletin.cast.presets import load_presets
from bulletin.engines import get_engine
from tests.conftest import median_f0_hz


@pytest.fixture(scope="module")
def engine():
    return get_engine("espeak")


@pytest.fixture(scope="module")
def presets():
    return load_presets()


def test_bundled_library_version_is_pinned_by_the_wheel(engine):
    # the sound must not change because a server's espeak-ng was upgraded
    assert engine.version().startswith("espeak-ng 1.52")


def test_two_hundred_takes_alternating_voices_are_all_right(engine, presets):
    low, high = presets["anchor-us"], presets["reporter-us"]
    low_f0 = median_f0_hz(engine.synthesize("This is a test of the news.", low, 1.0).audio.samples[:, 0], engine.rate_hz)
    high_f0 = median_f0_hz(engine.synthesize("This is a test of the news.", high, 1.0).audio.samples[:, 0], engine.rate_hz)
    assert high_f0 > 1.6 * low_f0
    texts = ["Good morning.", "This is the news at six.", "Seoul will not reconsider its decision."]
    for i in range(200):
        preset = (low, high)[i % 2]
        text = texts[i % 3]
        rate = (0.8, 1.0, 1.3)[i % 3 if i % 7 else 1]
        take = engine.synthesize(text, preset, rate).audio
        expected_s = len(text) / 5.7 / (preset.rate_wpm * rate / 60)
        assert 0.4 * expected_s < take.duration_s < 2.5 * expected_s + 0.5, (i, take.duration_s)
        f0 = median_f0_hz(take.samples[:, 0], engine.rate_hz)
        expected_f0 = low_f0 if preset is low else high_f0
        assert abs(f0 - expected_f0) < 0.2 * expected_f0, (i, preset.name, f0, expected_f0)


def test_rate_changes_duration(engine, presets):
    preset = presets["anchor-us"]
    slow = engine.synthesize("The top diplomats discussed the matter.", preset, 0.7).audio.duration_s
    fast = engine.synthesize("The top diplomats discussed the matter.", preset, 1.4).audio.duration_s
    assert slow > 1.5 * fast


def test_unknown_voice_raises_instead_of_falling_back(engine, presets):
    from dataclasses import replace

    bad = replace(presets["anchor-us"], voice="xx-nonexistent")
    assert engine.problem(bad) is not None
    with pytest.raises(BulletinError, match="no voice"):
        engine.synthesize("Hello.", bad, 1.0)


def test_presets_differ_in_voice_or_pitch(engine, presets):
    espeak = [p for p in presets.values() if p.engine == "espeak"]
    assert len(espeak) >= 8
    f0 = {p.name: median_f0_hz(engine.synthesize("Officials met on Thursday to discuss trade.", p, 1.0).audio.samples[:, 0], engine.rate_hz) for p in espeak}
    assert len({p.voice for p in espeak}) == len(espeak)
    # a spread of registers, low male to high female
    assert min(f0.values()) < 100 < 180 < max(f0.values()), f0
