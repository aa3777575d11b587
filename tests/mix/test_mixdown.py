"""The mix as the master reads it: a stretch at a time, zeros outside the signal, every frame
exactly once."""

from __future__ import annotations

import numpy as np

from bulletin.base.audio import Audio
from bulletin.mix.mixdown import ArraySource, stretches
from bulletin.sound.truepeak import BLOCK, CHUNK_FRAMES


def test_an_array_source_gives_its_frames_and_silence_around_them():
    samples = (np.arange(10, dtype=np.float32) + 1).reshape(5, 2)  # no zero: a dropped frame shows
    source = ArraySource(Audio(samples, 8000))
    assert (source.frames, source.channels, source.rate_hz) == (5, 2, 8000)
    stretch = source.render(-2, 7)
    assert stretch.dtype == np.float32 and stretch.shape == (9, 2)
    assert np.array_equal(stretch[2:7], samples) and not stretch[:2].any() and not stretch[7:].any()
    assert np.array_equal(source.render(0, 5), samples)
    assert not source.render(5, 8).any() and source.render(5, 8).shape == (3, 2)


def test_stretches_cover_every_frame_once_in_whole_blocks():
    frames = 2 * CHUNK_FRAMES + 45
    parts = list(stretches(frames))
    assert [at for at, _, _ in parts] == [0, CHUNK_FRAMES, 2 * CHUNK_FRAMES]
    assert sum(n for _, n, _ in parts) == frames
    assert parts[-1] == (2 * CHUNK_FRAMES, 45, 2 * BLOCK)  # rounded up to whole blocks
    assert all(padded % BLOCK == 0 and padded >= n for _, n, padded in parts)
