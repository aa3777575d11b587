"""Effects are measured on speech-like test signals: band energies, level, room tone."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.sound.effects import EFFECTS, apply_effect

RATE_HZ = 24000


@functools.cache  # the signals are only read; making them is the slow part
def _speech_like(rate_hz: int = RATE_HZ, voiced_s: float = 2.0, silence_s: float = 0.6) -> Audio:
    """Syllables at 4 a second, alternating a gliding 100-140 Hz buzz with every harmonic
    (vowels) and white noise (fricatives), then `silence_s` of digital silence."""
    rng = np.random.default_rng(1)
    t_s = np.arange(round(voiced_s * rate_hz)) / rate_hz
    pitch_hz = 120 + 20 * np.sin(2 * np.pi * 1.3 * t_s)
    phase = 2 * np.pi * np.cumsum(pitch_hz) / rate_hz
    buzz = sum(np.sin(k * phase) / k for k in range(1, int(rate_hz / 2 / 140)))
    syllables = 0.5 - 0.5 * np.cos(2 * np.pi * 4 * t_s)
    voiced = np.sin(2 * np.pi * 2 * t_s) > 0
    x = syllables * np.where(voiced, 0.3 * buzz, 0.1 * rng.standard_normal(t_s.shape[0]))
    return Audio.mono(np.concatenate([x, np.zeros(round(silence_s * rate_hz))]), rate_hz)


@functools.cache
def _white(seconds: float = 1.5) -> Audio:
    return Audio.mono(
        0.1 * np.random.default_rng(2).standard_normal(round(seconds * RATE_HZ)), RATE_HZ
    )


@functools.cache
def _pink(seconds: float = 1.5) -> Audio:
    frames = round(seconds * RATE_HZ)
    spectrum = np.fft.rfft(np.random.default_rng(3).standard_normal(frames))
    freqs_hz = np.fft.rfftfreq(frames, 1 / RATE_HZ)
    spectrum /= np.sqrt(np.maximum(freqs_hz, 20.0))  # -3 dB per octave
    x = np.fft.irfft(spectrum, frames)
    return Audio.mono(0.1 * x / np.abs(x).max(), RATE_HZ)


@functools.cache
def _buzz(seconds: float = 1.5, pitch_hz: float = 110.0) -> Audio:
    """A band-limited sawtooth: every harmonic up to Nyquist, like a voice's glottal pulses."""
    t_s = np.arange(round(seconds * RATE_HZ)) / RATE_HZ
    x = sum(
        np.sin(2 * np.pi * k * pitch_hz * t_s) / k for k in range(1, int(RATE_HZ / 2 / pitch_hz))
    )
    return Audio.mono(0.2 * x, RATE_HZ)


SIGNALS = {"speech": _speech_like, "white": _white, "pink": _pink, "buzz": _buzz}


def _band_db(audio: Audio, low_hz: float, high_hz: float) -> float:
    # Windowed, so that the jump between the last and first frame does not leak into every band.
    window = np.hanning(audio.samples.shape[0])[:, None]
    power = np.abs(np.fft.rfft(audio.samples.astype(np.float64) * window, axis=0)) ** 2
    freqs_hz = np.fft.rfftfreq(audio.samples.shape[0], 1 / audio.rate_hz)
    return 10 * np.log10(power[(freqs_hz >= low_hz) & (freqs_hz < high_hz)].sum() + 1e-30)


def _change_db(before: Audio, after: Audio, low_hz: float, high_hz: float) -> float:
    return _band_db(after, low_hz, high_hz) - _band_db(before, low_hz, high_hz)


def _rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)) + 1e-30)


# apply_effect -----------------------------------------------------------------------


def test_effect_names():
    assert EFFECTS == ("none", "phone", "field")


def test_unknown_effect_is_refused_with_the_known_names():
    with pytest.raises(BulletinError, match=r"'radio'.*none, phone, field"):
        apply_effect(_white(), "radio")


def test_none_is_the_take_itself():
    audio = _white()
    assert apply_effect(audio, "none") is audio


@pytest.mark.parametrize("effect", ["phone", "field"])
@pytest.mark.parametrize("channels", [1, 2])
def test_form_is_kept(effect, channels):
    mono = _speech_like(RATE_HZ, voiced_s=0.5, silence_s=0.1)
    audio = Audio(np.repeat(mono.samples, channels, axis=1), RATE_HZ)
    out = apply_effect(audio, effect)
    assert out.rate_hz == RATE_HZ
    assert out.samples.dtype == np.float32
    assert out.samples.shape == audio.samples.shape
    assert np.all(np.isfinite(out.samples))


@pytest.mark.parametrize("effect", ["phone", "field"])
def test_empty_and_silent_takes(effect):
    empty = Audio.silence(0.0, RATE_HZ)
    assert apply_effect(empty, effect).samples.shape == (0, 1)
    silent = apply_effect(Audio.silence(0.5, RATE_HZ), effect)
    assert np.all(silent.samples == 0.0)


@pytest.mark.parametrize("effect", ["phone", "field"])
def test_same_output_every_time(effect):
    audio = _speech_like()
    np.testing.assert_array_equal(
        apply_effect(audio, effect).samples, apply_effect(audio, effect).samples
    )


@pytest.mark.parametrize("effect", ["phone", "field"])
@pytest.mark.parametrize("name", SIGNALS)
def test_level_is_kept(effect, name):
    audio = SIGNALS[name]()
    out = apply_effect(audio, effect)
    assert _rms_db(out.samples) == pytest.approx(_rms_db(audio.samples), abs=1.0)


# phone ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SIGNALS)
def test_phone_is_a_telephone_band(name):
    audio = SIGNALS[name]()
    out = apply_effect(audio, "phone")
    assert _change_db(audio, out, 3500, RATE_HZ / 2) <= -35.0
    assert _change_db(audio, out, 0, 150) <= -20.0
    assert abs(_change_db(audio, out, 500, 3000)) <= 10.0  # the voice itself stays


def test_phone_keeps_a_mans_pitch():
    # A man's second and third harmonics (200-300 Hz) stay, so that a pitch tracker still
    # hears his fundamental, not his fourth harmonic: a steep cut at 300 Hz made Piper joe
    # (89 Hz) read as 362 Hz.
    audio = _buzz(pitch_hz=100.0)
    out = apply_effect(audio, "phone")
    assert _change_db(audio, out, 190, 310) >= -8.0
    assert _change_db(audio, out, 0, 110) <= -20.0


@pytest.mark.parametrize("rate_hz", [16000, 22050, 48000])
def test_phone_band_at_other_rates(rate_hz):
    audio = _speech_like(rate_hz, voiced_s=1.0)
    out = apply_effect(audio, "phone")
    assert _change_db(audio, out, 3500, rate_hz / 2) <= -35.0
    assert _change_db(audio, out, 0, 150) <= -20.0


def test_phone_compresses():
    # One buzz, loud for half a second and 12 dB quieter for the next half: the line's
    # compressor and the handset's saturation squash the step, but do not level it.
    buzz = _buzz(1.0).samples[:, 0].copy()
    half = buzz.shape[0] // 2
    buzz[half:] *= 10 ** (-12 / 20)
    out = apply_effect(Audio.mono(buzz, RATE_HZ), "phone").samples[:, 0]
    edge = round(0.05 * RATE_HZ)  # leave out the gain's movement at the step
    loud_db, quiet_db = _rms_db(out[edge : half - edge]), _rms_db(out[half + edge : -edge])
    assert 2.0 < loud_db - quiet_db < 9.0


# field ------------------------------------------------------------------------------


def test_field_room_tone_in_the_pauses():
    audio = _speech_like()
    out = apply_effect(audio, "field").samples[:, 0]
    pause = out[round(2.2 * RATE_HZ) :]  # 0.2 s after the last syllable
    below_peak_db = _rms_db(pause) - 20 * np.log10(np.abs(out).max())
    assert -55.0 <= below_peak_db <= -45.0
    # Room tone, not a leftover tail: it is still there at the very end.
    assert _rms_db(pause[-round(0.1 * RATE_HZ) : -round(0.03 * RATE_HZ)]) > -80.0


@pytest.mark.parametrize("name", ["white", "pink", "speech"])
def test_field_is_narrower_than_the_studio_but_wider_than_a_phone(name):
    audio = SIGNALS[name]()
    out = apply_effect(audio, "field")
    assert _change_db(audio, out, 8000, RATE_HZ / 2) <= -15.0
    assert _change_db(audio, out, 20, 60) <= -15.0
    assert abs(_change_db(audio, out, 300, 3000)) <= 6.0
    assert abs(_change_db(audio, out, 4000, 5500)) <= 6.0  # a phone cuts this by 35 dB or more
