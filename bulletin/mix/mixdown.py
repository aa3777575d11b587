"""Mix the timeline: every placed take (and bed, ducked) summed, made a stretch (CHUNK_FRAMES)
at a time as the master writes it: an hour-long bulletin is never in memory whole, and it is
made once. What mastering needs to know of the mix comes from the takes' profiles (made once
per take, with it, and cached with it): no pass over the audio. The energies add up exactly
where takes do not overlap; the peaks are a bound (a take's block that straddles two of the
mix's counts in both). Mastering is in `master.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np

from bulletin.base.audio import Audio, with_channels
from bulletin.mix.timeline import BedPlacement, Timeline
from bulletin.sound.loudness import (
    CHANNEL_WEIGHTS,
    GATE_BLOCK_S,
    PROFILE_LEAD,
    LoudnessMeter,
    cumulative_at,
    level_and_profile,
)
from bulletin.sound.takes import Take
from bulletin.sound.truepeak import BLOCK, CHUNK_FRAMES

BED_LEVEL_DB = -14.0  # a bed's own level, relative to the level takes are made at


class Source(Protocol):
    """Audio made a stretch at a time: frames [start, stop), zeros outside the signal."""

    frames: int
    channels: int
    rate_hz: int

    def render(self, start: int, stop: int) -> np.ndarray: ...


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
        # a fitted timeline is exactly its duration long; else one frame more, for rounding
        self.frames = round(timeline.duration_s * rate_hz) + (0 if timeline.fitted else 1)
        self._items: list[tuple[int, int, Callable[[], np.ndarray]]] = []
        self._profiles: list[Callable[[], np.ndarray]] = []
        for placement in timeline.placements:
            take = takes.get(placement.segment.index)
            if take is not None:  # else a pause
                self._items.append((round(placement.start_s * rate_hz), take.frames, self._take_loader(take)))
                self._profiles.append(self._take_profile(take))
        for bed in timeline.beds:
            frames = round((bed.end_s - bed.start_s) * rate_hz)
            load = self._bed_loader(timeline, bed, beds[bed.story])
            self._items.append((round(bed.start_s * rate_hz), frames, load))
            self._profiles.append(lambda load=load: level_and_profile(load(), rate_hz, None)[1])
        self._starts = np.array([s for s, _, _ in self._items], np.int64)
        self._ends = np.array([s + n for s, n, _ in self._items], np.int64)
        self._loaded: dict[int, np.ndarray] = {}
        self._last = 0

    def analysis(self) -> tuple[LoudnessMeter, np.ndarray, np.ndarray, np.ndarray] | None:
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
        return meter, z / meter.block_frames, energies, peaks

    def _profile(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        profile = self._profiles[item]()
        return profile[0], profile[1]

    def _take_profile(self, take: Take) -> Callable[[], np.ndarray]:
        """The take's profile as mixed: a mono take in a mix of more channels is copied to each
        (`with_channels`), so its weighted energy is that of every channel it is copied to."""
        if take.channels == self.channels:
            return take.profile
        assert take.channels == 1  # the mix has as many channels as its widest take
        factor = np.array([[sum(CHANNEL_WEIGHTS[: self.channels])], [1.0]], np.float32)
        return lambda: take.profile() * factor

    def _take_loader(self, take: Take) -> Callable[[], np.ndarray]:
        return lambda: with_channels(take.audio(), self.channels).samples

    def _bed_loader(self, timeline: Timeline, bed: BedPlacement, source: Take) -> Callable[[], np.ndarray]:
        def load() -> np.ndarray:
            from bulletin.mix.timeline import bed_gain
            from bulletin.sound.builtin import loop_to

            gain = bed_gain(timeline, bed, self.rate_hz) * np.float32(10 ** (BED_LEVEL_DB / 20))
            audio = with_channels(source.audio(), self.channels)
            lead = 0
            if timeline.fitted:  # backtimed: the music's own end lands on the bed's end
                lead = -gain.size % audio.samples.shape[0]
            looped = loop_to(audio, (gain.size + lead) / self.rate_hz).samples[lead:]
            return looped[: gain.size] * gain[: looped.shape[0], None]

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


def stretches(frames: int) -> Iterable[tuple[int, int, int]]:
    """(first frame, frames, frames rounded up to whole blocks) of each stretch."""
    for at in range(0, frames, CHUNK_FRAMES):
        n = min(CHUNK_FRAMES, frames - at)
        yield at, n, -(-n // BLOCK) * BLOCK
