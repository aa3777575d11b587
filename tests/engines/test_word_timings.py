"""Word timings from the engines themselves, on real synthesis: one time span per written word,
in order, inside the audio, on the word's sound (the pause after a comma is not the word's), a
number said as several words timed as one written word, and a shift that stretches the voice
stretches its times."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bulletin.cast.presets import load_presets
from bulletin.engines import engine_problem, speak
from bulletin.engines.timing import phoneme_times, prefix_groups, regroup, spread, syllables

TEXT = "In Seoul, Rep. Kang said 1,500 troops would stay. Thank you."
PRESETS = load_presets()


def _check(words: np.ndarray, samples: np.ndarray, rate_hz: int) -> None:
    tokens = TEXT.split()
    duration = samples.shape[0] / rate_hz
    assert words.shape == (len(tokens), 2)
    assert np.all(words[:, 1] >= words[:, 0]) and np.all(np.diff(words[:, 0]) > 0), words
    assert words[0, 0] >= 0 and words[-1, 1] <= duration + 1e-6
    # each word's span holds sound; the comma's pause after "Seoul," is between two words
    level = np.abs(samples[:, 0])
    for (start, end), token in zip(words, tokens, strict=True):
        span = level[int(start * rate_hz):int(end * rate_hz) + 1]
        assert span.size and span.max() > 0.01, token
    seoul, rep = words[1], words[2]
    assert rep[0] - seoul[1] > 0.05, (seoul, rep)
    # "1,500" is said "one thousand five hundred": longer than "said" and "Kang" together
    said, number = words[4], words[5]
    assert number[1] - number[0] > said[1] - said[0] + (words[3, 1] - words[3, 0])


@pytest.mark.parametrize("preset", ["anchor-us", "reporter-clear", "anchor-neural"])
def test_each_engine_times_every_written_word_on_its_sound(preset: str):
    chosen = PRESETS[preset]
    if problem := engine_problem(chosen.engine):
        pytest.skip(problem)
    said = speak(TEXT, chosen, 1.0)
    _check(said.words, said.audio.samples, said.audio.rate_hz)


def test_a_shifted_voice_keeps_its_words_on_their_sound():
    plain = PRESETS["anchor-us"]
    said = speak(TEXT, replace(plain, shift_semitones=4.0), 1.0)
    _check(said.words, said.audio.samples, said.audio.rate_hz)
    unshifted = speak(TEXT, plain, 1.0)
    ratio = said.audio.duration_s / unshifted.audio.duration_s
    assert said.words[-1, 1] / unshifted.words[-1, 1] == pytest.approx(ratio, rel=0.1)


def test_tokens_map_through_a_change_of_word_count():
    tokens = "It rose 3.5 percent.".split()
    groups = prefix_groups(tokens, lambda text: text.replace("3.5", "3 point 5"))
    assert [list(g) for g in groups] == [[0], [1], [2, 3, 4], [5]]
    times = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6]], np.float64)
    assert regroup(times, groups).tolist() == [[0, 1], [1, 2], [2, 5], [5, 6]]


def test_words_said_alone_are_matched_to_the_sentence_said_whole():
    # espeak-ng joins "on the" in a sentence, and stresses a word said alone
    whole = "pəzˈɪʃən ɔnðə dʒˈɛnɚɹəl"
    times = np.array([[k * 0.1, k * 0.1 + 0.1] for k in range(len(whole))])
    words = phoneme_times(["pəzˈɪʃən", "ˈɔn", "ðə", "dʒˈɛnɚɹəl"], whole, times)
    on, the = whole.index("ɔ"), whole.index("ð")
    assert words[1].tolist() == pytest.approx([on * 0.1, (on + 2) * 0.1])
    assert words[2].tolist() == pytest.approx([the * 0.1, (the + 2) * 0.1])
    assert words[3, 1] == pytest.approx(len(whole) * 0.1)
    # a word that matches nothing sits where the one before ended, in order
    assert phoneme_times(["pəzˈɪʃən", "xxx"], "pəzˈɪʃən", times[:8])[1].tolist() == pytest.approx([0.8, 0.8])


def test_spread_by_syllables():

    assert syllables("government") == 3 and syllables("the") == 1 and syllables("—") == 0
    times = spread(["a", "government", "—"], 0.0, 4.0)
    assert times[:, 1].tolist() == pytest.approx([1.0, 4.0, 4.0])
