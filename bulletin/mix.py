"""Mix the timeline to one buffer at the output rate, then master it: integrated loudness to
the target and a true-peak ceiling, reached with a limiter rather than by clipping."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bulletin.audio import Audio, with_channels
from bulletin.loudness import integrated_lufs, limit, oversampled_peaks, true_peak_dbtp
from bulletin.sounds import loop_to
from bulletin.timeline import Timeline, bed_gain

CEILING_DBTP = -1.0
# the limiter aims under the ceiling so that 16-bit rounding and MP3 coding (whose decoded
# peaks overshoot by a few tenths of a dB) stay under it
LIMITER_CEILING_DBTP = -1.8
LOUDNESS_TOLERANCE_LU = 0.1
BED_LEVEL_DB = -14.0  # a bed's own level, relative to the level takes are made at


@dataclass(frozen=True)
class Master:
    audio: Audio
    target_lufs: float
    integrated_lufs: float
    true_peak_dbtp: float


def _next_gain(tried: list[tuple[float, float]], target_lufs: float) -> float:
    """Secant step on loudness(gain): the limiter makes each dB of gain worth less than a dB of
    loudness, so plain steps of (target - measured) creep up on the target."""
    gain, measured = tried[-1]
    slope = 1.0
    if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
        slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
        slope = min(max(slope, 0.2), 1.0)
    return gain + (target_lufs - measured) / slope


def mix(timeline: Timeline, takes: dict[int, Audio], beds: dict[int, Audio], rate_hz: int) -> Audio:
    """Every placed take (and bed, ducked) summed into one (frames, channels) buffer."""
    sources = [*takes.values(), *beds.values()]
    channels = max([a.channels for a in sources] or [1])
    out = np.zeros((round(timeline.duration_s * rate_hz) + 1, channels), np.float32)
    for placement in timeline.placements:
        take = takes.get(placement.segment.index)
        if take is None:
            continue  # a pause
        _add(out, with_channels(take, channels).samples, round(placement.start_s * rate_hz))
    for bed in timeline.beds:
        gain = bed_gain(timeline, bed, rate_hz) * np.float32(10 ** (BED_LEVEL_DB / 20))
        looped = loop_to(with_channels(beds[bed.story], channels), bed.end_s - bed.start_s)
        _add(out, looped.samples[: gain.size] * gain[: looped.samples.shape[0], None], round(bed.start_s * rate_hz))
    return Audio(out, rate_hz)


def _add(out: np.ndarray, samples: np.ndarray, start: int) -> None:
    end = min(start + samples.shape[0], out.shape[0])
    out[start:end] += samples[: end - start]


def master(audio: Audio, target_lufs: float) -> Master:
    """Loudness to `target_lufs` within 0.1 LU and true peak under the ceiling.

    Gain moves the loudness, the limiter then takes the peaks down (which lowers loudness a
    little), so repeat on the unlimited signal with the corrected gain until both hold.
    """
    lufs = integrated_lufs(audio)
    if not np.isfinite(lufs):
        return Master(audio, target_lufs, lufs, true_peak_dbtp(audio))
    gain_db = target_lufs - lufs
    exact_to_db = -np.inf  # the largest gain the peaks below are exact for
    tried: list[tuple[float, float]] = []  # (gain, loudness measured)
    for _ in range(8):
        if gain_db > exact_to_db:
            # peaks scale with the gain, so find them once for any gain up to 3 dB over this
            # one (the limiter seldom costs more than that)
            exact_to_db = gain_db + 3
            peaks = oversampled_peaks(audio.samples, 10 ** ((LIMITER_CEILING_DBTP - exact_to_db) / 20))
        limited = limit(audio, LIMITER_CEILING_DBTP, gain_db, peaks)
        # measure the file as it will be written: 16-bit
        pcm = np.round(np.clip(limited.samples, -1, 32767 / 32768) * 32768) / 32768
        written = Audio(pcm.astype(np.float32), audio.rate_hz)
        measured = integrated_lufs(written)
        if abs(measured - target_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
        tried.append((gain_db, measured))
        gain_db = _next_gain(tried, target_lufs)
    return Master(written, target_lufs, measured, true_peak_dbtp(written))
