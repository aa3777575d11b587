"""Loudness (ITU-R BS.1770 via pyloudnorm), true peak (4x oversampling) and a true-peak
limiter: the measurements and processors that mastering and take levelling share."""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d
from scipy.signal import firwin

from bulletin.audio import Audio

OVERSAMPLE = 4
LIMITER_LOOKAHEAD_S = 0.002
LIMITER_HOLD_S = 0.020


def integrated_lufs(audio: Audio) -> float:
    """BS.1770 integrated loudness; for audio shorter than one 400 ms gating block, the
    K-weighted-free RMS estimate (close enough to level a one-word take)."""
    import pyloudnorm

    if audio.duration_s >= 0.5:
        with np.errstate(divide="ignore"):
            value = pyloudnorm.Meter(audio.rate_hz).integrated_loudness(audio.samples.astype(np.float64))
        if np.isfinite(value):
            return float(value)
    power = float(np.mean(np.square(audio.samples, dtype=np.float64)) * audio.channels)
    return -0.691 + 10 * np.log10(power) if power > 0 else float("-inf")


def level_to(audio: Audio, target_lufs: float) -> Audio:
    """Scale (no limiting) so the integrated loudness is `target_lufs`; silence stays silence."""
    lufs = integrated_lufs(audio)
    if not np.isfinite(lufs):
        return audio
    return Audio(audio.samples * np.float32(10 ** ((target_lufs - lufs) / 20)), audio.rate_hz)


@cache
def _phases() -> np.ndarray:
    """The 4x interpolation filter as 4 polyphase branches of 12 taps (the shape BS.1770-4
    Annex 2 uses: a 48-tap low-pass at a quarter of the oversampled band)."""
    taps = firwin(12 * OVERSAMPLE, 1 / OVERSAMPLE, window=("kaiser", 8.0)) * OVERSAMPLE
    return taps.reshape(12, OVERSAMPLE).T.astype(np.float32)


def _oversampled_peaks(samples: np.ndarray, floor: float) -> np.ndarray:
    """Per input frame, the largest absolute value of the 4x oversampled signal (all channels),
    exact wherever it could reach `floor`; elsewhere the sample peak, which is then also below.

    Interpolating only where the filter's gain bound allows a value above `floor` keeps this
    cheap: an interpolated value is at most the filter's L1 norm times the nearby sample peak.
    """
    phases = _phases()
    width = phases.shape[1]
    peaks = np.abs(samples).max(axis=1)
    bound = maximum_filter1d(peaks, size=width, mode="constant") * float(np.abs(phases).sum(axis=1).max())
    frames = np.flatnonzero(bound >= floor)
    if frames.size == 0:
        return peaks
    padded = np.pad(samples, ((width // 2, width // 2), (0, 0)))
    windows = padded[frames[:, None] + np.arange(width)]  # (frames, taps, channels)
    interpolated = np.abs(np.einsum("ftc,pt->fpc", windows, phases[:, ::-1])).max(axis=(1, 2))
    peaks[frames] = np.maximum(peaks[frames], interpolated)
    return peaks


def true_peak_dbtp(audio: Audio) -> float:
    if audio.samples.size == 0:
        return float("-inf")
    sample_peak = float(np.abs(audio.samples).max())
    peak = float(_oversampled_peaks(audio.samples, sample_peak).max())
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def limit(audio: Audio, ceiling_dbtp: float) -> Audio:
    """Look-ahead true-peak limiter: the gain falls smoothly before every overshooting peak and
    recovers after a short hold, so no sample exceeds the ceiling and nothing is clipped.

    The gain is the least gain needed anywhere within look-ahead + hold of a frame, averaged
    over +-look-ahead: every value averaged at a peak is at most what that peak needs.
    """
    ceiling = 10 ** (ceiling_dbtp / 20)
    peaks = _oversampled_peaks(audio.samples, ceiling)
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if needed.min() >= 1.0:
        return audio
    lookahead = max(1, round(LIMITER_LOOKAHEAD_S * audio.rate_hz))
    hold = round(LIMITER_HOLD_S * audio.rate_hz)
    floor = minimum_filter1d(needed, size=2 * (lookahead + hold) + 1, mode="nearest")
    gain = uniform_filter1d(floor, size=2 * lookahead + 1, mode="nearest")
    return Audio((audio.samples * gain[:, None]).astype(np.float32), audio.rate_hz)
