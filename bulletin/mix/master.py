"""Master the mix: integrated loudness to the target and a true-peak ceiling, reached with the
look-ahead limiter rather than by clipping, written a stretch at a time to the outputs.

1. Know the mix (stage "mix", `Mixdown.analysis` or `measure`): the K-weighted energy of every
   400 ms gating block and of every BLOCK frames, and every block's true peak.
2. Solve (stage "master"): the gain that puts the limited signal at the target. The limiter's
   gain is constant over each block, so the loudness after it follows from the block energies
   without filtering again (within 0.01 LU of filtering the limited mix, measured). Loudness
   rises with the gain, ever more slowly as the limiter takes more off; the gain is found by
   bisection between the unlimited gain and the gain where the limiter takes MAX_LIMITING_LU.
   A target past that is out of reach for this material: refused before anything is written,
   or (best effort) mastered as loud as the limit allows, and said so.
3. Write (stage "encode"): gain and limiter applied, rounded to 16 bits, handed to the outputs
   (WAV, MP3), and the written samples measured exactly: the loudness and true peak of the file.
   Were the loudness off by more than LOUDNESS_TOLERANCE_LU, the gain is corrected and the
   outputs written again; a master that still misses is an error, never a file.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bulletin.base.audio import Audio, to_pcm16
from bulletin.base.errors import BulletinError
from bulletin.mix.limiter import apply_gains, limiter_gains
from bulletin.mix.mixdown import ArraySource, Mixdown, Source, stretches
from bulletin.sound.loudness import LoudnessFigures, LoudnessMeter, cumulative_at, gated_lufs
from bulletin.sound.truepeak import BLOCK, TRUE_PEAK_CONTEXT, block_true_peaks

CEILING_DBTP = -1.0
# the limiter aims under the ceiling so that 16-bit rounding and MP3 coding (whose decoded
# peaks overshoot by a few tenths of a dB) stay under it
LIMITER_CEILING_DBTP = -1.8
LOUDNESS_TOLERANCE_LU = 0.1
PREDICTION_TOLERANCE_LU = 0.005  # how close the solved gain's predicted loudness must be
# a target the limit on limiting leaves at most this far out of reach is met there: the file is
# still within LOUDNESS_TOLERANCE_LU of it (a short bulletin, mostly silence around its speech,
# was refused "-16 is out of reach ... reaches -16.0 LUFS at most")
NEAR_ENOUGH_LU = LOUDNESS_TOLERANCE_LU / 2
# The most loudness the limiter may take off the programme (the gain's worth minus what it
# buys). Past it, on speech, each further dB of gain buys about 0.1 LU (measured on the
# example and on a story with a bed), and the quiet parts the limiter leaves alone (beds in
# pauses, breaths) rise towards the speech it holds down.
MAX_LIMITING_LU = 10.0
WRITE_PASSES = 3
_MAX_SEARCH_DB = 64.0  # the bracket's widest reach above the unlimited gain


class Sink(Protocol):
    """An output of the master: `begin` (again, to start over), `write` 16-bit frames, `end`."""

    def begin(self, frames: int, channels: int, rate_hz: int) -> None: ...

    def write(self, pcm: np.ndarray) -> None: ...

    def end(self) -> None: ...


@dataclass(frozen=True)
class Master:
    target_lufs: float
    integrated_lufs: float  # of the samples as written (16-bit)
    true_peak_dbtp: float
    frames: int
    rate_hz: int
    gain_db: float = 0.0
    audio: Audio | None = None  # the mastered samples, when mastered in memory (`master`)
    reachable_lufs: float | None = None  # the target was out of reach: the most this material allows
    figures: LoudnessFigures | None = None  # range and maxima of the samples as written (EBU R128)

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate_hz

    @property
    def target_met(self) -> bool:
        return abs(self.integrated_lufs - self.target_lufs) <= LOUDNESS_TOLERANCE_LU


class LoudnessOutOfReach(BulletinError):
    """The target is louder than the true-peak ceiling allows for this material."""

    def __init__(self, target_lufs: float, reachable_lufs: float) -> None:
        self.target_lufs, self.reachable_lufs = target_lufs, reachable_lufs
        super().__init__(out_of_reach(target_lufs, reachable_lufs)
                         + "; ask for less, or pass --loudness-best-effort")


def out_of_reach(target_lufs: float, reachable_lufs: float) -> str:
    """Why a target was not met, in one line (for the error and the cue sheet)."""
    return (f"loudness {target_lufs:g} LUFS is out of reach: under the {CEILING_DBTP:.1f} dBTP ceiling "
            f"this material reaches {reachable_lufs:.1f} LUFS at most (the limiter may take {MAX_LIMITING_LU:g} LU)")


@dataclass(frozen=True)
class _Solution:
    gain_db: float
    gains: np.ndarray  # the limiter's, per block
    predicted_lufs: float
    reachable_lufs: float | None = None  # set when the target is out of reach


class Analysis:
    """What mastering knows of the mix before writing it: the 400 ms blocks' mean squares (z)
    and, per block of BLOCK frames, the K-weighted energy and the true peak (or a bound on it):
    enough to predict the loudness after gain and limiter."""

    def __init__(self, meter: LoudnessMeter, z: np.ndarray, energies: np.ndarray, peaks: np.ndarray,
                 bound: bool = True) -> None:
        self.meter, self.z, self.energies, self.peaks = meter, z, energies, peaks
        self.unlimited = gated_lufs(z)
        self.bound = bound  # the peaks are a bound from the takes' profiles, not measured
        self.ceiling_dbtp = LIMITER_CEILING_DBTP  # the limiter's, lowered where an MP3 overshoots

    @classmethod
    def measured(cls, meter: LoudnessMeter, peaks: np.ndarray) -> Analysis:
        assert meter.energies is not None
        return cls(meter, meter.block_mean_squares(), meter.energies, peaks, bound=False)

    def predict(self, gain_db: float) -> tuple[float, np.ndarray]:
        """The integrated loudness after `gain_db` and the limiter, and the limiter's gains."""
        raise_by = 10 ** (gain_db / 20)
        gains = limiter_gains(self.peaks, raise_by, 10 ** (self.ceiling_dbtp / 20), self.meter.rate_hz)
        if gains.min(initial=1.0) >= 1:
            return self.unlimited + gain_db, gains
        # the energy each gating block keeps, summed from what each BLOCK keeps (not the
        # energy taken out subtracted from the block's: under heavy limiting that difference
        # of two near-equal sums loses the few digits that are left)
        kept = gains * gains
        kept *= self.energies
        at = cumulative_at(kept, self.meter.marks)
        at_start = at[np.searchsorted(self.meter.marks, self.meter.starts)]
        at_end = at[np.searchsorted(self.meter.marks, self.meter.ends)]
        return gated_lufs(raise_by**2 * (at_end - at_start) / self.meter.block_frames), gains

    def limiting_lu(self, gain_db: float, predicted_lufs: float) -> float:
        """How much loudness the limiter takes off at `gain_db`."""
        return self.unlimited + gain_db - predicted_lufs

    def solve(self, target_lufs: float, offset: float = 0.0) -> _Solution:
        """The gain whose predicted loudness (+ `offset`) is the target, or, where the target is
        out of reach, the loudest the limit on limiting allows."""
        low = target_lufs - self.unlimited - offset  # limiting only takes away: at or under the target
        found = self._at(low, offset)
        if found.predicted_lufs >= target_lufs - PREDICTION_TOLERANCE_LU:
            return found
        start, step = low, 1.0
        while True:  # widen until the target or the limit on limiting is passed
            high = min(start + step, start + _MAX_SEARCH_DB)
            upper = self._at(high, offset)
            over_limit = self.limiting_lu(high, upper.predicted_lufs - offset) > MAX_LIMITING_LU
            if upper.predicted_lufs >= target_lufs or over_limit or high >= start + _MAX_SEARCH_DB:
                break
            low, step = high, step * 2
        if over_limit:  # the most the limiter may do is between low and high
            limit = self._bisect(low, high, lambda s: self.limiting_lu(s.gain_db, s.predicted_lufs - offset) - MAX_LIMITING_LU, offset)
            if limit.predicted_lufs < target_lufs - NEAR_ENOUGH_LU:
                return _Solution(limit.gain_db, limit.gains, limit.predicted_lufs, limit.predicted_lufs)
            if limit.predicted_lufs < target_lufs - PREDICTION_TOLERANCE_LU:
                return limit  # the most the limiter may do lands within the tolerance: the target is met
            high = limit.gain_db
        elif upper.predicted_lufs < target_lufs:  # the loudness no longer rises with the gain
            reachable = upper.predicted_lufs if upper.predicted_lufs < target_lufs - NEAR_ENOUGH_LU else None
            return _Solution(upper.gain_db, upper.gains, upper.predicted_lufs, reachable)
        return self._bisect(low, high, lambda s: s.predicted_lufs - target_lufs, offset)

    def _at(self, gain_db: float, offset: float) -> _Solution:
        predicted, gains = self.predict(gain_db)
        return _Solution(gain_db, gains, predicted + offset)

    def _bisect(self, low: float, high: float, error: Callable[[_Solution], float], offset: float) -> _Solution:
        """The gain in [low, high] where `error` (rising with the gain) crosses zero."""
        for _ in range(40):
            middle = self._at((low + high) / 2, offset)
            miss = error(middle)
            if abs(miss) <= PREDICTION_TOLERANCE_LU or high - low < 1e-4:
                break
            low, high = (low, middle.gain_db) if miss > 0 else (middle.gain_db, high)
        return middle


def master_to(source: Source, target_lufs: float, sinks: list[Sink],
              on_stage: Callable[[str], None] = lambda stage: None, best_effort: bool = False) -> Master:
    """Master `source` into `sinks`: loudness to `target_lufs` within LOUDNESS_TOLERANCE_LU, true
    peak under the ceiling, 16-bit; measures the samples as written. A target out of reach is
    LoudnessOutOfReach before anything is written, unless `best_effort`."""
    on_stage("mix")
    known = source.analysis() if isinstance(source, Mixdown) else None
    analysis = Analysis(*known) if known is not None else measure(source)
    on_stage("master")
    if not np.isfinite(analysis.unlimited):
        raise BulletinError("the bulletin is silent (every block under the -70 LUFS gate): there is nothing to master")
    solution = analysis.solve(target_lufs)
    if solution.reachable_lufs is not None and not best_effort:
        raise LoudnessOutOfReach(target_lufs, solution.reachable_lufs)
    on_stage("encode")
    offset = 0.0  # how far the written loudness was from the prediction
    for _ in range(WRITE_PASSES):
        figures, peak_dbtp = _write(source, solution.gain_db, solution.gains, sinks)
        measured = figures.integrated_lufs
        coded_dbtp = max([getattr(sink, "true_peak_dbtp", float("-inf")) for sink in sinks])  # a decoded MP3's
        aim = solution.reachable_lufs if solution.reachable_lufs is not None else target_lufs
        landed = abs(measured - aim) <= LOUDNESS_TOLERANCE_LU / 2 or solution.reachable_lufs is not None
        if max(peak_dbtp, coded_dbtp) <= CEILING_DBTP and landed:
            break
        if coded_dbtp > CEILING_DBTP:
            # the MP3's coding overshot by more than the limiter's margin: limit that much lower
            analysis.ceiling_dbtp -= coded_dbtp - CEILING_DBTP + 0.1
        elif analysis.bound:
            # the takes' profiles did not hold what was mixed (not seen since mono takes in a
            # stereo mix are counted in both channels): measure the mix itself
            analysis, offset = measure(source), 0.0
        else:
            offset = measured - (solution.predicted_lufs - offset)
        solution = analysis.solve(target_lufs, offset)
        if solution.reachable_lufs is not None and not best_effort:
            raise LoudnessOutOfReach(target_lufs, solution.reachable_lufs)
    reachable = solution.reachable_lufs
    if max(peak_dbtp, coded_dbtp) > CEILING_DBTP or (reachable is None and abs(measured - target_lufs) > LOUDNESS_TOLERANCE_LU):
        raise BulletinError(f"mastering failed: {measured:.2f} LUFS, {max(peak_dbtp, coded_dbtp):.2f} dBTP after "
                            f"{WRITE_PASSES} passes (target {target_lufs:g} LUFS, ceiling {CEILING_DBTP:g} dBTP)")
    return Master(target_lufs, measured, peak_dbtp, source.frames, source.rate_hz, solution.gain_db,
                  reachable_lufs=None if reachable is None else measured, figures=figures)


def measure(source: Source) -> Analysis:
    """Measure the mix itself: one pass over it."""
    frames = source.frames
    meter = LoudnessMeter(source.rate_hz, source.channels, frames, block_energies=True)
    peaks = np.zeros(-(-frames // BLOCK), np.float32)
    with _Beside() as metering:
        for at, n, whole in stretches(frames):
            x = source.render(at - TRUE_PEAK_CONTEXT, at + whole + TRUE_PEAK_CONTEXT)
            metering.run(meter.add, x[TRUE_PEAK_CONTEXT : TRUE_PEAK_CONTEXT + n])
            peaks[at // BLOCK : (at + whole) // BLOCK] = block_true_peaks(x)
    return Analysis.measured(meter, peaks)


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


def _write(source: Source, gain_db: float, gains: np.ndarray, sinks: list[Sink]) -> tuple[LoudnessFigures, float]:
    """One pass writing the mastered samples to `sinks`: their loudness figures and true peak."""
    for sink in sinks:
        sink.begin(source.frames, source.channels, source.rate_hz)
    try:
        return _write_pass(source, 10 ** (gain_db / 20), gains, sinks)
    except BaseException:
        for sink in sinks:
            abandon = getattr(sink, "abandon", None)
            if abandon is not None:
                abandon()
        raise


def _write_pass(source: Source, raise_by: float, gains: np.ndarray, sinks: list[Sink]) -> tuple[LoudnessFigures, float]:
    meter = LoudnessMeter(source.rate_hz, source.channels, source.frames)
    peak = 0.0
    with _Beside() as metering:
        for at, n, whole in stretches(source.frames):
            x = source.render(at - TRUE_PEAK_CONTEXT, at + whole + TRUE_PEAK_CONTEXT)
            pcm = to_pcm16(apply_gains(x, at - TRUE_PEAK_CONTEXT, raise_by, gains))
            written = pcm * np.float32(1 / 32768)
            metering.run(meter.add, written[TRUE_PEAK_CONTEXT : TRUE_PEAK_CONTEXT + n])
            for sink in sinks:
                sink.write(pcm[TRUE_PEAK_CONTEXT : TRUE_PEAK_CONTEXT + n])
            # only the loudest peak is wanted: blocks 3 dB under the loudest so far cannot hold it
            peak = max(peak, float(block_true_peaks(written, floor=peak).max(initial=0.0)))
    for sink in sinks:
        sink.end()
    return meter.figures(), (20 * np.log10(peak) if peak > 0 else float("-inf"))


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


def master(audio: Audio, target_lufs: float, best_effort: bool = False) -> Master:
    """Master audio in memory (see `master_to`); the result holds the samples as written."""
    sink = MemorySink()
    result = master_to(ArraySource(audio), target_lufs, [sink], best_effort=best_effort)
    return Master(result.target_lufs, result.integrated_lufs, result.true_peak_dbtp, result.frames,
                  result.rate_hz, result.gain_db, Audio(sink.samples, audio.rate_hz), result.reachable_lufs,
                  result.figures)
