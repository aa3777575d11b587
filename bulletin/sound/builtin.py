"""Builtin sounds: the news stingers `open`, `close`, `transition` and the music `bed`.

No audio file ships with bulletin. Each sound is built here by additive synthesis
(harmonic partials under ADSR envelopes), straight at the output rate, so nothing
is resampled and the same call always gives the same samples.

- A stinger is mono, 1.5 to 4 s long, peaks at -3 dBFS and ends in 20 ms of
  exact silence, so it can butt against speech without a click.
- The bed is a 12 s warm pad over a soft sub pulse, periodic by construction:
  every partial makes a whole number of cycles over the loop and every envelope
  is a function of the loop position, so it tiles with no seam. It keeps almost
  all its energy below 800 Hz, out of the way of speech.

`loop_to` tiles any bed to a length; a bed from a file that does not loop
cleanly gets a short equal-power crossfade at each join.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import scipy

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.script.story import BUILTIN_NAMES
from bulletin.sound.instruments import (
    BED_LOOP_S,
    Score,
    brass,
    chord,
    chord_window,
    hz,
    periodic_sine,
    spread_phase,
    swoosh,
    tick,
    timpani,
)

STING_PEAK_DBFS = -3.0
BED_PEAK_DBFS = -6.0  # the bed plays under speech; the timeline sets its real level
LOOP_CROSSFADE_S = 0.05  # joins of a file bed that does not loop by itself

_MIN_RATE_HZ = 8000


def builtin(name: str, rate_hz: int) -> Audio:
    """A builtin sound as mono Audio at `rate_hz`: one of `BUILTIN_NAMES`.

    The samples are cached per (name, rate) and shared between calls, so the
    array is read-only; copy it before changing it in place.
    """
    if name not in BUILTIN_NAMES:
        known = ", ".join(BUILTIN_NAMES)
        raise BulletinError(f"unknown builtin sound {name!r}; known builtin sounds: {known}")
    if int(rate_hz) != rate_hz or rate_hz < _MIN_RATE_HZ:
        raise BulletinError(
            f"cannot make builtin sound {name!r} at {rate_hz!r} Hz: "
            f"the rate must be a whole number of at least {_MIN_RATE_HZ} Hz"
        )
    return Audio(_render(name, int(rate_hz)), int(rate_hz))


def loop_to(audio: Audio, duration_s: float, crossfade_s: float | None = None) -> Audio:
    """Tile `audio` end to start until it lasts `duration_s` (rounded to whole frames).

    The output starts with the audio's own beginning. With `crossfade_s` None,
    audio whose end already runs smoothly into its start (the builtin bed, or a
    file that fades out and in) is tiled as it is, and any other audio gets an
    equal-power crossfade of LOOP_CROSSFADE_S at each join. A number forces that
    crossfade length; 0 tiles as it is.
    """
    frames = max(0, round(duration_s * audio.rate_hz))
    samples = np.asarray(audio.samples, np.float32)
    length = samples.shape[0]
    if length == 0:
        raise BulletinError("cannot loop an empty sound: it has no frames")
    if frames <= length:
        return Audio(samples[:frames].copy(), audio.rate_hz)
    if crossfade_s is None:
        crossfade_s = 0.0 if _loops_smoothly(samples) else LOOP_CROSSFADE_S
    # A crossfade longer than a quarter of the sound would eat the sound itself.
    overlap = min(round(crossfade_s * audio.rate_hz), length // 4)
    if overlap <= 0:
        return Audio(np.resize(samples, (frames, samples.shape[1])), audio.rate_hz)
    # One period of the loop: the sound without its last `overlap` frames, whose
    # first `overlap` frames are the old tail fading out under the head fading
    # in. It ends on the frame before the tail, and wraps into the tail again,
    # so every join is continuous. Equal power, because head and tail of a
    # recording are unrelated signals.
    period = samples[: length - overlap].copy()
    ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
    fade_in = np.sin(0.5 * np.pi * ramp)[:, None]
    fade_out = np.cos(0.5 * np.pi * ramp)[:, None]
    period[:overlap] = samples[:overlap] * fade_in + samples[length - overlap :] * fade_out
    out = np.resize(period, (frames, samples.shape[1]))
    out[:overlap] = samples[:overlap]  # the very first pass starts clean, not mid-crossfade
    return Audio(out, audio.rate_hz)


def _loops_smoothly(samples: np.ndarray, context_frames: int = 32) -> bool:
    """True when the jump from the last frame to the first is like the steps around it."""
    context = min(context_frames, samples.shape[0] // 2)
    if context < 2:
        return False
    seam = np.abs(samples[0] - samples[-1]).max()
    local = max(
        np.abs(np.diff(samples[:context], axis=0)).max(),
        np.abs(np.diff(samples[-context:], axis=0)).max(),
    )
    return bool(seam <= 2.0 * local + 1e-6)


# Rendering --------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _render(name: str, rate_hz: int) -> np.ndarray:
    mono = _MAKERS[name](rate_hz)
    out = np.ascontiguousarray(mono, np.float32).reshape(-1, 1)
    out.setflags(write=False)  # shared by every caller through the cache
    return out


def _open(rate_hz: int) -> np.ndarray:
    """A rising brass motif over a ticking pulse, two stabs, then a bright held chord."""
    score = Score(3.4, rate_hz)
    sixteenth_s = 0.125  # 120 bpm
    for i in range(16):  # the news pulse: ticks on sixteenths, accented on the beat
        score.add(i * sixteenth_s, tick(hz(84), rate_hz, level=0.22 if i % 4 == 0 else 0.1))
    for i, midi in enumerate((67, 72, 74, 76)):  # G4 C5 D5 E5 ...
        score.add(i * 0.25, brass(hz(midi), 0.16, rate_hz, release_s=0.08), level=0.5)
    score.add(1.0, brass(hz(79), 0.3, rate_hz, release_s=0.12), level=0.55)  # ... up to G5
    for start_s in (1.5, 1.75):  # two short C major stabs
        score.add(start_s, chord((60, 64, 67, 72), 0.09, rate_hz, release_s=0.07), level=0.7)
    # The held chord: C major with an added ninth, spread over three octaves.
    score.add(2.0, chord((48, 55, 60, 64, 67, 74, 79), 0.8, rate_hz, release_s=0.5), level=0.8)
    _timpani(score, ((0.0, 36, 0.4), (1.0, 43, 0.4), (1.5, 36, 0.35), (1.75, 36, 0.35), (2.0, 36, 0.6)), rate_hz)
    return score.finish(STING_PEAK_DBFS, fade_s=0.4)


def _timpani(score: Score, hits: tuple[tuple[float, int, float], ...], rate_hz: int) -> None:
    """Timpani strokes under a sting: (start_s, MIDI note, level) each."""
    for start_s, midi, level in hits:
        score.add(start_s, timpani(hz(midi), rate_hz), level=level)


def _close(rate_hz: int) -> np.ndarray:
    """A IV - V - I cadence in C: two stabs each on F and on G, then C held and faded."""
    score = Score(3.1, rate_hz)
    for i in range(12):  # ticks on eighths until the resolution
        score.add(i * 0.125, tick(hz(84), rate_hz, level=0.2 if i % 2 == 0 else 0.09))
    chords = (
        (0.0, (53, 57, 60, 65, 69)),  # F major
        (0.375, (53, 57, 60, 65, 69)),
        (0.75, (55, 59, 62, 67, 71)),  # G major
        (1.125, (55, 59, 62, 65, 67, 71)),  # G7: the seventh wants to fall to E
    )
    for start_s, notes in chords:
        score.add(start_s, chord(notes, 0.14, rate_hz, release_s=0.1), level=0.65)
    score.add(1.3125, brass(hz(74), 0.12, rate_hz, release_s=0.06), level=0.4)  # D5 pickup
    score.add(1.5, chord((48, 55, 60, 64, 67, 72), 0.8, rate_hz, release_s=0.6), level=0.8)
    _timpani(score, ((0.0, 41, 0.4), (0.375, 41, 0.3), (0.75, 43, 0.4), (1.125, 43, 0.3), (1.5, 36, 0.6)), rate_hz)
    return score.finish(STING_PEAK_DBFS, fade_s=0.5)


def _transition(rate_hz: int) -> np.ndarray:
    """A rising noise swoosh into two bright notes, G5 then C6, over a soft low hit."""
    score = Score(1.8, rate_hz)
    score.add(0.0, swoosh(0.65, rate_hz), level=1.0)
    score.add(0.5, brass(hz(79), 0.12, rate_hz, release_s=0.1, decay_s=0.15), level=0.6)
    score.add(0.75, brass(hz(84), 0.35, rate_hz, release_s=0.4, decay_s=0.3), level=0.65)
    score.add(0.75, brass(hz(72), 0.35, rate_hz, release_s=0.4, decay_s=0.3), level=0.35)
    score.add(0.75, timpani(hz(36), rate_hz), level=0.35)
    return score.finish(STING_PEAK_DBFS, fade_s=0.35)


def _bed(rate_hz: int) -> np.ndarray:
    """Am - F - C - G as a slow pad with a sub pulse on each beat; exactly one loop long.

    Everything is a function of the loop position `phase` (0 to 1) and every
    partial makes a whole number of cycles per loop, so the last frame runs
    into the first like any other pair of frames. It is drawn at a low rate
    (all content is far below its Nyquist) and brought to `rate_hz` with an FFT
    resampler, which treats its input as periodic: exact for a loop, and fast.
    """
    synth_rate_hz = 4000
    frames = round(BED_LOOP_S * synth_rate_hz)
    phase = np.arange(frames) / frames
    chords = (  # (sub root, pad notes) as MIDI numbers
        (33, (45, 52, 57, 60, 64)),  # A minor
        (29, (41, 48, 57, 60, 65)),  # F major
        (36, (48, 55, 60, 64, 67)),  # C major
        (31, (43, 50, 55, 59, 62)),  # G major
    )
    beats_per_chord = 4
    beat = (phase * len(chords) * beats_per_chord) % 1.0
    # A soft pulse per beat: a 5 % rise, then a decay that reaches exactly zero
    # at the next beat, so the envelope has no step anywhere.
    decay = 0.3
    pulse = (1 - np.exp(-beat / 0.05)) * (np.exp(-beat / decay) - np.exp(-1 / decay))
    pulse /= pulse.max()
    pad = np.zeros(frames)
    sub = np.zeros(frames)
    for index, (root, notes) in enumerate(chords):
        window = chord_window(phase, index, len(chords), crossfade=0.5)
        for midi in notes:
            for harmonic, amp in ((1, 1.0), (2, 0.3), (3, 0.12), (4, 0.05)):
                freq_hz = hz(midi) * harmonic
                if freq_hz > 700:  # keep the pad below the speech band
                    break
                # A second partial two cycles per loop higher beats with the first
                # every 6 s: a slow, gentle chorus that is still periodic.
                offset_rad = spread_phase(midi * 7 + harmonic)
                pad += window * amp * periodic_sine(freq_hz, phase, 0, offset_rad)
                pad += window * 0.6 * amp * periodic_sine(freq_hz, phase, 2, offset_rad + 0.7)
        sub += (
            window
            * pulse
            * (
                periodic_sine(hz(root + 12), phase, 0, 1.0)
                + 0.25 * periodic_sine(hz(root + 24), phase, 0, 2.0)
            )
        )
    mono = pad / np.abs(pad).max() + 0.6 * sub / np.abs(sub).max()
    mono = scipy.signal.resample(mono, round(BED_LOOP_S * rate_hz))
    return mono * (10 ** (BED_PEAK_DBFS / 20) / np.abs(mono).max())


_MAKERS: dict[str, Callable[[int], np.ndarray]] = {
    "open": _open,
    "close": _close,
    "transition": _transition,
    "bed": _bed,
}
