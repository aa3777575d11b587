"""A preset's size shift: pitch and formants moved together, the pace kept, for any engine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bulletin.base.errors import InputError
from bulletin.cast.presets import Preset, load_preset
from bulletin.engines import speak
from tests.conftest import median_f0_hz

TEXT = "The committee met on Thursday to discuss the budget."
PLAIN = Preset(name="plain", engine="espeak", voice="en-us", pitch=40)


@pytest.mark.parametrize("shift", [-4.0, 3.0])
def test_a_shift_moves_the_pitch_by_its_semitones_and_keeps_the_pace(shift):
    plain, shifted = speak(TEXT, PLAIN, 1.0).audio, speak(TEXT, replace(PLAIN, shift_semitones=shift), 1.0).audio
    assert shifted.rate_hz == plain.rate_hz
    ratio = median_f0_hz(shifted.samples[:, 0], shifted.rate_hz) / median_f0_hz(plain.samples[:, 0], plain.rate_hz)
    assert ratio == pytest.approx(2 ** (shift / 12), rel=0.05)
    assert shifted.duration_s == pytest.approx(plain.duration_s, rel=0.05)


def test_the_rate_still_sets_the_pace_of_a_shifted_voice():
    shifted = replace(PLAIN, shift_semitones=-3.0)
    assert speak(TEXT, shifted, 0.7).audio.duration_s > 1.3 * speak(TEXT, shifted, 1.0).audio.duration_s


def test_a_shift_beyond_six_semitones_is_a_positioned_problem(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("engine: espeak\nvoice: en-us\nshift_semitones: -9\n")
    with pytest.raises(InputError, match=r"big.yaml:3:18: shift_semitones: -9 is out of range"):
        load_preset(path)
    path.write_text("engine: espeak\nvoice: en-us\nshift_semitones: -2.5\n")
    assert load_preset(path).shift_semitones == -2.5
