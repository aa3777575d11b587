"""The instruments the builtin sounds are played on (see builtin.py): additive partials under
ADSR envelopes, a brass section, timpani, mallet ticks, a noise swoosh, and the periodic sines
the bed loops on."""

from __future__ import annotations

import numpy as np
import scipy

BED_LOOP_S = 12.0  # 16 beats at 80 bpm: four chords of one bar each
TAIL_SILENCE_S = 0.02  # stingers end in exact zeros
SEED = 20191122  # the noise in the swoosh and the mallets is seeded: same sound every call


class Score:
    """A mono buffer that notes are added to at start times, then finished as a stinger."""

    def __init__(self, duration_s: float, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self.buffer = np.zeros(round(duration_s * rate_hz))

    def add(self, start_s: float, sound: np.ndarray, level: float = 1.0) -> None:
        start = round(start_s * self.rate_hz)
        end = min(start + sound.shape[0], self.buffer.shape[0])
        self.buffer[start:end] += level * sound[: end - start]

    def finish(self, peak_dbfs: float, fade_s: float) -> np.ndarray:
        """Peak to `peak_dbfs`; fade out over `fade_s` into TAIL_SILENCE_S of exact zeros."""
        out = self.buffer * (10 ** (peak_dbfs / 20) / np.abs(self.buffer).max())
        tail = round(TAIL_SILENCE_S * self.rate_hz)
        fade = round(fade_s * self.rate_hz)
        end = out.shape[0] - tail
        out[end - fade : end] *= np.cos(0.5 * np.pi * np.arange(1, fade + 1) / fade) ** 2
        out[end:] = 0.0
        # Notes start with their own attack; this only guards the very first frames.
        lead = round(0.002 * self.rate_hz)
        out[:lead] *= np.linspace(0.0, 1.0, lead, endpoint=False)
        return out


def hz(midi: float) -> float:
    """Equal-tempered pitch of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2 ** ((midi - 69) / 12)


def envelope(
    t_s: np.ndarray,
    attack_s: float,
    decay_s: float,
    sustain: float,
    hold_s: float,
    release_s: float,
) -> np.ndarray:
    """ADSR: smooth rise, exponential fall to `sustain`, smooth release after `hold_s`."""
    rise = np.sin(0.5 * np.pi * np.clip(t_s / attack_s, 0.0, 1.0)) ** 2
    body = sustain + (1 - sustain) * np.exp(-np.maximum(t_s - attack_s, 0.0) / decay_s)
    fall = np.cos(0.5 * np.pi * np.clip((t_s - hold_s) / release_s, 0.0, 1.0)) ** 2
    return rise * body * fall


def brass(freq_hz: float, hold_s: float, rate_hz: int, *, release_s: float = 0.15, decay_s: float = 0.25,
          detune_cents: float = 6.0) -> np.ndarray:
    """A bright brass-like synth note: sawtooth-like harmonics, two voices slightly detuned.

    Each harmonic's envelope is the note's envelope raised to a power that grows
    with the harmonic number, so the upper harmonics bloom late and die early,
    the way a brass note brightens with loudness.
    """
    t_s = np.arange(round((hold_s + release_s) * rate_hz)) / rate_hz
    env = envelope(
        t_s, attack_s=0.015, decay_s=decay_s, sustain=0.45, hold_s=hold_s, release_s=release_s
    )
    brighten = env**0.12  # env_k = env ** (1 + 0.12 (k - 1)), by one multiply per harmonic
    env_k = env / 2  # two voices
    out = np.zeros_like(t_s)
    for k in range(1, 17):
        if k * freq_hz * 2 ** (detune_cents / 1200) >= 0.45 * rate_hz:
            break  # no partial above Nyquist: it would alias down into the chord
        if k > 1:
            env_k *= brighten
        voices = sum(
            sine(
                t_s * (k * freq_hz * 2 ** (cents / 1200)), spread_phase(k + 17 * voice + freq_hz)
            )
            for voice, cents in enumerate((-detune_cents, detune_cents))
        )
        out += voices * (env_k / k)
    return out


def chord(
    notes: tuple[int, ...], hold_s: float, rate_hz: int, *, release_s: float = 0.15
) -> np.ndarray:
    """Brass notes (MIDI numbers) sounded together, scaled so chord size does not change level."""
    voices = [brass(hz(midi), hold_s, rate_hz, release_s=release_s) for midi in notes]
    return np.sum(voices, axis=0) / np.sqrt(len(notes))


def timpani(freq_hz: float, rate_hz: int, decay_s: float = 0.5) -> np.ndarray:
    """A timpani-like hit: a pitch that bends down after the strike, drum modes, a mallet thump."""
    t_s = np.arange(round(4 * decay_s * rate_hz)) / rate_hz
    bend_hz = freq_hz * (1 + 0.25 * np.exp(-t_s / 0.02))
    phase = 2 * np.pi * np.cumsum(bend_hz) / rate_hz
    # Kettle-drum modes sit near 1, 1.5, 2 and 2.44 times the pitch, shorter the higher.
    modes = ((1.0, 1.0, 1.0), (1.5, 0.5, 0.6), (1.98, 0.3, 0.4), (2.44, 0.15, 0.3))
    out = sum(
        amp * sine(ratio * phase / (2 * np.pi)) * np.exp(-t_s / (decay_s * life))
        for ratio, amp, life in modes
    )
    rng = np.random.default_rng(SEED + round(freq_hz))
    thump = rng.standard_normal(t_s.shape[0]) * np.exp(-t_s / 0.006)
    out = out + 0.3 * scipy.signal.sosfilt(lowpass(1500, rate_hz), thump)
    out *= np.sin(0.5 * np.pi * np.clip(t_s / 0.002, 0.0, 1.0))  # 2 ms strike, no click
    out *= np.cos(0.5 * np.pi * np.clip(t_s / t_s[-1], 0.0, 1.0))  # ends at exact zero
    return out


def tick(freq_hz: float, rate_hz: int, level: float) -> np.ndarray:
    """One tick of the news pulse: a 60 ms tone blip with a couple of harmonics."""
    t_s = np.arange(round(0.06 * rate_hz)) / rate_hz
    env = envelope(t_s, attack_s=0.002, decay_s=0.012, sustain=0.0, hold_s=0.03, release_s=0.03)
    tone = sine(freq_hz * t_s) + 0.3 * sine(2 * freq_hz * t_s)
    return level * env * tone


def swoosh(duration_s: float, rate_hz: int) -> np.ndarray:
    """Noise rising in pitch and loudness: a bank of bands, each lit in turn."""
    frames = round(duration_s * rate_hz)
    t_s = np.arange(frames) / rate_hz
    noise = np.random.default_rng(SEED).standard_normal(frames)
    centres_hz = np.geomspace(300, min(6000, 0.4 * rate_hz), 10)
    out = np.zeros(frames)
    for i, centre_hz in enumerate(centres_hz):
        band = scipy.signal.sosfilt(
            scipy.signal.butter(
                2, [centre_hz / 1.25, centre_hz * 1.25], "bandpass", fs=rate_hz, output="sos"
            ),
            noise,
        )
        middle_s = duration_s * (i + 0.5) / len(centres_hz)
        out += band * np.exp(-(((t_s - middle_s) / (0.12 * duration_s)) ** 2))
    rise = np.clip(t_s / (0.8 * duration_s), 0, 1) ** 1.5
    fall = np.cos(0.5 * np.pi * np.clip((t_s - 0.8 * duration_s) / (0.2 * duration_s), 0, 1))
    return out * rise * fall / np.abs(out).max()


def sine(cycles: np.ndarray, offset_rad: float = 0.0) -> np.ndarray:
    """sin(2 pi cycles + offset_rad), fast.

    The whole cycles are dropped in float64, where the phase is exact, and the
    sine of what is left is taken in float32, which numpy vectorises: over ten
    times faster than a float64 sine, and accurate to about -140 dB.
    """
    cycles = cycles + offset_rad / (2 * np.pi)
    fraction = (cycles - np.floor(cycles)).astype(np.float32)
    return np.sin(fraction * np.float32(2 * np.pi))


def spread_phase(key: float) -> float:
    """A fixed, well-scattered start phase for a partial.

    Partials that all start at phase 0 line up into one sharp peak at each note
    onset (and at the bed's loop point); scattered phases keep the crest factor
    of chords down. Golden-ratio steps are deterministic and never repeat.
    """
    return 2 * np.pi * ((key * 0.6180339887) % 1.0)


def lowpass(cutoff_hz: float, rate_hz: int) -> np.ndarray:
    return scipy.signal.butter(2, cutoff_hz, "lowpass", fs=rate_hz, output="sos")


def periodic_sine(
    freq_hz: float, phase: np.ndarray, extra_cycles: int, offset_rad: float = 0.0
) -> np.ndarray:
    """A sine near `freq_hz` with a whole number of cycles over one loop (`phase` 0 to 1)."""
    cycles = max(1, round(freq_hz * BED_LOOP_S)) + extra_cycles
    return sine(cycles * phase, offset_rad)


def chord_window(phase: np.ndarray, index: int, count: int, crossfade: float) -> np.ndarray:
    """Loop-periodic gain for chord `index` of `count` equal slots, equal-power crossfaded.

    `crossfade` is in slots, centred on each slot boundary, and wraps around the loop.
    """
    u = (phase * count - index + crossfade / 2) % count  # 0 where this chord starts fading in
    rise = np.sin(0.5 * np.pi * np.clip(u / crossfade, 0.0, 1.0))
    fall = np.cos(0.5 * np.pi * np.clip((u - 1) / crossfade, 0.0, 1.0))
    return np.where(u < 1 + crossfade, rise * fall, 0.0)
