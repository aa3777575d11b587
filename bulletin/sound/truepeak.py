"""True peak (ITU-R BS.1770-4 Annex 2, 4x oversampling), measured per block of BLOCK frames
exactly everywhere (one matrix product per block), not only near the loudest sample. numpy only;
audio is fed a stretch at a time, so an hour-long bulletin is never in memory whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

import numpy as np

from bulletin.base.audio import Audio

OVERSAMPLE = 4
INTERSAMPLE_DB = 3.0  # how far over its sample peaks programme audio's true peak can go
BLOCK = 32  # frames: the unit of the limiter's gain and of the true-peak meter (0.7 ms)
CHUNK_FRAMES = 1 << 17  # frames measured at a time (a multiple of BLOCK)


@cache
def _phases() -> np.ndarray:
    """The 4x interpolation filter as 4 polyphase branches of 32 taps: BS.1770-4 Annex 2's
    48-tap example under-reads content near Nyquist by up to 1 dB (measured on white noise
    against scipy's resample_poly), so this one is longer: a Kaiser (beta 8) windowed sinc,
    as scipy.signal.firwin(128, 1/4, window=("kaiser", 8.0)) designs it."""
    taps = 32 * OVERSAMPLE
    cutoff = 1 / OVERSAMPLE
    m = np.arange(taps) - (taps - 1) / 2
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(taps, 8.0)
    h = h / h.sum() * OVERSAMPLE
    return h.reshape(32, OVERSAMPLE).T.astype(np.float32)


@cache
def _interpolator() -> np.ndarray:
    """(2 * BLOCK, BLOCK * OVERSAMPLE): 64 input frames (16 before a block, its 32, 16 after)
    to the block's 128 interpolated values, so a whole signal is one matrix product."""
    phases = _phases()
    width = phases.shape[1]
    kernel = phases[:, ::-1].T  # (taps, phases)
    matrix = np.zeros((2 * BLOCK, BLOCK, OVERSAMPLE), np.float32)
    for frame in range(BLOCK):
        matrix[frame : frame + width, frame, :] = kernel
    return matrix.reshape(2 * BLOCK, BLOCK * OVERSAMPLE)


@cache
def _interpolator_t() -> np.ndarray:
    return np.ascontiguousarray(_interpolator().T)


TRUE_PEAK_CONTEXT = 16  # frames of context the interpolator needs on each side of a block


def block_true_peaks(x: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Per block of BLOCK frames, the largest absolute value of the signal and of its 4x
    oversampled version, over all channels. `x` holds TRUE_PEAK_CONTEXT frames before the
    blocks and TRUE_PEAK_CONTEXT after them (zeros past the ends of the signal); the blocks'
    frames in between are a whole number of blocks.

    With a `floor`, blocks whose samples (theirs and their neighbours') stay INTERSAMPLE_DB
    under it are not interpolated (their sample peak is given): programme audio's intersample
    peaks stay within about 3 dB of its sample peaks, so they cannot reach the floor."""
    inner = x.shape[0] - 2 * TRUE_PEAK_CONTEXT
    assert inner >= 0 and inner % BLOCK == 0
    blocks = inner // BLOCK
    out = np.zeros(blocks, np.float32)
    if blocks == 0:
        return out
    matrix = _interpolator_t()
    batch = 1024  # blocks at a time: the working arrays stay in cache
    pairs = np.empty((min(batch, blocks), 2 * BLOCK), np.float32)
    values = np.empty((matrix.shape[0], min(batch, blocks)), np.float32)
    for c in range(x.shape[1]):
        z = np.ascontiguousarray(x[:, c], np.float32).reshape(blocks + 1, BLOCK)
        samples = np.abs(z.ravel()[TRUE_PEAK_CONTEXT : TRUE_PEAK_CONTEXT + inner]).reshape(blocks, BLOCK).max(axis=1)
        np.maximum(out, samples, out=out)
        chosen = None
        if floor > 0:
            near = np.maximum(samples, np.maximum(np.roll(samples, 1), np.roll(samples, -1)))
            chosen = np.flatnonzero(near * np.float32(10 ** (INTERSAMPLE_DB / 20)) >= floor)
            if chosen.size == 0:
                continue
        count = blocks if chosen is None else chosen.size
        for at in range(0, count, batch):
            stop = min(at + batch, count)
            k = stop - at
            if chosen is None:
                pairs[:k, :BLOCK] = z[at:stop]
                pairs[:k, BLOCK:] = z[at + 1 : stop + 1]
            else:
                rows = chosen[at:stop]
                pairs[:k, :BLOCK] = z[rows]
                pairs[:k, BLOCK:] = z[rows + 1]
            v = values[:, :k]
            np.matmul(matrix, pairs[:k].T, out=v)  # (values of the block, blocks)
            np.abs(v, out=v)
            peak = v.max(axis=0)
            if chosen is None:
                np.maximum(out[at:stop], peak, out=out[at:stop])
            else:
                out[rows] = np.maximum(out[rows], peak)
    return out


def streamed_true_peaks(stretches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """block_true_peaks of a (frames, channels) signal given a stretch at a time, of any lengths:
    each block once the context after it has come (a stretch measured on its own would read the
    step to zero at its edges as a peak). Zeros before the start and past the end."""
    held: np.ndarray | None = None  # TRUE_PEAK_CONTEXT frames already measured, then those not yet
    for stretch in stretches:
        if held is None:
            held = np.zeros((TRUE_PEAK_CONTEXT, stretch.shape[1]), np.float32)
        held = np.concatenate([held, stretch.astype(np.float32, copy=False)])
        blocks = (held.shape[0] - 2 * TRUE_PEAK_CONTEXT) // BLOCK
        if blocks > 0:
            yield block_true_peaks(held[: blocks * BLOCK + 2 * TRUE_PEAK_CONTEXT])
            held = held[blocks * BLOCK :]
    if held is not None and held.shape[0] > TRUE_PEAK_CONTEXT:
        inner = held.shape[0] - TRUE_PEAK_CONTEXT
        last = np.zeros((-(-inner // BLOCK) * BLOCK + 2 * TRUE_PEAK_CONTEXT, held.shape[1]), np.float32)
        last[: held.shape[0]] = held
        yield block_true_peaks(last)


def true_peaks(samples: np.ndarray) -> np.ndarray:
    """block_true_peaks of a whole (frames, channels) signal."""
    out = list(streamed_true_peaks(samples[at : at + CHUNK_FRAMES] for at in range(0, samples.shape[0], CHUNK_FRAMES)))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def true_peak_dbtp(audio: Audio) -> float:
    if audio.samples.size == 0:
        return float("-inf")
    peak = float(true_peaks(audio.samples).max())
    return 20 * np.log10(peak) if peak > 0 else float("-inf")
