"""Loudness (ITU-R BS.1770-4, as pyloudnorm measures it): the meter that mastering and take
levelling share, and the take profiles that let mastering know a mix without measuring it.

numpy only, and every measurement works on audio fed a stretch at a time, so an hour-long
bulletin is measured without ever being in memory whole. scipy is not imported here: its
`signal` package alone takes 0.3-0.7 s to import, more than a warm preview may take.

- The K-weighting filter is pyloudnorm's (the same two biquads, coefficients from the same
  formulas), run as an FFT convolution with its impulse response, cut where what is left of
  it holds under 1e-12 of its energy: the same numbers as the recursive filter to about 1e-7
  relative (tests/sound/test_loudness.py holds the meter to pyloudnorm within 0.01 LU).
- Gating as BS.1770-4: 400 ms blocks at 75% overlap, absolute gate -70 LUFS, relative gate
  -10 LU. A programme shorter than one block has no block; BS.1770 leaves it unmeasured (and
  pyloudnorm refuses it). Here it is measured as one block as long as the programme, K-weighted
  and gated as any block: the nearest the standard comes (see docs/story-format.md).
- A take's profile (its K-weighted energy and true peak per block, `level_and_profile`) is made
  with the take and cached with it, so mastering knows a mix of cached takes without measuring it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from bulletin.base.audio import Audio
from bulletin.sound.truepeak import BLOCK, CHUNK_FRAMES, TRUE_PEAK_CONTEXT, block_true_peaks

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
    Audio shorter than one 400 ms block is measured as one block as long as itself."""

    def __init__(self, rate_hz: int, channels: int, frames: int, block_energies: bool = False) -> None:
        self.rate_hz, self.channels, self.frames = rate_hz, channels, frames
        self.weights = np.array(CHANNEL_WEIGHTS[:channels], np.float32)
        self.filter = KFilter(rate_hz, channels)
        self.at = 0
        self.total = 0.0
        self.block_frames = GATE_BLOCK_S * rate_hz  # what a block's energy is divided by
        if frames < self.block_frames:  # one block, the whole programme (none if it is empty)
            self.starts = np.zeros(1 if frames else 0, int)
            self.ends = np.full(1 if frames else 0, frames)
            self.block_frames = max(frames, 1)
        else:
            count = int(np.round((frames / rate_hz - GATE_BLOCK_S) / (GATE_BLOCK_S * GATE_STEP))) + 1
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
        return (ends - starts) / self.block_frames

    def integrated_lufs(self) -> float:
        return gated_lufs(self.block_mean_squares())

    def short_term_mean_squares(self) -> np.ndarray:
        """Every 3 s window's weighted mean square (EBU Tech 3341 short-term loudness), one
        every 100 ms: window k runs from block k's start to block k+26's end (27 gating blocks
        at a 100 ms step span 3 s), read off the same running sums as the blocks. None for a
        programme shorter than 3 s."""
        count = self.starts.size - SHORT_TERM_BLOCKS + 1
        if count < 1:
            return np.zeros(0)
        starts = self.sums[np.searchsorted(self.marks, self.starts[:count])]
        ends = self.sums[np.searchsorted(self.marks, self.ends[SHORT_TERM_BLOCKS - 1 :])]
        return (ends - starts) / (SHORT_TERM_S * self.rate_hz)

    def figures(self) -> LoudnessFigures:
        """Integrated loudness, loudness range and the momentary and short-term maxima."""
        z = self.block_mean_squares()
        short = self.short_term_mean_squares()
        return LoudnessFigures(gated_lufs(z), loudness_range_lu(short[::LRA_STEP]), _max_lufs(z), _max_lufs(short))


SHORT_TERM_S = 3.0
SHORT_TERM_BLOCKS = 27  # 400 ms gating blocks at a 100 ms step from a 3 s window's start to its end
LRA_ABSOLUTE_GATE_LUFS = -70.0  # EBU Tech 3342
LRA_RELATIVE_GATE_LU = -20.0
LRA_PERCENTILES = (0.10, 0.95)
# the range is taken over windows 1 s apart (Tech 3342's least overlap, 2 s), as libebur128
# takes it; the maxima over every window, 100 ms apart (a Tech 3341 meter's 10 Hz)
LRA_STEP = 10


@dataclass(frozen=True)
class LoudnessFigures:
    """What EBU R128 asks to be known of a programme (LUFS, LU); None where it has no value
    (a programme shorter than one window, or silent)."""

    integrated_lufs: float
    range_lu: float | None
    max_momentary_lufs: float | None
    max_short_term_lufs: float | None


def _max_lufs(z: np.ndarray) -> float | None:
    """The loudest window of `z` (weighted mean squares) in LUFS; None for none or silence."""
    peak = float(z.max(initial=0.0))
    return -0.691 + 10 * math.log10(peak) if peak > 0 else None


def loudness_range_lu(short_term: np.ndarray) -> float | None:
    """EBU Tech 3342 loudness range of short-term windows' mean squares: gated at -70 LUFS,
    then 20 LU under the gated windows' mean energy; the spread between their 10th and 95th
    percentiles (nearest rank, as libebur128 takes them). None without a window over the gate."""
    with np.errstate(divide="ignore"):
        lufs = -0.691 + 10 * np.log10(np.maximum(short_term, 0))
    above = short_term[lufs >= LRA_ABSOLUTE_GATE_LUFS]
    if above.size == 0:
        return None
    relative = -0.691 + 10 * math.log10(above.mean()) + LRA_RELATIVE_GATE_LU
    kept = np.sort(above[-0.691 + 10 * np.log10(above) >= relative])
    low, high = (kept[int((kept.size - 1) * p + 0.5)] for p in LRA_PERCENTILES)
    return float(10 * math.log10(high / low))


def weighted_power(y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per frame, the channel-weighted sum of squares (float32)."""
    power = np.square(y)
    return power[:, 0] * weights[0] if y.shape[1] == 1 else power @ weights


def cumulative_at(per_block: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The sum of `per_block` (values per BLOCK frames, each spread evenly over its frames)
    before each of `frames` (float64); two frames may share a block (the programme's end can
    share one with the last gating mark before it)."""
    block = frames // BLOCK
    before = np.concatenate([[0.0], np.cumsum(per_block, dtype=np.float64)])  # [i]: the first i blocks
    out = before[np.minimum(block, per_block.size)]
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
