"""Effects on speech takes: `none`, `phone` (a telephone line) and `field` (recorded outside).

Each effect maps Audio to Audio of the same rate, channels and length, in
float32, at roughly the input's level (the master sets the loudness later).
Filters are scipy.signal designs run as second-order sections. Everything is
deterministic, noise included, because takes are cached by their content.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.script.story import EFFECTS

# A telephone channel passes 300 to 3,400 Hz (ITU-T G.712). The top edge is what
# makes a voice sound like a phone, so it is an elliptic filter with a steep skirt
# (60 dB down at 3,500 Hz). The bottom edge is a gentle Butterworth (two passes: 24 dB
# an octave below 300 Hz): a steep one leaves a man's voice only its 4th and higher
# harmonics, and pitch trackers then hear him at 300-370 Hz, as a woman (pYIN read
# Piper joe, 89 Hz, at 362 Hz through an 8th-order elliptic), and DNSMOS marked the
# thinner voice 0.3 lower.
PHONE_LOW_HZ = 300.0
PHONE_LOW_ORDER = 2  # each pass of the band; the effect filters twice
PHONE_HIGH_HZ = 3300.0
PHONE_THRESHOLD_DB = -15.0  # below the take's loudest level: the line's compression starts here
PHONE_RATIO = 3.0
PHONE_DRIVE = 2.5  # tanh saturation of the handset and the line: it also keeps the
# peaks down, which the gentler low edge lets up (peak to loudness 19.5 dB for Piper joe, 21.3 at
# a drive of 1.5, 19.2 with the old steep edge)

# An actuality: a reporter's microphone outside, gentler than the phone.
FIELD_LOW_HZ = 150.0
FIELD_HIGH_HZ = 6000.0
FIELD_ROOM_TONE_DB = -50.0  # room tone RMS against the take's peak
# Early reflections off nearby walls and the ground: (delay_s, gain), a small-room colour.
FIELD_REFLECTIONS: tuple[tuple[float, float], ...] = (
    (0.0043, 0.22),
    (0.0071, -0.16),
    (0.0113, 0.12),
    (0.0167, -0.08),
    (0.0241, 0.05),
)
_ROOM_TONE_SEED = 7311


def apply_effect(audio: Audio, effect: str) -> Audio:
    """`audio` through the named effect, one of `EFFECTS`; `none` returns it unchanged."""
    if effect not in _PROCESSORS:
        known = ", ".join(EFFECTS)
        raise BulletinError(f"unknown effect {effect!r}; known effects: {known}")
    processor = _PROCESSORS[effect]
    if processor is None or audio.samples.shape[0] == 0:
        return audio
    # float64 inside: high-order filters and dB arithmetic want the headroom.
    samples = np.asarray(audio.samples, np.float64).reshape(audio.samples.shape[0], -1)
    out = processor(samples, audio.rate_hz)
    return Audio(np.ascontiguousarray(out, np.float32), audio.rate_hz)


# Phone ------------------------------------------------------------------------------


def _phone(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Band-limit, compress, saturate, band-limit again (saturation makes new harmonics)."""
    band = _phone_band(rate_hz)
    out = scipy.signal.sosfilt(band, samples, axis=0)
    out = _compress(out, rate_hz, threshold_db=PHONE_THRESHOLD_DB, ratio=PHONE_RATIO)
    out = _saturate(out, drive=PHONE_DRIVE)
    out = scipy.signal.sosfilt(band, out, axis=0)
    return _match_rms(out, samples)


def _phone_band(rate_hz: int) -> np.ndarray:
    high_pass = scipy.signal.butter(PHONE_LOW_ORDER, PHONE_LOW_HZ, "highpass", fs=rate_hz, output="sos")
    if PHONE_HIGH_HZ >= 0.45 * rate_hz:  # a rate this low is already narrower than a phone
        return high_pass
    low_pass = scipy.signal.ellip(10, 0.5, 70, PHONE_HIGH_HZ, "lowpass", fs=rate_hz, output="sos")
    return np.vstack([high_pass, low_pass])


def _compress(
    samples: np.ndarray,
    rate_hz: int,
    *,
    threshold_db: float,
    ratio: float,
    attack_s: float = 0.003,
    hold_s: float = 0.03,
    release_s: float = 0.05,
) -> np.ndarray:
    """A feed-forward RMS compressor, vectorised; `threshold_db` is relative to the loudest level.

    The level is the channels' mean power smoothed over `attack_s` (a one-pole
    filter, so lfilter runs it), then held at its maximum over `hold_s` so the
    gain does not flutter at the voice's pitch. Rendering is offline, so the
    hold window is centred and sees a little ahead, like a look-ahead limiter.
    The gain is smoothed over `release_s` so it moves without zipper noise.
    """
    power = np.mean(samples**2, axis=1)
    power = _one_pole(power, attack_s, rate_hz)
    power = scipy.ndimage.maximum_filter1d(power, size=max(1, round(hold_s * rate_hz)))
    level_db = 10 * np.log10(np.maximum(power, 1e-12))
    over_db = np.maximum(level_db - (level_db.max() + threshold_db), 0.0)
    gain_db = _one_pole(-over_db * (1 - 1 / ratio), release_s, rate_hz)
    return samples * (10 ** (gain_db / 20))[:, None]


def _saturate(samples: np.ndarray, drive: float) -> np.ndarray:
    """Soft tanh clipping, scaled so the peak stays where it was."""
    peak = np.abs(samples).max()
    if peak == 0:
        return samples
    return peak * np.tanh(drive * samples / peak) / np.tanh(drive)


# Field ------------------------------------------------------------------------------


def _field(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """A narrower microphone band, a little room colour, and room tone under it all."""
    out = scipy.signal.sosfilt(_field_band(rate_hz), samples, axis=0)
    out = _reflections(out, rate_hz)
    out = _match_rms(out, samples)
    # The room tone sits a fixed distance below the take's peak, so it is heard
    # in the pauses but never competes with the words.
    peak = np.abs(out).max()
    if peak == 0:
        return out
    tone = _room_tone(out.shape, rate_hz)
    return out + tone * (peak * 10 ** (FIELD_ROOM_TONE_DB / 20))


def _field_band(rate_hz: int) -> np.ndarray:
    high_hz = min(FIELD_HIGH_HZ, 0.45 * rate_hz)
    return scipy.signal.butter(4, [FIELD_LOW_HZ, high_hz], "bandpass", fs=rate_hz, output="sos")


def _reflections(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Add a few delayed, quieter copies: sparse taps are cheaper as slices than as a FIR."""
    out = samples.copy()
    for delay_s, gain in FIELD_REFLECTIONS:
        delay = round(delay_s * rate_hz)
        if 0 < delay < samples.shape[0]:
            out[delay:] += gain * samples[:-delay]
    return out


def _room_tone(shape: tuple[int, ...], rate_hz: int) -> np.ndarray:
    """Seeded noise like distant traffic and air, mostly low, a little hiss, RMS 1.

    Its first and last 20 ms fade, so the tone does not switch on with a click.
    """
    rng = np.random.default_rng(_ROOM_TONE_SEED)
    noise = rng.standard_normal(shape)
    rumble = scipy.signal.sosfilt(
        scipy.signal.butter(2, [60.0, 500.0], "bandpass", fs=rate_hz, output="sos"), noise, axis=0
    )
    hiss = scipy.signal.sosfilt(
        scipy.signal.butter(
            2, [500.0, min(5000.0, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos"
        ),
        noise[::-1],
        axis=0,  # reversed: a second, independent noise from the same draw
    )
    tone = rumble / _rms(rumble) + 0.35 * hiss / _rms(hiss)
    tone = scipy.signal.sosfilt(_field_band(rate_hz), tone, axis=0)  # heard through the same microphone
    tone /= _rms(tone)
    fade = min(round(0.02 * rate_hz), shape[0] // 2)
    if fade > 0:
        ramp = np.sin(0.5 * np.pi * np.arange(fade) / fade)[:, None] ** 2
        tone[:fade] *= ramp
        tone[-fade:] *= ramp[::-1]
    return tone


# Shared -----------------------------------------------------------------------------


def _one_pole(values: np.ndarray, time_constant_s: float, rate_hz: int) -> np.ndarray:
    """Exponential smoothing with `time_constant_s`, as a linear filter so it runs in C."""
    pole = np.exp(-1.0 / max(time_constant_s * rate_hz, 1e-9))
    return scipy.signal.lfilter([1 - pole], [1, -pole], values, zi=[values[0] * pole])[0]


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2))) or 1.0


def _match_rms(out: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale `out` to the RMS of `reference`: an effect should not change the take's level."""
    reference_rms = float(np.sqrt(np.mean(reference**2)))
    out_rms = float(np.sqrt(np.mean(out**2)))
    return out if out_rms == 0 else out * (reference_rms / out_rms)


_PROCESSORS: dict[str, Callable[[np.ndarray, int], np.ndarray] | None] = {
    "none": None,
    "phone": _phone,
    "field": _field,
}
