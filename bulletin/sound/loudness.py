"""Loudness (ITU-R BS.1770-4, as pyloudnorm measures it), true peak (4x oversampling) and a
true-peak limiter: the measurements and processors that mastering and take levelling share.

numpy only, and every measurement works on audio fed a stretch at a time, so an hour-long
bulletin is measured without ever being in memory whole. scipy is not imported here: its
`signal` package alone takes 0.3-0.7 s to import, more than a warm preview may take.

- The K-weighting filter is pyloudnorm's (the same two biquads, coefficients from the same
  formulas), run as an FFT convolution with its impulse response, cut where what is left of
  it holds under 1e-12 of its energy: the same numbers as the recursive filter to about 1e-7
  relative (tests/test_loudness.py holds the meter to pyloudnorm within 0.01 LU).
- True peak is measured per block of BLOCK frames, exactly everywhere (one matrix product per
  block), not only near the loudest sample.
- A take's profile (its K-weighted energy and true peak per block, `level_and_profile`) is made
  with the take and cached with it, so mastering knows a mix of cached takes without measuring it.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from bulletin.base.audio import Audio

OVERSAMPLE = 4
INTERSAMPLE_DB = 3.0  # how far over its sample peaks programme audio's true peak can go
LIMITER_LOOKAHEAD_S = 0.003
LIMITER_HOLD_S = 0.020
BLOCK = 32  # frames: the unit of the limiter's gain and of the true-peak meter (0.7 ms)
GATE_BLOCK_S = 0.4  # BS.1770 gating blocks: 400 ms ...
GATE_STEP = 0.25  # ... at 75% overlap
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
K_TAIL = 1e-12  # the K-weighting impulse response is cut where its remaining energy is this
# BS.1770's K-weighting as pyloudnorm builds it: (type, gain dB, Q, centre Hz)
K_STAGES = (("high_shelf", 4.0, 1 / math.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0))


def _biquad(kind: str, gain_db: float, q: float, fc: float, rate_hz: int) -> tuple[list[float], list[float]]:
    """pyloudnorm's IIRfilter coefficients (RBJ cookbook), normalised by a0."""
    a = 10 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * (fc / rate_hz)
    alpha = math.sin(w0) / (2.0 * q)
    cos = math.cos(w0)
    if kind == "high_shelf":
        b = [a * ((a + 1) + (a - 1) * cos + 2 * math.sqrt(a) * alpha),
             -2 * a * ((a - 1) + (a + 1) * cos),
             a * ((a + 1) + (a - 1) * cos - 2 * math.sqrt(a) * alpha)]
        den = [(a + 1) - (a - 1) * cos + 2 * math.sqrt(a) * alpha,
               2 * ((a - 1) - (a + 1) * cos),
               (a + 1) - (a - 1) * cos - 2 * math.sqrt(a) * alpha]
    else:  # high_pass
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        den = [1 + alpha, -2 * cos, 1 - alpha]
    return [v / den[0] for v in b], [v / den[0] for v in den]


@cache
def k_weighting(rate_hz: int) -> tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]:
    """The K-weighting stages as ((b0, b1, b2), (1, a1, a2)), shelf first."""
    return tuple(tuple(map(tuple, _biquad(kind, g, q, fc, rate_hz))) for kind, g, q, fc in K_STAGES)


@cache
def _k_impulse(rate_hz: int) -> np.ndarray:
    """The K-weighting cascade's impulse response, as long as it has energy worth keeping."""
    n = max(256, int(0.25 * rate_hz))
    h = np.zeros(n)
    h[0] = 1.0
    for b, a in k_weighting(rate_hz):
        out = np.empty(n)
        x1 = x2 = y1 = y2 = 0.0
        for i, x in enumerate(h.tolist()):
            y = b[0] * x + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            out[i] = y
            x2, x1, y2, y1 = x1, x, y1, y
        h = out
    tail = np.cumsum(np.square(h)[::-1])[::-1]
    keep = int(np.argmax(tail < K_TAIL * tail[0])) or n
    return h[:keep]


class KFilter:
    """K-weighting of (frames, channels) float32 audio fed in consecutive pieces (float32 out):
    overlap-save FFT convolution, a few segments at a time into buffers it keeps (measured
    fastest: large transforms and fresh arrays cost more than they save)."""

    BATCH = 4

    def __init__(self, rate_hz: int, channels: int) -> None:
        h = _k_impulse(rate_hz)
        self.taps = h.size
        self.nfft = 1 << max(13, (2 * self.taps).bit_length())
        self.step = self.nfft - self.taps + 1
        self.spectrum = np.fft.rfft(h, self.nfft).astype(np.complex64)
        self.history = np.zeros((self.taps - 1, channels), np.float32)
        self._spec = np.empty((self.BATCH, self.nfft // 2 + 1), np.complex64)
        self._out = np.empty((self.BATCH, self.nfft), np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n, channels = x.shape
        out = np.empty((n, channels), np.float32)
        if n == 0:
            return out
        segments = -(-n // self.step)
        buffer = np.zeros((segments * self.step + self.taps - 1, channels), np.float32)
        buffer[: self.taps - 1] = self.history
        buffer[self.taps - 1 : self.taps - 1 + n] = x
        self.history = buffer[n : n + self.taps - 1].copy()
        for c in range(channels):
            windows = np.lib.stride_tricks.sliding_window_view(buffer[:, c], self.nfft)[:: self.step]
            for first in range(0, segments, self.BATCH):
                k = min(self.BATCH, segments - first)
                spec, y = self._spec[:k], self._out[:k]
                np.fft.rfft(windows[first : first + k], axis=1, out=spec)
                spec *= self.spectrum
                np.fft.irfft(spec, self.nfft, axis=1, out=y)
                at = first * self.step
                done = min(k * self.step, n - at)
                out[at : at + done, c] = y[:, self.taps - 1 :].ravel()[:done]
        return out


class LoudnessMeter:
    """BS.1770-4 integrated loudness of `frames` frames fed in consecutive pieces: pyloudnorm's
    Meter (same filters, same 400 ms blocks at 75% overlap, same gates, same block count) with
    each block's energy read off a running sum.

    With `block_energies`, it also keeps the K-weighted energy of every BLOCK frames (channel
    weights applied): what mastering needs to predict the loudness after the limiter.
    For audio shorter than one block it falls back to the plain mean-square estimate."""

    def __init__(self, rate_hz: int, channels: int, frames: int, block_energies: bool = False) -> None:
        self.rate_hz, self.channels, self.frames = rate_hz, channels, frames
        self.weights = np.array(CHANNEL_WEIGHTS[:channels], np.float32)
        self.filter = KFilter(rate_hz, channels)
        self.at = 0
        self.total = 0.0
        self.raw_power = 0.0
        block = int(GATE_BLOCK_S * rate_hz)
        self.short = frames < block
        count = int(np.round((frames / rate_hz - GATE_BLOCK_S) / (GATE_BLOCK_S * GATE_STEP))) + 1
        count = max(count, 0)
        self.starts = (GATE_BLOCK_S * GATE_STEP * np.arange(count) * rate_hz).astype(int)
        self.ends = np.minimum((GATE_BLOCK_S * (GATE_STEP * np.arange(count) + 1) * rate_hz).astype(int), frames)
        marks = np.sort(np.concatenate([self.starts, self.ends]))
        self.marks = marks[np.concatenate([[True], marks[1:] != marks[:-1]])] if marks.size else marks
        self.sums = np.zeros(self.marks.size)  # running energy at each mark
        self.energies = np.zeros(-(-frames // BLOCK), np.float32) if block_energies else None

    def add(self, x: np.ndarray, filtered: np.ndarray | None = None) -> None:
        """The next `x.shape[0]` frames; `filtered`, when given, is their K-weighted version
        (as this meter's filter would make it, the frames before them included)."""
        n = x.shape[0]
        if n == 0:
            return
        if self.short:
            self.raw_power += float(np.sum(np.square(x, dtype=np.float64)))
            self.at += n
            return
        y = self.filter(x) if filtered is None else filtered
        energy = weighted_power(y, self.weights)
        # the running energy at the marks in this piece: sums between them, in float64
        lo, hi = np.searchsorted(self.marks, [self.at + 1, self.at + n + 1])
        cuts = self.marks[lo:hi] - self.at
        starts = np.concatenate([[0], cuts[cuts < n]])
        running = self.total + np.cumsum(np.add.reduceat(energy, starts, dtype=np.float64))
        self.sums[lo:hi] = running[: cuts.size]
        if self.energies is not None:
            assert self.at % BLOCK == 0 or self.at + n == self.frames
            first = self.at // BLOCK
            blocks = -(-n // BLOCK)
            padded = np.zeros(blocks * BLOCK, np.float32)
            padded[:n] = energy
            self.energies[first : first + blocks] = padded.reshape(blocks, BLOCK).sum(axis=1)
        self.total = float(running[-1])
        self.at += n

    def block_mean_squares(self) -> np.ndarray:
        """Every 400 ms block's weighted mean square (the z @ weights of BS.1770)."""
        starts = self.sums[np.searchsorted(self.marks, self.starts)]
        ends = self.sums[np.searchsorted(self.marks, self.ends)]
        return (ends - starts) / (GATE_BLOCK_S * self.rate_hz)

    def integrated_lufs(self) -> float:
        if self.short:
            power = self.raw_power / max(self.frames, 1) if self.frames else 0.0
            return -0.691 + 10 * math.log10(power) if power > 0 else float("-inf")
        return gated_lufs(self.block_mean_squares())


def weighted_power(y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per frame, the channel-weighted sum of squares (float32)."""
    power = np.square(y)
    return power[:, 0] * weights[0] if y.shape[1] == 1 else power @ weights


def cumulative_at(per_block: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The sum of `per_block` (values per BLOCK frames, each spread evenly over its frames)
    before each of the sorted, distinct `frames` (float64)."""
    block = frames // BLOCK
    out = np.zeros(frames.size)
    whole = (block > 0) & (block < per_block.size)
    if whole.any():
        segments = np.add.reduceat(per_block, np.concatenate([[0], block[whole]]), dtype=np.float64)
        out[whole] = np.cumsum(segments)[:-1]
    out[block >= per_block.size] = float(per_block.sum(dtype=np.float64))
    inside = block < per_block.size
    out[inside] += per_block[block[inside]] * ((frames[inside] % BLOCK) / BLOCK)
    return out


# Take profiles: what mastering needs to know of a take, worked out once, when it is made ---------

PROFILE_LEAD = BLOCK  # a profile's first block holds the BLOCK frames before the take


def profile_blocks(frames: int, rate_hz: int) -> int:
    """Blocks in the profile of a take of `frames` frames: the lead block, the take, and the
    K-weighting filter's ring-out after it."""
    return -(-(PROFILE_LEAD + frames + _k_impulse(rate_hz).size - 1) // BLOCK)


def level_and_profile(samples: np.ndarray, rate_hz: int, target_lufs: float | None) -> tuple[np.ndarray, np.ndarray]:
    """`samples` scaled to `target_lufs` (as `level_to`; None: as they are), and their profile:
    a (2, blocks) float32 array of, per block of BLOCK frames from PROFILE_LEAD frames before
    the take, the K-weighted energy (channel weights applied, ring-out included) and the true
    peak. One pass of the K-weighting filter gives both the loudness and the energies."""
    n, channels = samples.shape
    blocks = profile_blocks(n, rate_hz)
    padded = np.zeros((blocks * BLOCK, channels), np.float32)
    padded[PROFILE_LEAD : PROFILE_LEAD + n] = samples
    y = KFilter(rate_hz, channels)(padded)
    gain = 1.0
    if target_lufs is not None:
        meter = LoudnessMeter(rate_hz, channels, n)
        meter.add(samples, filtered=y[PROFILE_LEAD : PROFILE_LEAD + n])
        lufs = meter.integrated_lufs()
        if np.isfinite(lufs):
            gain = float(np.float32(10 ** ((target_lufs - lufs) / 20)))
    if gain != 1.0:
        samples = samples * np.float32(gain)
        padded[PROFILE_LEAD : PROFILE_LEAD + n] = samples
    weights = np.array(CHANNEL_WEIGHTS[:channels], np.float32)
    energy = weighted_power(y, weights).reshape(blocks, BLOCK).sum(axis=1, dtype=np.float64) * gain**2
    context = np.zeros((TRUE_PEAK_CONTEXT, channels), np.float32)
    peaks = block_true_peaks(np.concatenate([context, padded, context]))
    return samples, np.stack([energy.astype(np.float32), peaks])


def gated_lufs(z: np.ndarray) -> float:
    """Integrated loudness from the blocks' weighted mean squares: absolute and relative gates."""
    with np.errstate(divide="ignore"):
        blocks = -0.691 + 10 * np.log10(np.maximum(z, 0))
        above = blocks >= ABSOLUTE_GATE_LUFS
        if not above.any():
            return float("-inf")
        relative = -0.691 + 10 * np.log10(z[above].mean()) + RELATIVE_GATE_LU
        gated = (blocks > relative) & (blocks > ABSOLUTE_GATE_LUFS)
        return float(-0.691 + 10 * np.log10(z[gated].mean()))


CHUNK_FRAMES = 1 << 17  # a multiple of BLOCK


def integrated_lufs(audio: Audio) -> float:
    """BS.1770-4 integrated loudness of `audio`, as pyloudnorm's Meter computes it."""
    samples = audio.samples
    meter = LoudnessMeter(audio.rate_hz, audio.channels, samples.shape[0])
    for at in range(0, samples.shape[0], CHUNK_FRAMES):
        meter.add(np.asarray(samples[at : at + CHUNK_FRAMES], np.float32))
    return meter.integrated_lufs()


def level_to(audio: Audio, target_lufs: float) -> Audio:
    """Scale (no limiting) so the integrated loudness is `target_lufs`; silence stays silence."""
    lufs = integrated_lufs(audio)
    if not np.isfinite(lufs):
        return audio
    return Audio(audio.samples * np.float32(10 ** ((target_lufs - lufs) / 20)), audio.rate_hz)


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


def true_peaks(samples: np.ndarray) -> np.ndarray:
    """block_true_peaks of a whole (frames, channels) signal."""
    out = []
    for at in range(0, samples.shape[0], CHUNK_FRAMES):
        lo, hi = max(at - TRUE_PEAK_CONTEXT, 0), min(at + CHUNK_FRAMES + TRUE_PEAK_CONTEXT, samples.shape[0])
        stop = min(at + CHUNK_FRAMES, samples.shape[0])
        piece = np.zeros((stop - at + (-(stop - at) % BLOCK) + 2 * TRUE_PEAK_CONTEXT, samples.shape[1]), np.float32)
        piece[lo - at + TRUE_PEAK_CONTEXT : hi - at + TRUE_PEAK_CONTEXT] = samples[lo:hi]
        out.append(block_true_peaks(piece))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def true_peak_dbtp(audio: Audio) -> float:
    if audio.samples.size == 0:
        return float("-inf")
    peak = float(true_peaks(audio.samples).max())
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def _running_min(x: np.ndarray, size: int) -> np.ndarray:
    """Centred running minimum over `size` (odd) values, edges extended (scipy.ndimage's
    minimum_filter1d, mode "nearest"), by van Herk / Gil-Werman: three passes whatever the size."""
    n, r = x.size, size // 2
    total = -(-(n + 2 * r) // size) * size
    padded = np.concatenate([np.full(r, x[0], x.dtype), x, np.full(total - n - r, x[-1], x.dtype)])
    blocks = padded.reshape(-1, size)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n], prefix[size - 1 : size - 1 + n])


def _running_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Centred running mean over `size` (odd) values, edges extended (uniform_filter1d,
    mode "nearest"); a stretch of exact zeros stays exactly zero."""
    r = size // 2
    padded = np.concatenate([np.full(r, x[0]), x, np.full(r, x[-1])]).astype(np.float64)
    sums = np.concatenate([[0.0], np.cumsum(padded)])
    return (sums[size:] - sums[:-size]) / size


def limiter_gains(peaks: np.ndarray, raise_by: float, ceiling: float, rate_hz: int) -> np.ndarray:
    """The look-ahead limiter's gain per block of BLOCK frames, for audio whose per-block true
    peaks are `peaks`, raised by `raise_by`, held under `ceiling` (linear).

    The gain is the least gain needed anywhere within look-ahead + hold of a block, averaged
    over +-look-ahead: every value averaged at a peak is at most what that peak needs, so no
    sample exceeds the ceiling, and the gain falls smoothly before a peak and recovers after a
    short hold. Where nothing needs limiting the gain is exactly 1. Worked out a stretch of
    blocks at a time, so the working arrays stay small for a long bulletin."""
    out = np.ones(peaks.size, np.float32)
    if peaks.size == 0:
        return out
    lookahead = max(1, round(LIMITER_LOOKAHEAD_S * rate_hz / BLOCK))
    hold = round(LIMITER_HOLD_S * rate_hz / BLOCK)
    reach = lookahead + hold + 1 + lookahead + 1  # blocks a gain depends on, either side
    limit = np.float32(ceiling / raise_by)
    for at in range(0, peaks.size, 1 << 18):
        stop = min(at + (1 << 18), peaks.size)
        lo, hi = max(at - reach, 0), min(stop + reach, peaks.size)
        part = peaks[lo:hi]
        if not (part > limit).any():
            continue  # nothing near needs limiting: gain 1
        needed = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(part * np.float32(raise_by), np.float32(1e-12)))
        floor = _running_min(needed, 2 * (lookahead + hold + 1) + 1)
        deficit = _running_mean(1 - floor.astype(np.float64), 2 * lookahead + 1)
        out[at:stop] = (1 - deficit[at - lo : stop - lo]).astype(np.float32)
    return out


def apply_gains(x: np.ndarray, first_frame: int, raise_by: float, gains: np.ndarray) -> np.ndarray:
    """`x` (frames from `first_frame` on) raised by `raise_by` and by the limiter's per-block
    `gains` (frames outside the gains' span keep the nearest block's gain)."""
    scaled = x * np.float32(raise_by)
    if gains.size == 0 or x.shape[0] == 0:
        return scaled
    first, last = first_frame // BLOCK, (first_frame + x.shape[0] - 1) // BLOCK
    per_block = gains[np.clip(np.arange(first, last + 1), 0, gains.size - 1)]
    skip = first_frame - first * BLOCK
    return scaled * np.repeat(per_block, BLOCK)[skip : skip + x.shape[0], None]


def limit(audio: Audio, ceiling_dbtp: float, gain_db: float = 0.0, peaks: np.ndarray | None = None) -> Audio:
    """Look-ahead true-peak limiter on `audio` raised by `gain_db` (see `limiter_gains`).
    `peaks`, the per-block true peaks of the unraised audio, saves measuring them again."""
    raise_by = 10 ** (gain_db / 20)
    if peaks is None:
        peaks = true_peaks(audio.samples)
    gains = limiter_gains(peaks, raise_by, 10 ** (ceiling_dbtp / 20), audio.rate_hz)
    return Audio(apply_gains(audio.samples, 0, raise_by, gains), audio.rate_hz)
