"""How long a speech segment will last, from its text and its voice, without making audio
(for `check`, the studio's timings and fitting a bulletin to its post).

Where the engine has a duration model of its own (Kokoro: its duration predictor, see
engines.kokoropace), the take is timed piece by piece as the renderer will voice it, with the
joins between the pieces counted exactly: the estimate is then the take's length but for the
silence trimmed from each piece's ends. On the three stories of scripts/stories (never fitted
on) it was +0.3%, +0.4% and -0.8% of the rendered length (scripts/bench.py --estimate).

Otherwise (and `rough`: the room a render's files need, which must not load a model) the model
is the text's features: its characters are words at `chars_per_word`, spoken at the preset's
pace (`rate_wpm` times the segment's `rate`), plus a pause at every sentence break and a
shorter one at every comma, colon or semicolon inside a sentence, each engine with its own
constants, fitted by `scripts/fit_estimate.py` on the example and generated texts of several
styles and checked on texts the fit never saw (tests/pipeline/test_estimate.py for espeak-ng).
Kokoro's rough figures count the joins of its pieces as the renderer makes them and each
preset's own speaking factor (SPEAKING, measured on the example and the harbour)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from bulletin.cast.presets import Preset
from bulletin.engines import get_engine, has_duration_model, predicted_s
from bulletin.pipeline.fitting import ESTIMATE_ERROR, PREDICTED_ERROR
from bulletin.pipeline.planning import Plan
from bulletin.script.directions import breaks_s
from bulletin.script.story import Segment
from bulletin.sound.sentences import (
    CLAUSE_SHARE,
    EDGE_S,
    sentence_pause_s,
    split_pieces,
)
from bulletin.sound.takes import respell


class Pace(NamedTuple):
    chars_per_word: float  # characters of text per word of the preset's words per minute
    sentence_s: float  # at each sentence break (the takes join sentences with a pause)
    pause_s: float  # at each comma, colon or semicolon followed by a space
    words_per_digit: float  # numbers are read out: "1,250" is four words, not one
    joins: bool = False  # sentence_s and pause_s unused: the take's joins counted as the renderer makes them
    speaking: float = 1.0  # a preset's speech against chars_per_word, for presets not in SPEAKING


# fitted by scripts/fit_estimate.py on 28 texts (half the example's segments, 24 generated),
# two presets each, checked on 28 others (refitted 2026-12-05): espeak-ng total -1.0% and 0.0%,
# median 2.6% per text, worst -8.6%; piper -0.6% and +1.2%, median 2.8%, worst +11.6%
PACES: dict[str, Pace] = {
    "espeak": Pace(chars_per_word=6.62, sentence_s=0.396, pause_s=0.146, words_per_digit=0.945),
    "espeak-system": Pace(chars_per_word=6.62, sentence_s=0.396, pause_s=0.146, words_per_digit=0.945),
    # the engine now speaks its presets 13% faster than the figures of the first fit said
    "piper": Pace(chars_per_word=7.45, sentence_s=0.499, pause_s=0.286, words_per_digit=0.761),
    # the pieces' speech fitted on the example's 34 (four presets, 2026-12-05); digits as fitted on jm_kumo
    "kokoro": Pace(chars_per_word=5.82, sentence_s=0.0, pause_s=0.0, words_per_digit=0.858, joins=True,
                   speaking=0.925),
}
# How long a shipped preset's speech takes against its engine's figures: Kokoro's voices keep
# their nominal pace differently (measured over the example and the harbour as `auto` casts
# them, 2026-12-05: 10 to 140 s of each voice; the median, 0.925, for the presets not measured)
SPEAKING: dict[str, float] = {
    "anchor-clear": 0.938, "guest-soft": 0.851, "guest-warm": 0.821, "official-deep": 0.949,
    "reporter-bright": 0.925, "reporter-clear": 1.053, "reporter-warm": 0.867,
}
# an engine not fitted yet: espeak-ng's figures
DEFAULT_PACE = PACES["espeak"]

_SENTENCE_BREAK = re.compile(r"[.!?][\"')\]]*\s+(?=\S)")
_PAUSE = re.compile(r"[,;:]\s")


def speech_duration_s(text: str, preset: Preset, rate: float = 1.0, *, pace: Pace | None = None,
                      rough: bool = False) -> float:
    """Estimated seconds of speech for `text` said by `preset` at `rate` times its pace: from
    the engine's own duration model where it has one (Kokoro), piece by piece as the take is
    made, else (or `rough`, or with `pace`) from the text's features with its engine's fitted
    constants (or `pace`)."""
    said = " ".join(text.split())
    if not rough and pace is None and said and has_duration_model(preset.engine):
        pieces = _pieces(said, get_engine(preset.engine).clause_chars)
        return sum(predicted_s(piece, preset, rate) for piece, _ in pieces) + joins_s(said, preset, rate)
    pace = pace or PACES.get(preset.engine, DEFAULT_PACE)
    char_s, breaks, pauses, digit_s = estimate_features(text, preset, rate)
    speech_s = (char_s / pace.chars_per_word + digit_s * pace.words_per_digit) * SPEAKING.get(preset.name, pace.speaking)
    if pace.joins:
        return speech_s + joins_s(text, preset, rate)
    return speech_s + breaks * pace.sentence_s + pauses * pace.pause_s


def joins_s(text: str, preset: Preset, rate: float = 1.0) -> float:
    """The silence between the pieces of the take the renderer makes of `text`: a sentence
    pause between sentences, a shorter one between clauses voiced apart (less the edges each
    piece keeps, which count as its speech)."""
    sentences, clauses = _joins(" ".join(text.split()), get_engine(preset.engine).clause_chars)
    pause = sentence_pause_s(preset, rate)
    return sentences * max(pause - 2 * EDGE_S, 0.0) + clauses * max(pause * CLAUSE_SHARE - 2 * EDGE_S, 0.0)


@lru_cache(maxsize=4096)
def _pieces(text: str, clause_chars: int | None) -> tuple[tuple[str, bool], ...]:
    """The pieces a take of `text` is voiced in, each with whether it starts a sentence
    (sound.sentences.split_pieces), kept: a fit asks again at every pace it tries."""
    return tuple(split_pieces(text, clause_chars)) if text else ()


def _joins(text: str, clause_chars: int | None) -> tuple[int, int]:
    """(sentence joins, clause joins) of a take of `text` (see sound.sentences.speech_job)."""
    pieces = _pieces(text, clause_chars)
    sentences = sum(starts for _, starts in pieces)
    return max(sentences - 1, 0), len(pieces) - sentences


def estimate_features(text: str, preset: Preset, rate: float = 1.0) -> tuple[float, int, int, float]:
    """The model's inputs: the seconds the text would take at one character a word (characters
    over words per second), the sentence breaks, the pauses inside sentences, and the seconds
    its digits would take at one word each."""
    words_per_s = preset.rate_wpm * rate / 60
    return (len(text) / words_per_s, len(_SENTENCE_BREAK.findall(text.strip())), len(_PAUSE.findall(text)),
            sum(c.isdigit() for c in text) / words_per_s)


def segment_speech_s(p: Plan, s: Segment, pace: float = 1.0, *, rough: bool = False) -> float:
    """Estimated seconds of a speech segment's take at `pace` times its rate: its words as the
    voices are given them (respelled), and its breaks."""
    said = respell(s.written or "", p.story.pronounce)
    return speech_duration_s(said, p.voices[s.index], round(s.rate * pace, 6), rough=rough) + breaks_s(s.text or "")


def speech_estimates(p: Plan, pace: float = 1.0) -> dict[int, float]:
    """Estimated seconds of every speech segment of a plan, spoken at `pace` times its rate."""
    return {s.index: segment_speech_s(p, s, pace) for s in p.story.segments if s.kind == "speech"}


def roughly_timed(p: Plan) -> dict[int, str]:
    """The preset of each speech segment whose estimate is its text's features alone (its
    engine has no duration model of its own), by segment index."""
    return {s.index: p.voices[s.index].name for s in p.story.segments
            if s.kind == "speech" and not has_duration_model(p.voices[s.index].engine)}


def estimate_error(p: Plan) -> float:
    """How far the estimate of a plan's speech may be off, as a share of it (the room a fit
    leaves in the gaps): less where every voice is timed by its engine's duration model."""
    return ESTIMATE_ERROR if roughly_timed(p) else PREDICTED_ERROR
