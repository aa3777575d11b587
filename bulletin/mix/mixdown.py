"""Mix the timeline and master it: integrated loudness to the target and a true-peak ceiling,
reached with a limiter rather than by clipping.

The mix is made a stretch (CHUNK_FRAMES) at a time, from the takes, as it is written: an
hour-long bulletin is never in memory whole, and it is made once.

1. Know the mix (stage "mix"): the K-weighted energy of every 400 ms gating block and of every
   32-frame block, and every 32-frame block's true peak. For a render these come from the
   takes' profiles (made once per take, with it, and cached with it): no pass over the audio.
   The energies add up exactly where takes do not overlap; the peaks are a bound (a take's
   block that straddles two of the mix's counts in both). Audio mastered in memory is measured.
2. Solve (stage "master"): the gain that puts the limited signal at the target. The limiter's
   gain is constant over each 32-frame block, so the loudness after it follows from the block
   energies without filtering again (measured on the example, with a quarter of the blocks
   limited: within 0.01 LU of filtering the limited mix).
3. Write (stage "encode"): gain and limiter applied, rounded to 16 bits, handed to the outputs
   (WAV, MP3), and the written samples measured exactly: the loudness and true peak of the
   file. Were the loudness off by more than LOUDNESS_TOLERANCE_LU, the gain would be corrected
   and the outputs written again (not seen in practice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bulletin.base.audio import Audio, with_channels
from bulletin.mix.timeline import BedPlacement, Timeline
from bulletin.sound.loudness import (
    BLOCK,
    CHUNK_FRAMES,
    GATE_BLOCK_S,
    PROFILE_LEAD,
    TRUE_PEAK_CONTEXT,
    LoudnessMeter,
    apply_gains,
    block_true_peaks,
    cumulative_at,
    gated_lufs,
    level_and_profile,
    limiter_gains,
)
from bulletin.sound.takes import Take

CEILING_DBTP = -1.0
# the limiter aims under the ceiling so that 16-bit rounding and MP3 coding (whose decoded
# peaks overshoot by a few tenths of a dB) stay under it
LIMITER_CEILING_DBTP = -1.8
LOUDNESS_TOLERANCE_LU = 0.1
PREDICTION_TOLERANCE_LU = 0.005  # how close the solved gain's predicted loudness must be
BED_LEVEL_DB = -14.0  # a bed's own level, relative to the level takes are made at


@dataclass(frozen=True)
class Master:
    target_lufs: float
    integrated_lufs: float  # of the samples as written (16-bit)
    true_peak_dbtp: float
    frames: int
    rate_hz: int
    gain_db: float = 0.0
    audio: Audio | None = None  # the mastered samples, when mastered in memory (`master`)

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate_hz


class Source(Protocol):
    """Audio made a stretch at a time: frames [start, stop), zeros outside the signal."""

    frames: int
    channels: int
    rate_hz: int

    def render(self, start: int, stop: int) -> np.ndarray: ...


class Sink(Protocol):
    """An output of the master: `begin` (again, to start over), `write` 16-bit frames, `end`."""

    def begin(self, frames: int, channels: int, rate_hz: int) -> None: ...

    def write(self, pcm: np.ndarray) -> None: ...

    def end(self) -> None: ...


class ArraySource:
    def __init__(self, audio: Audio) -> None:
        self.samples = np.asarray(audio.samples, np.float32)
        self.frames, self.channels = self.samples.shape
        self.rate_hz = audio.rate_hz

    def render(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros((stop - start, self.channels), np.float32)
        lo, hi = max(start, 0), min(stop, self.frames)
        if hi > lo:
            out[lo - start : hi - start] = self.samples[lo:hi]
        return out


class Mixdown:
    """The timeline's mix, made on demand: every placed take (and bed, ducked) summed. Takes
    are read when a stretch first needs them and let go once it is past them."""

    def __init__(self, timeline: Timeline, takes: dict[int, Take], beds: dict[int, Take], rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self.channels = max([t.channels for t in [*takes.values(), *beds.values()]] or [1])
        self.frames = round(timeline.duration_s * rate_hz) + 1
        self._items: list[tuple[int, int, Callable[[], np.ndarray]]] = []
        self._profiles: list[Callable[[], np.ndarray]] = []
        for placement in timeline.placements:
            take = takes.get(placement.segment.index)
            if take is not None:  # else a pause
                self._items.append((round(placement.start_s * rate_hz), take.frames, self._take_loader(take)))
                self._profiles.append(take.profile)
        for bed in timeline.beds:
            frames = round((bed.end_s - bed.start_s) * rate_hz)
            load = self._bed_loader(timeline, bed, beds[bed.story])
            self._items.append((round(bed.start_s * rate_hz), frames, load))
            self._profiles.append(lambda load=load: level_and_profile(load(), rate_hz, None)[1])
        self._starts = np.array([s for s, _, _ in self._items], np.int64)
        self._ends = np.array([s + n for s, n, _ in self._items], np.int64)
        self._loaded: dict[int, np.ndarray] = {}
        self._last = 0

    def analysis(self) -> _Analysis | None:
        """What mastering needs to know of the mix, from its takes' profiles (no pass over the
        audio): per block, the K-weighted energy (the takes' energies added: exact where takes
        do not overlap) and a bound on the true peak (the takes' peaks added, each over the
        blocks it touches), and the 400 ms blocks' energies. None for a mix too short to gate."""
        rate = self.rate_hz
        if self.frames < int(GATE_BLOCK_S * rate):
            return None
        blocks = -(-self.frames // BLOCK)
        energies = np.zeros(blocks, np.float32)
        peaks = np.zeros(blocks, np.float32)
        for i, (start, _, _) in enumerate(self._items):
            energy, peak = self._profile(i)
            first = start - PROFILE_LEAD
            block, offset = first // BLOCK, first % BLOCK
            # a take's block straddles two of the mix's when it does not start on a block edge
            spans = [(energy * ((BLOCK - offset) / BLOCK), block)]
            if offset:
                spans.append((energy * (offset / BLOCK), block + 1))
                peak = np.maximum(np.append(peak, 0), np.insert(peak, 0, 0))
            for values, at in spans:
                _add_clipped(energies, values, at)
            _add_clipped(peaks, peak, block)
        meter = LoudnessMeter(rate, self.channels, self.frames)
        at_marks = cumulative_at(energies, meter.marks)
        z = (at_marks[np.searchsorted(meter.marks, meter.ends)] - at_marks[np.searchsorted(meter.marks, meter.starts)])
        return _Analysis(meter, z / (GATE_BLOCK_S * rate), energies, peaks)

    def _profile(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        profile = self._profiles[item]()
        return profile[0], profile[1]

    def _take_loader(self, take: Take) -> Callable[[], np.ndarray]:
        return lambda: with_channels(take.audio(), self.channels).samples

    def _bed_loader(self, timeline: Timeline, bed: BedPlacement, source: Take) -> Callable[[], np.ndarray]:
        def load() -> np.ndarray:
            from bulletin.mix.timeline import bed_gain
            from bulletin.sound.builtin import loop_to

            gain = bed_gain(timeline, bed, self.rate_hz) * np.float32(10 ** (BED_LEVEL_DB / 20))
            looped = loop_to(with_channels(source.audio(), self.channels), bed.end_s - bed.start_s)
            return looped.samples[: gain.size] * gain[: looped.samples.shape[0], None]

        return load

    def render(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros((stop - start, self.channels), np.float32)
        if start < self._last:
            self._loaded.clear()  # a new pass from the beginning
        self._last = start
        for i in list(self._loaded):
            if self._ends[i] <= start:
                del self._loaded[i]
        for i in np.flatnonzero((self._starts < stop) & (self._ends > start)):
            begin = int(self._starts[i])
            if i not in self._loaded:
                self._loaded[i] = self._items[i][2]()
            samples = self._loaded[i]
            lo, hi = max(start, begin, 0), min(stop, begin + samples.shape[0], self.frames)
            if hi > lo:
                out[lo - start : hi - start] += samples[lo - begin : hi - begin]
        return out


def _add_clipped(out: np.ndarray, values: np.ndarray, at: int) -> None:
    """out[at : at + len(values)] += values, the part inside `out`."""
    lo, hi = max(at, 0), min(at + values.size, out.size)
    if hi > lo:
        out[lo:hi] += values[lo - at : hi - at]


def mix(timeline: Timeline, takes: dict[int, Take], beds: dict[int, Take], rate_hz: int) -> Audio:
    """The whole mix in memory (for short pieces; `master_to` makes it a stretch at a time)."""
    mixdown = Mixdown(timeline, takes, beds, rate_hz)
    return Audio(mixdown.render(0, mixdown.frames), rate_hz)


def _stretches(frames: int) -> Iterable[tuple[int, int, int]]:
    """(first frame, frames, frames rounded up to whole blocks) of each stretch."""
    for at in range(0, frames, CHUNK_FRAMES):
        n = min(CHUNK_FRAMES, frames - at)
        yield at, n, -(-n // BLOCK) * BLOCK


def _next_gain(tried: list[tuple[float, float]], target_lufs: float) -> float:
    """Secant step on loudness(gain): the limiter makes each dB of gain worth less than a dB of
    loudness, so plain steps of (target - measured) creep up on the target."""
    gain, measured = tried[-1]
    slope = 1.0
    if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
        slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
        slope = min(max(slope, 0.2), 1.0)
    return gain + (target_lufs - measured) / slope


class _Analysis:
    """What mastering knows of the mix before writing it: the 400 ms blocks' mean squares (z)
    and, per block of BLOCK frames, the K-weighted energy and the true peak (or a bound on it):
    enough to predict the loudness after gain and limiter."""

    def __init__(self, meter: LoudnessMeter, z: np.ndarray, energies: np.ndarray, peaks: np.ndarray,
                 bound: bool = True) -> None:
        self.meter, self.z, self.energies, self.peaks = meter, z, energies, peaks
        self.unlimited = gated_lufs(z)
        self.bound = bound  # the peaks are a bound from the takes' profiles, not measured

    @classmethod
    def measured(cls, meter: LoudnessMeter, peaks: np.ndarray) -> _Analysis:
        assert meter.energies is not None
        analysis = cls(meter, meter.block_mean_squares(), meter.energies, peaks, bound=False)
        analysis.unlimited = meter.integrated_lufs()  # the short-audio fallback included
        return analysis

    def predict(self, gain_db: float) -> tuple[float, np.ndarray]:
        """The integrated loudness after `gain_db` and the limiter, and the limiter's gains."""
        raise_by = 10 ** (gain_db / 20)
        gains = limiter_gains(self.peaks, raise_by, 10 ** (LIMITER_CEILING_DBTP / 20), self.meter.rate_hz)
        if gains.min(initial=1.0) >= 1:
            return self.unlimited + gain_db, gains
        # the energy the limiter takes out of each block, at unit gain
        removed = gains * gains
        np.subtract(1, removed, out=removed)
        removed *= self.energies
        at = cumulative_at(removed, self.meter.marks)
        at_start = at[np.searchsorted(self.meter.marks, self.meter.starts)]
        at_end = at[np.searchsorted(self.meter.marks, self.meter.ends)]
        z = raise_by**2 * (self.z - (at_end - at_start) / (GATE_BLOCK_S * self.meter.rate_hz))
        return gated_lufs(z), gains

    def solve(self, target_lufs: float, offset: float = 0.0) -> tuple[float, np.ndarray, float]:
        """The gain whose predicted loudness (+ `offset`) is the target: (gain, gains, predicted)."""
        gain_db = target_lufs - self.unlimited
        tried: list[tuple[float, float]] = []
        for _ in range(30):
            predicted, gains = self.predict(gain_db)
            predicted += offset
            if abs(predicted - target_lufs) <= PREDICTION_TOLERANCE_LU:
                break
            tried.append((gain_db, predicted))
            gain_db = _next_gain(tried, target_lufs)
        return gain_db, gains, predicted


def master_to(source: Source, target_lufs: float, sinks: list[Sink],
              on_stage: Callable[[str], None] = lambda stage: None) -> Master:
    """Master `source` into `sinks`: loudness to `target_lufs` within LOUDNESS_TOLERANCE_LU, true
    peak under the ceiling, 16-bit. Measures the samples as written."""
    rate, frames = source.rate_hz, source.frames
    on_stage("mix")
    analysis = source.analysis() if isinstance(source, Mixdown) else None
    if analysis is None:
        analysis = _measure(source)
    on_stage("master")
    if not np.isfinite(analysis.unlimited):  # silence: written as it is
        gain_db, gains, predicted = 0.0, np.ones(analysis.peaks.size, np.float32), analysis.unlimited
    else:
        gain_db, gains, predicted = analysis.solve(target_lufs)
    on_stage("encode")
    for _ in range(4):
        measured, peak_dbtp = _write(source, gain_db, gains, sinks)
        if peak_dbtp > CEILING_DBTP and analysis.bound:
            # the takes' profiles did not hold what was mixed (never seen): measure the mix
            analysis = _measure(source)
            gain_db, gains, predicted = analysis.solve(target_lufs)
            continue
        if not np.isfinite(measured) or abs(measured - target_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
        gain_db, gains, predicted = analysis.solve(target_lufs, offset=measured - predicted)
    return Master(target_lufs, measured, peak_dbtp, frames, rate, gain_db)


def _measure(source: Source) -> _Analysis:
    """Measure the mix itself: one pass over it."""
    frames = source.frames
    meter = LoudnessMeter(source.rate_hz, source.channels, frames, block_energies=True)
    peaks = np.zeros(-(-frames // BLOCK), np.float32)
    with _Beside() as metering:
        for at, n, whole in _stretches(frames):
            x = source.render(at - TRUE_PEAK_CONTEXT, at + whole + TRUE_PEAK_CONTEXT)
            metering.run(meter.add, x[TRUE_PEAK_CONTEXT : TRUE_PEAK_CONTEXT + n])
            peaks[at // BLOCK : (at + whole) // BLOCK] = block_true_peaks(x)
    return _Analysis.measured(meter, peaks)


class _Beside:
    """Calls run in order on one thread beside this one (the meter's FFTs let go of the GIL),
    a few at most waiting; their errors come out when the block ends."""

    WAITING = 3

    def __enter__(self) -> _Beside:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="meter")
        self.pending: list = []
        return self

    def run(self, call: Callable, *args: object) -> None:
        self.pending.append(self.pool.submit(call, *args))
        while len(self.pending) > self.WAITING:
            self.pending.pop(0).result()

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        try:
            if kind is None:
                for future in self.pending:
                    future.result()
        finally:
            for future in self.pending:
                future.cancel()
            self.pool.shutdown(wait=True)


def _write(source: Source, gain_db: float, gains: np.ndarray, sinks: list[Sink]) -> tuple[float, float]:
    """One pass writing the mastered samples to `sinks`: their loudness and true peak."""
    rate, frames, channels = source.rate_hz, source.frames, source.channels
    raise_by = 10 ** (gain_db / 20)
    for sink in sinks:
        sink.begin(frames, channels, rate)
    try:
        return _write_pass(source, raise_by, gains, sinks)
    except BaseException:
        for sink in sinks:
            abandon = getattr(sink, "abandon", None)
            if abandon is not None:
                abandon()
        raise


def _write_pass(source: Source, raise_by: float, gains: np.ndarray, sinks: list[Sink]) -> tuple[float, float]:
    rate, frames, channels = source.rate_hz, source.frames, source.channels
    meter = LoudnessMeter(rate, channels, frames)
    peak = 0.0
    with _Beside() as metering:
        for at, n, whole in _stretches(frames):
            x = source.render(at - TRUE_PEAK_CONTEXT, at + whole + TRUE_PEAK_CONTEXT)
            pcm = np.round(np.clip(apply_gains(x, at - TRUE_PEAK_CONTEXT, raise_by, gains), -1, 32767 / 32768) * 32768)
            written = pcm * np.float32(1 / 32768)
            inner = slice(TRUE_PEAK_CONTEXT, TRUE_PEAK_CONTEXT + n)
            metering.run(meter.add, written[inner])
            pcm16 = pcm[inner].astype(np.int16)
            for sink in sinks:
                sink.write(pcm16)
            # only the loudest peak is wanted: blocks 3 dB under the loudest so far cannot hold it
            peak = max(peak, float(block_true_peaks(written, floor=peak).max(initial=0.0)))
    for sink in sinks:
        sink.end()
    return meter.integrated_lufs(), (20 * np.log10(peak) if peak > 0 else float("-inf"))


class MemorySink:
    """The written samples, kept (float32, as the file holds them)."""

    def begin(self, frames: int, channels: int, rate_hz: int) -> None:
        self.samples = np.zeros((frames, channels), np.float32)
        self.rate_hz = rate_hz
        self.at = 0

    def write(self, pcm: np.ndarray) -> None:
        self.samples[self.at : self.at + pcm.shape[0]] = pcm * np.float32(1 / 32768)
        self.at += pcm.shape[0]

    def end(self) -> None:
        pass


def master(audio: Audio, target_lufs: float) -> Master:
    """Master audio in memory (see `master_to`); the result holds the samples as written."""
    sink = MemorySink()
    result = master_to(ArraySource(audio), target_lufs, [sink])
    return Master(result.target_lufs, result.integrated_lufs, result.true_peak_dbtp, result.frames,
                  result.rate_hz, result.gain_db, Audio(sink.samples, audio.rate_hz))
