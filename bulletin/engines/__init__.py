"""Speech engines behind one small interface; a new engine is one module and one line below."""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Protocol

from bulletin.base.audio import resample
from bulletin.base.errors import BulletinError
from bulletin.engines.timing import Speech, scaled

if TYPE_CHECKING:
    from collections.abc import Callable

    from bulletin.cast.presets import Preset

# engine name -> module that defines `create() -> Engine`
ENGINES: dict[str, str] = {
    "espeak": "bulletin.engines.espeak",
    "espeak-system": "bulletin.engines.espeak_system",
    "piper": "bulletin.engines.piper",
    "kokoro": "bulletin.engines.kokoro",
}


class Engine(Protocol):
    """Turns text into speech for one preset."""

    name: str
    # rough synthesis speed in characters per second of wall time, to decide on parallelism
    chars_per_second: float
    # a sentence longer than this is voiced (and cached) clause by clause, so an edit costs one
    # clause; None where saying a whole sentence again is quick anyway
    clause_chars: int | None

    def version(self) -> str:
        """Everything about the engine that changes its sound (goes into the take cache key)."""
        ...

    def synthesize(self, text: str, preset: Preset, rate: float) -> Speech:
        """Speak `text` with `preset` at `rate` times its own pace: mono Audio at the engine's
        rate, and the start and end of each word (`text.split()`) in it."""
        ...

    def voices(self) -> list[str]:
        """The engine voices available on this machine."""
        ...

    def problem(self, preset: Preset) -> str | None:
        """Why `preset` cannot be spoken on this machine, or None when it can."""
        ...


@cache
def get_engine(name: str) -> Engine:
    """The engine called `name`, created once per process."""
    if name not in ENGINES:
        raise BulletinError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
    module = importlib.import_module(ENGINES[name])
    return module.create()


def engine_problem(name: str) -> str | None:
    """Why engine `name` cannot run here (not installed, library missing), or None."""
    try:
        get_engine(name)
    except BulletinError as error:
        return str(error)
    return None


def speak(text: str, preset: Preset, rate: float) -> Speech:
    """`text` in `preset`'s voice at `rate` times its pace, resized by its `shift_semitones`;
    a text with voice directions (script.markup) is spoken as they say (engines.directed)."""
    if "<" in text or "&" in text:
        from bulletin.script.markup import has_markup

        if has_markup(text):
            from bulletin.engines.directed import speak_directed

            return speak_directed(text, preset, rate)
    return speak_plain(text, preset, rate)


def speak_plain(text: str, preset: Preset, rate: float) -> Speech:
    """`text`, read as written (no markup), in `preset`'s voice at `rate` times its pace."""
    engine = get_engine(preset.engine)
    return shifted(lambda p, r: engine.synthesize(text, p, r), preset, rate)


def has_duration_model(name: str) -> bool:
    """Whether engine `name` can tell how long it will take to say a text without saying it
    (an engine method `predicted_s(text, preset, rate)`: Kokoro's duration predictor)."""
    return hasattr(get_engine(name), "predicted_s")


def predicted_s(text: str, preset: Preset, rate: float) -> float:
    """How long `speak_plain` would make `text` (its audible span, in seconds), from the engine's
    own duration model (see has_duration_model), without making audio."""
    factor = 2.0 ** (preset.shift_semitones / 12)  # as `shifted` speaks and plays it back
    return get_engine(preset.engine).predicted_s(text, preset, rate / factor) / factor  # type: ignore[attr-defined]


def shifted(synthesize: Callable[[Preset, float], Speech], preset: Preset, rate: float) -> Speech:
    """`synthesize(preset, rate)` resized by the preset's `shift_semitones`, its words with it.

    The shift is the oldest trick of the tape machine, kept clean: the engine speaks faster by
    the shift's factor and the result is played back slower by it (a resampling). Pitch and
    formants move together, as between a bigger and a smaller speaker of one accent, and the
    pace comes back to the preset's own. A formant-preserving pitch shift would only retune the
    same speaker; this makes another one, and costs no more than a resampling.
    """
    if not preset.shift_semitones:
        return synthesize(preset, rate)
    factor = 2.0 ** (preset.shift_semitones / 12)
    spoken = synthesize(preset, rate / factor)
    rate_hz = spoken.audio.rate_hz
    return scaled(spoken, resample(spoken.audio, rate_hz, played_at_hz=rate_hz * factor))
