"""espeak-ng through pyttsx3's espeak driver bindings, with the library and data from PyPI.

The library and its data come from the `espeakng-loader` wheel, so pip alone gives voices and
every machine renders the same voice from the same espeak-ng version: a nightly build must not
change its sound because a server was upgraded.

pyttsx3's event loop (`save_to_file` + `runAndWait`) was measured to lose or spoil about one
take in four (missing or empty files, settings silently dropped), so this engine drives the
same ctypes bindings (`pyttsx3.drivers._espeak`) in espeak-ng's synchronous mode instead:
every take is delivered through the callback before `espeak_Synth` returns, settings are set
and checked per take, and an unknown voice raises instead of falling back silently.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.engines.espeakipa import espeak_codes
from bulletin.engines.timing import Speech, spread

if TYPE_CHECKING:
    from bulletin.cast.presets import Preset

# espeak_PARAMETER values from speak_lib.h
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
# below this a sample is the silence after a word (about -50 dBFS)
SILENCE = 0.003


class EspeakEngine:
    """One espeak-ng library per process; synthesis is serialised because espeak-ng is not
    thread-safe (parallel renders use processes, see takes.py)."""

    chars_per_second = 12_000.0
    clause_chars = None
    # <phoneme>: how IPA reaches the voice (engines.directed)
    phoneme_input = "IPA as espeak-ng's phoneme codes in [[...]] (a symbol without a code is left out, with a warning)"

    def __init__(self, name: str, binding: ModuleType, data_path: str | None) -> None:
        self.name = name
        self._e = binding
        self._lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int]] = []  # word events: (character, sample)
        path = data_path.encode() if data_path else None
        self.rate_hz = binding.Initialize(binding.AUDIO_OUTPUT_SYNCHRONOUS, 0, path, 0)
        if self.rate_hz <= 0:
            raise BulletinError(f"espeak-ng failed to initialise (data path {data_path!r})")
        binding.SetSynthCallback(self._collect)
        self._version = binding.Info().decode()

    def _collect(self, wav: ctypes.Array, count: int, events: ctypes.Array) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events and events[i].type != self._e.EVENT_LIST_TERMINATED:
            if events[i].type == self._e.EVENT_WORD:  # text_position counts characters from 1
                self._events.append((events[i].text_position - 1, events[i].sample))
            i += 1
        return 0

    def version(self) -> str:
        return f"espeak-ng {self._version}"

    def voices(self) -> list[str]:
        with self._lock:
            found = self._e.ListVoices()
        return sorted(v.languages[1:].decode(errors="replace") for v in found)

    def problem(self, preset: Preset) -> str | None:
        with self._lock:
            status = self._e.SetVoiceByName(preset.voice.encode())
        if status != 0:
            return f"espeak-ng has no voice {preset.voice!r} (see `bulletin voices`)"
        return None

    def synthesize_parts(self, parts: list[tuple[str, str]], preset: Preset, rate: float) -> Audio:
        """Words and IPA as one utterance: the IPA as espeak-ng's phoneme codes in [[...]]."""
        said = [f"[[{espeak_codes(value)[0]}]]" if kind == "ipa" else value for kind, value in parts]
        return self.synthesize(" ".join(said), preset, rate, self._e.PHONEMES).audio

    def unknown_phonemes(self, ipa: str, preset: Preset) -> str:
        """The symbols of `ipa` espeak-ng has no phoneme code for (left out when spoken)."""
        return espeak_codes(ipa)[1]

    def synthesize(self, text: str, preset: Preset, rate: float, flags: int = 0) -> Speech:
        e = self._e
        with self._lock:
            if e.SetVoiceByName(preset.voice.encode()) != 0:
                raise BulletinError(f"espeak-ng has no voice {preset.voice!r}")
            # after the voice, because choosing a voice resets these to the voice's defaults
            for parameter, value in (
                (_RATE, round(preset.rate_wpm * rate)),
                (_PITCH, preset.pitch),
                (_RANGE, preset.pitch_range),
                (_VOLUME, preset.volume),
            ):
                if e.SetParameter(parameter, value, 0) != 0:
                    raise BulletinError(f"espeak-ng refused parameter {parameter} = {value}")
            self._chunks, self._events = [], []
            status = e.Synth(text, flags=e.CHARS_UTF8 | flags)
            chunks, self._chunks = self._chunks, []
            events, self._events = self._events, []
        if status != 0 or not chunks:
            raise BulletinError(f"espeak-ng produced no audio for {text[:40]!r} (status {status})")
        samples = np.concatenate(chunks).astype(np.float32) / 32768.0
        return Speech(Audio.mono(samples, self.rate_hz), word_times(text, events, samples, self.rate_hz))


def word_times(text: str, events: list[tuple[int, int]], samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Each word's (`text.split()`) start and end in seconds from espeak-ng's word events (the
    character a word starts at, the sample it is said from): a word runs from its first event to
    the next word's, less the silence at both ends (a pause after a comma is not the word's)."""
    tokens = list(re.finditer(r"\S+", text))
    starts = [None] * len(tokens)
    for character, sample in events:
        for i, token in enumerate(tokens):
            if token.start() <= character < token.end() and starts[i] is None:
                starts[i] = sample
    if not tokens or all(start is None for start in starts):
        return spread([t.group() for t in tokens], 0.0, len(samples) / rate_hz)
    # the first word starts the sound (espeak-ng at times leaves out its event, measured after
    # piper's phonemizer ran in the same process)
    starts[0] = 0 if starts[0] is None else starts[0]
    for i in range(1, len(tokens)):  # a word espeak-ng did not mark is said with the one before

        starts[i] = starts[i] if starts[i] is not None and starts[i] >= starts[i - 1] else starts[i - 1]
    bounds = [*starts, len(samples)]
    loud = np.abs(samples) > SILENCE
    words = np.zeros((len(tokens), 2), np.float64)
    for i in range(len(tokens)):
        first, end = bounds[i], bounds[i + 1]
        sounding = np.flatnonzero(loud[first:end])
        words[i] = (first + sounding[0], first + sounding[-1] + 1) if sounding.size else (first, first)

    return words / rate_hz


def _bundled_binding() -> tuple[ModuleType, str]:
    try:
        import espeakng_loader
    except ImportError as error:
        raise BulletinError("the espeak engine needs `pip install espeakng-loader`") from error
    data_path = espeakng_loader.get_data_path()
    # Preload by full path: pyttsx3 then dlopens "libespeak-ng.so.1" and the dynamic linker
    # hands back this copy (same soname) instead of whatever the system has.
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    os.environ["ESPEAK_DATA_PATH"] = data_path
    return _import_binding(), data_path


def _import_binding() -> ModuleType:
    try:
        from pyttsx3.drivers import _espeak
    except (ImportError, RuntimeError, OSError) as error:
        raise BulletinError(f"cannot load espeak-ng through pyttsx3: {error}") from error
    return _espeak


# which espeak-ng library this process loaded: both have the same soname, so only one can live
# in a process, and a bulletin uses the bundled one or the system one, not both
_loaded: list[str] = []


def _claim(name: str) -> None:
    if _loaded and _loaded[0] != name:
        raise BulletinError(f"engines {_loaded[0]!r} and {name!r} cannot be mixed in one process")
    _loaded[:1] = [name]


def create() -> EspeakEngine:
    _claim("espeak")
    binding, data_path = _bundled_binding()
    return EspeakEngine("espeak", binding, data_path)


def create_system() -> EspeakEngine:
    """The machine's own espeak-ng (apt-get install espeak-ng), chosen explicitly by a preset;
    its sound follows the system's version, which is why the bundled one is the default."""
    _claim("espeak-system")
    return EspeakEngine("espeak-system", _import_binding(), None)
