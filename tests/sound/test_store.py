"""Takes and where they live during a render: a clip's gain on samples and profile alike, the
memory budget and the spill folder, one take per key, the cache read and written, silence
trimmed, and takes levelled to TAKE_LUFS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bulletin.base.audio import Audio
from bulletin.sound.cache import TakeCache
from bulletin.sound.loudness import integrated_lufs, level_and_profile, profile_blocks
from bulletin.sound.store import SILENCE_LEVEL, TAKE_LUFS, Take, TakeStore, audible, levelled

RATE = 24000


def noise(seconds: float, level: float = 0.1, seed: int = 0) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal((round(seconds * RATE), 1))).astype(np.float32)


def test_a_take_knows_its_length_and_its_audio():
    samples = noise(0.5)
    take = Take.of(samples, RATE)
    assert (take.frames, take.channels, take.rate_hz) == (12000, 1, RATE)
    assert take.duration_s == pytest.approx(0.5)
    assert take.audio().rate_hz == RATE
    np.testing.assert_array_equal(take.audio().samples, samples)


def test_gain_scales_the_samples_energy_and_peaks_of_a_take():
    samples = noise(1.0)
    take = Take.of(samples, RATE)
    louder = take.with_gain(2.0)
    assert louder.gain == 2.0 and take.gain == 1.0
    np.testing.assert_allclose(louder.samples(), 2 * samples, rtol=1e-6)
    energy, peaks = take.profile()
    loud_energy, loud_peaks = louder.profile()
    np.testing.assert_allclose(loud_energy, 4 * energy, rtol=1e-5)  # energy with the square
    np.testing.assert_allclose(loud_peaks, 2 * peaks, rtol=1e-5)  # peaks with the gain


def test_a_profile_is_made_from_the_samples_when_missing_or_of_another_length():
    samples = noise(0.7)
    expected = level_and_profile(samples, RATE, None)[1]
    assert expected.shape == (2, profile_blocks(samples.shape[0], RATE))
    np.testing.assert_allclose(Take.of(samples, RATE).profile(), expected, rtol=1e-6)
    stale = np.ones((2, 3), np.float32)  # the profile of some other take
    np.testing.assert_allclose(Take.of(samples, RATE, stale).profile(), expected, rtol=1e-6)
    given = expected * 2  # a profile of the right shape is trusted (it came with the take)
    np.testing.assert_array_equal(Take.of(samples, RATE, given).profile(), given)


def test_takes_stay_in_memory_within_the_budget_then_spill_to_files_removed_at_the_end():
    first, second = noise(1.0, seed=1), noise(1.0, seed=2)
    with TakeStore(None, budget_bytes=first.nbytes) as store:
        kept = store.add("a" * 64, (first, None), RATE)
        spilled = store.add("b" * 64, (second, None), RATE)
        assert kept.path is None and store.in_memory == first.nbytes
        assert spilled.path is not None and spilled.path.exists()
        assert (spilled.frames, spilled.channels) == second.shape
        np.testing.assert_array_equal(spilled.samples(), second)  # read back from its file
        np.testing.assert_allclose(spilled.with_gain(0.5).samples(), 0.5 * second, rtol=1e-6)
        folder = spilled.path.parent
    assert not folder.exists()


def test_a_key_is_one_take_in_a_render_and_the_cache_serves_the_next(tmp_path: Path):
    cache = TakeCache(tmp_path / "cache")
    samples, profile = level_and_profile(noise(0.5), RATE, TAKE_LUFS)
    key = "c" * 64
    with TakeStore(cache) as store:
        assert store.lookup(key, RATE) is None
        made = store.add(key, (samples, profile), RATE)
        again = store.add(key, (noise(0.5, seed=9), None), RATE)  # a second make of the same key
        assert again is made and store.lookup(key, RATE) is made
        assert store.added == 1
        store.prune()
    with TakeStore(cache) as later:
        found = later.lookup(key, RATE)
        assert found is not None and later.added == 0
        np.testing.assert_array_equal(found.samples(), samples)
        np.testing.assert_allclose(found.profile(), profile, rtol=1e-6)


def test_a_take_without_a_key_is_kept_but_never_cached(tmp_path: Path):
    cache = TakeCache(tmp_path / "cache")
    with TakeStore(cache) as store:
        take = store.add(None, (noise(0.2), None), RATE)
        assert take.frames == round(0.2 * RATE)
    assert not list((tmp_path / "cache").rglob("*.take"))


def test_prune_keeps_the_cache_under_its_limit_only_after_a_take_was_added(tmp_path: Path):
    cache = TakeCache(tmp_path / "cache", max_bytes=1)
    cache.put("d" * 64, noise(0.5))
    with TakeStore(cache) as store:
        store.prune()  # nothing added by this render: nothing pruned
        assert list((tmp_path / "cache").rglob("*.take"))
        store.add("e" * 64, (noise(0.5, seed=3), None), RATE)
        store.prune()
    assert len(list((tmp_path / "cache").rglob("*.take"))) <= 1


def test_audible_trims_the_silence_around_the_sound_to_the_pad():
    sound = noise(0.3, level=0.2)
    quiet = np.full((RATE // 2, 1), SILENCE_LEVEL / 2, np.float32)  # under -50 dBFS: silence
    audio = Audio(np.concatenate([quiet, sound, quiet]), RATE)
    trimmed = audible(audio, pad_s=0.01)
    pad = round(0.01 * RATE)
    loud = np.flatnonzero(np.abs(sound[:, 0]) > SILENCE_LEVEL)
    assert trimmed.samples.shape[0] == (loud[-1] - loud[0] + 1) + 2 * pad
    assert trimmed.rate_hz == RATE
    # the pad never reaches past the audio's ends
    assert audible(Audio(sound, RATE), pad_s=1.0).samples.shape[0] == sound.shape[0]


def test_audible_of_silence_is_empty():
    silent = Audio(np.zeros((RATE, 1), np.float32), RATE)
    assert audible(silent).samples.shape == (0, 1)


def test_levelled_takes_measure_take_lufs():
    samples, profile, _ = levelled(Audio(noise(2.0, level=0.02), RATE))

    assert integrated_lufs(Audio(samples, RATE)) == pytest.approx(TAKE_LUFS, abs=0.01)
    assert profile.shape == (2, profile_blocks(samples.shape[0], RATE))
