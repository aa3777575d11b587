"""Builtin sounds are measured, not listened to: length, level, pitch, rhythm, loop seam, band."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.sound import builtin as sounds
from bulletin.sound.builtin import BUILTIN_NAMES, builtin, loop_to

RATE_HZ = 22050
STINGS = ("open", "close", "transition")


def _mono(audio: Audio) -> np.ndarray:
    return audio.samples[:, 0].astype(np.float64)


def _db(value: float) -> float:
    return 20 * np.log10(max(value, 1e-20))


def _band_fraction(x: np.ndarray, rate_hz: int, low_hz: float, high_hz: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs_hz = np.fft.rfftfreq(x.shape[0], 1 / rate_hz)
    return float(power[(freqs_hz >= low_hz) & (freqs_hz < high_hz)].sum() / power.sum())


def _midi(freq_hz: float) -> float:
    return 69 + 12 * np.log2(freq_hz / 440)


def _main_pitch(
    x: np.ndarray, rate_hz: int, start_s: float, end_s: float, above_hz: float = 250.0
) -> float:
    """The strongest frequency above `above_hz` in a slice, as a (fractional) MIDI note."""
    part = x[round(start_s * rate_hz) : round(end_s * rate_hz)]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(part.shape[0]), 8 * part.shape[0]))
    freqs_hz = np.fft.rfftfreq(8 * part.shape[0], 1 / rate_hz)
    keep = freqs_hz > above_hz
    return _midi(freqs_hz[keep][np.argmax(spectrum[keep])])


def _highpass(x: np.ndarray, rate_hz: int, cutoff_hz: float = 2000.0) -> np.ndarray:
    sos = signal.butter(8, cutoff_hz, "highpass", fs=rate_hz, output="sos")
    return signal.sosfiltfilt(sos, x)


# builtin ----------------------------------------------------------------------------


def test_names_are_the_four_builtins():
    assert BUILTIN_NAMES == ("open", "close", "transition", "bed")


def test_unknown_name_is_refused_with_the_known_names():
    with pytest.raises(BulletinError, match=r"'jingle'.*open, close, transition, bed"):
        builtin("jingle", RATE_HZ)


def test_unusable_rate_is_refused():
    with pytest.raises(BulletinError, match="rate"):
        builtin("open", 0)


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_shape_and_type(name):
    audio = builtin(name, RATE_HZ)
    assert audio.rate_hz == RATE_HZ
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 2 and audio.channels == 1


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_same_samples_every_call(name):
    first = builtin(name, RATE_HZ).samples
    assert builtin(name, RATE_HZ).samples is first  # cached
    fresh = sounds._render.__wrapped__(name, RATE_HZ)  # made again, past the cache
    np.testing.assert_array_equal(fresh, first)


def test_cached_samples_cannot_be_changed_in_place():
    with pytest.raises(ValueError):
        builtin("open", RATE_HZ).samples[0, 0] = 1.0


def test_other_rates_give_the_same_length():
    low = builtin("transition", RATE_HZ)
    high = builtin("transition", 48000)
    assert high.duration_s == pytest.approx(low.duration_s, abs=1e-3)


# stingers ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", STINGS)
def test_sting_length_and_level(name):
    audio = builtin(name, RATE_HZ)
    x = _mono(audio)
    assert 1.5 <= audio.duration_s <= 4.0
    assert _db(np.abs(x).max()) == pytest.approx(-3.0, abs=0.05)
    assert _db(np.sqrt(np.mean(x**2))) > -25.0  # a stinger, not a whisper


@pytest.mark.parametrize("name", STINGS)
def test_sting_starts_and_ends_in_silence(name):
    x = _mono(builtin(name, RATE_HZ))
    assert x[0] == 0.0
    assert np.all(x[-round(0.02 * RATE_HZ) :] == 0.0)
    # The fade: the last 100 ms before the silence are far below the peak.
    end = -round(0.02 * RATE_HZ)
    assert _db(np.abs(x[end - round(0.1 * RATE_HZ) : end]).max()) < -20.0
    # and it reaches silence: the last millisecond before the zeros is inaudible (measured
    # -137 to -155 dB; the notes' own decay alone leaves -39 to -51 dB there, a click)
    assert _db(np.abs(x[end - round(0.001 * RATE_HZ) : end]).max()) < -100.0


@pytest.mark.parametrize("name", STINGS)
def test_sting_is_tonal_and_in_tune(name):
    x = _mono(builtin(name, RATE_HZ))
    power = np.abs(np.fft.rfft(x)) ** 2
    flatness = np.exp(np.mean(np.log(power[1:] + 1e-30))) / np.mean(power[1:])
    assert flatness < 0.05  # white noise is about 0.56, chords near 0; the swoosh adds some
    # The eight strongest spectral peaks above 200 Hz sit on equal-tempered notes.
    freqs_hz = np.fft.rfftfreq(x.shape[0], 1 / RATE_HZ)
    peaks, _ = signal.find_peaks(power, distance=round(20 / freqs_hz[1]))
    peaks = peaks[freqs_hz[peaks] > 200]
    strongest = peaks[np.argsort(power[peaks])[::-1][:8]]
    midis = np.array([_midi(f) for f in freqs_hz[strongest]])
    assert np.all(np.abs(midis - np.round(midis)) < 0.15)
    assert len(set(np.round(midis).astype(int) % 12)) >= 2  # more than one pitch: not a test tone


@pytest.mark.parametrize("name", STINGS)
def test_sting_is_rhythmic(name):
    x = _mono(builtin(name, RATE_HZ))
    frame = round(0.01 * RATE_HZ)
    frames = x[: x.shape[0] // frame * frame].reshape(-1, frame)
    level_db = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)
    rises_db = level_db[3:] - level_db[:-3]  # level rise over 30 ms
    onsets, _ = signal.find_peaks(rises_db, height=3.0, distance=5)
    assert len(onsets) >= 5
    assert (onsets[-1] - onsets[0]) * 0.01 >= 0.7  # spread out, not one burst


def test_open_is_a_rising_motif():
    x = _mono(builtin("open", RATE_HZ))
    notes = [
        _main_pitch(x, RATE_HZ, start_s, start_s + 0.12) for start_s in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    assert np.all(np.diff(notes) > 0.5), notes
    assert np.round(notes).tolist() == [67, 72, 74, 76, 79]  # G4 C5 D5 E5 G5


def test_close_resolves_to_c():
    x = _mono(builtin("close", RATE_HZ))
    dominant = round(_main_pitch(x, RATE_HZ, 0.75, 1.25))
    final = _main_pitch(x, RATE_HZ, 1.7, 2.5, above_hz=200)
    bass = _main_pitch(x, RATE_HZ, 1.5, 2.5, above_hz=50)
    assert dominant % 12 == 11  # B, the leading note of the G chord
    assert round(final) % 12 == 0 and round(bass) % 12 == 0


def test_transition_is_a_swoosh_then_two_notes():
    x = _mono(builtin("transition", RATE_HZ))
    swoosh = x[: round(0.45 * RATE_HZ)]
    assert _band_fraction(swoosh, RATE_HZ, 1000, 8000) > 0.5  # bright noise
    assert round(_main_pitch(x, RATE_HZ, 0.5, 0.65)) == 79  # G5
    assert round(_main_pitch(x, RATE_HZ, 0.8, 1.0, above_hz=900)) == 84  # C6 (over C5)


# bed --------------------------------------------------------------------------------


def test_bed_length_and_level():
    audio = builtin("bed", RATE_HZ)
    x = _mono(audio)
    assert 8.0 <= audio.duration_s <= 16.0
    assert _db(np.abs(x).max()) == pytest.approx(-6.0, abs=0.05)
    assert _db(np.sqrt(np.mean(x**2))) > -30.0


def test_bed_leaves_the_speech_band_alone():
    x = _mono(builtin("bed", RATE_HZ))
    assert _band_fraction(x, RATE_HZ, 0, 800) > 0.99
    assert _band_fraction(x, RATE_HZ, 1000, 4000) < 1e-4


def test_bed_seam_is_an_ordinary_step():
    x = _mono(builtin("bed", RATE_HZ))
    steps = np.abs(np.diff(x))
    seam = abs(x[0] - x[-1])
    assert seam <= np.percentile(steps, 99)
    near = np.concatenate([steps[:200], steps[-200:]])
    assert seam <= near.max()


def test_bed_loops_with_no_click():
    bed = builtin("bed", RATE_HZ)
    looped = loop_to(bed, 2.5 * bed.duration_s)
    length = bed.samples.shape[0]
    # Tiled as it is: it is periodic already, a crossfade would only smear it.
    np.testing.assert_array_equal(looped.samples[length : 2 * length], bed.samples)
    # The bed has nothing above 2 kHz; a click at a join would.
    high = np.abs(_highpass(_mono(looped), RATE_HZ))
    guard = round(0.02 * RATE_HZ)
    at_joins = max(high[join - guard : join + guard].max() for join in (length, 2 * length))
    elsewhere = high[guard * 10 : length - guard * 10].max()
    assert at_joins <= 2 * elsewhere
    assert _db(at_joins) < -60.0


# loop_to ----------------------------------------------------------------------------


def _unloopable(duration_s: float, channels: int = 1) -> Audio:
    """A tone whose end does not meet its start: tiling it as it is clicks."""
    t_s = np.arange(round(duration_s * RATE_HZ)) / RATE_HZ
    x = 0.4 * np.sin(2 * np.pi * 1.7 * t_s) + 0.2 * np.sin(2 * np.pi * 330 * t_s + 1.0)
    return Audio(np.repeat(x[:, None], channels, axis=1).astype(np.float32), RATE_HZ)


def test_loop_to_gives_the_exact_length():
    audio = _unloopable(1.0)
    assert loop_to(audio, 3.3).samples.shape == (round(3.3 * RATE_HZ), 1)
    assert loop_to(audio, 0.0).samples.shape == (0, 1)


def test_loop_to_shorter_is_the_head():
    audio = _unloopable(1.0)
    out = loop_to(audio, 0.5)
    np.testing.assert_array_equal(out.samples, audio.samples[: round(0.5 * RATE_HZ)])


def test_loop_to_crossfades_a_file_bed_that_does_not_loop():
    audio = _unloopable(1.0, channels=2)
    faded = loop_to(audio, 3.5)
    plain = loop_to(audio, 3.5, crossfade_s=0.0)
    assert faded.samples.shape == (round(3.5 * RATE_HZ), 2)
    overlap = round(sounds.LOOP_CROSSFADE_S * RATE_HZ)
    # The first pass is the file itself, untouched.
    np.testing.assert_array_equal(faded.samples[: RATE_HZ - overlap], audio.samples[:-overlap])
    click_plain = np.abs(_highpass(plain.samples[:, 0].astype(np.float64), RATE_HZ)).max()
    click_faded = np.abs(_highpass(faded.samples[:, 0].astype(np.float64), RATE_HZ)).max()
    assert _db(click_plain) - _db(click_faded) > 30.0
    assert (
        np.abs(np.diff(faded.samples, axis=0)).max()
        < 2 * np.abs(np.diff(audio.samples, axis=0)).max()
    )


def test_loop_to_crossfade_keeps_the_level_of_unrelated_material():
    noise = np.random.default_rng(3).standard_normal(RATE_HZ).astype(np.float32) * 0.1
    out = _mono(loop_to(Audio.mono(noise, RATE_HZ), 3.0, crossfade_s=0.2))
    period = RATE_HZ - round(0.2 * RATE_HZ)
    crossfade = out[period : period + round(0.2 * RATE_HZ)]
    assert _db(np.sqrt(np.mean(crossfade**2)) / 0.1) == pytest.approx(0.0, abs=1.0)


def test_loop_to_refuses_an_empty_sound():
    with pytest.raises(BulletinError, match="empty"):
        loop_to(Audio.silence(0.0, RATE_HZ), 1.0)


def test_a_notes_envelope_rises_holds_and_is_silent_after_its_release():
    from bulletin.sound.instruments import envelope

    t = np.linspace(0.0, 2.0, 20001)
    env = envelope(t, attack_s=0.01, decay_s=0.2, sustain=0.5, hold_s=0.5, release_s=0.3)
    assert env[0] == 0.0 and env.max() == pytest.approx(1.0, abs=1e-3)
    assert np.all(env[t >= 0.8] < 1e-20)  # after hold + release: silent, and it stays so
    assert 0.45 < env[np.searchsorted(t, 0.49)] < 0.6  # decayed towards the sustain level
    falling = env[(t >= 0.5) & (t <= 0.8)]
    assert np.all(np.diff(falling) <= 1e-12)  # the release only falls
