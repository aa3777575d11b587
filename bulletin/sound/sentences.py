"""Speech, sentence by sentence: what a speech segment's take is made of, as pure functions.

A segment's text (after respellings) is split into sentences; each sentence is synthesized on
its own and cached under its own content key, so editing one word re-synthesizes one sentence.
Where the engine is slow (Kokoro: about one second of wall time per second of speech here), a
long sentence is voiced and cached clause by clause instead, so that the edit of one word
re-synthesizes one clause: a 285-character sentence of the example takes 16 s to say whole,
more than the rest of a re-render. The segment's take is its pieces' audible spans joined with
a newsreader's pause between sentences and a shorter one between clauses, then the segment's
effect and level.

Everything here is a pure function of a job's content, and jobs are picklable, so the same
calls make takes in this process, in worker processes, or on a cluster (bulletin.nightly):
`speech_job` -> `SpeechJob.sentences` -> `synthesize_sentence` (or `cached_sentence`) ->
`assemble_take`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bulletin.base.audio import Audio, resample
from bulletin.base.errors import BulletinError
from bulletin.cast.presets import Preset
from bulletin.engines import get_engine, speak
from bulletin.engines.timing import Speech, joined, trimmed
from bulletin.script.markup import has_markup
from bulletin.sound.cache import Entry, TakeCache, content_key
from bulletin.sound.directed import directed_pieces
from bulletin.sound.store import (
    CACHE_VERSION,
    TAKE_LUFS,
    TAKE_VERSION,
    audible_span,
    levelled,
)

# the pause between two sentences at PAUSE_WPM: a newsreader's 0.3-0.45 s; it follows the
# pace, as a speaker's own pauses do, within those bounds
SENTENCE_PAUSE_S = 0.38
PAUSE_WPM = 165.0
PAUSE_RANGE_S = (0.30, 0.45)
# the pause between two clauses of one sentence voiced apart, as a share of the sentence pause:
# 0.25 s at a newsreader's pace, a read comma's (Kokoro's own pause at a comma ran to 0.5-0.8 s
# in the example's sentences)
CLAUSE_SHARE = 0.6
# a clause voiced on its own is at least this long: a shorter one ("In Seoul,") stays with its
# neighbour, since it would cost as much to start as to say and lose its sentence's melody
MIN_CLAUSE_CHARS = 40
# where a sentence may be parted: after a comma, semicolon or colon (and a closing quote)
# followed by a space; a comma inside a number (4,512) is not followed by one
CLAUSE_BREAK = re.compile(r"[,;:][\"'”’)]*(?=\s)")
# each sentence keeps this much of what precedes and follows its sound (see store.audible)
EDGE_S = 0.005
# a piece of a text with none of these is punctuation only: it stays with the sentence before it
_SPOKEN = re.compile(r"\w")


@dataclass(frozen=True)
class SentenceJob:
    """One sentence (or one clause of a long one) to synthesize: everything that changes its
    sound, and its cache key."""

    text: str  # one sentence or clause, after respellings
    preset: Preset
    rate: float
    rate_hz: int  # the output rate: a sentence's audio is resampled to it
    engine_version: str  # the version the key was made with (see synthesize_sentence)
    key: str


@dataclass(frozen=True)
class SpeechJob:
    """One speech segment's take: its sentences (or their clauses), then one effect and one
    level over them."""

    sentences: tuple[SentenceJob, ...]
    effect: str
    rate_hz: int
    gaps_s: tuple[float, ...]  # the pause before each piece after the first
    key: str

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @property
    def preset(self) -> Preset:
        return self.sentences[0].preset


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of `text`: abbreviations (U.S., Rep., Dr.), numbers (3.5) and quotes are
    sentencex's rules; a text with no sentence break is one sentence."""
    from sentencex import segment

    sentences: list[str] = []
    for piece in segment(language or "en", text):
        piece = " ".join(piece.split())
        if sentences and not _SPOKEN.search(piece):
            sentences[-1] = f"{sentences[-1]} {piece}"  # a closing quote or dash on its own
        elif piece:
            sentences.append(piece)
    return sentences or [" ".join(text.split())]


def split_clauses(sentence: str, longest: int | None) -> list[str]:
    """`sentence` whole when it is at most `longest` characters (or `longest` is None), else
    in clauses parted at , ; : and a space, none shorter than MIN_CLAUSE_CHARS."""
    if longest is None or len(sentence) <= longest:
        return [sentence]
    parts, start = [], 0
    for end in CLAUSE_BREAK.finditer(sentence):
        parts.append(sentence[start:end.end()].strip())
        start = end.end()
    parts.append(sentence[start:].strip())
    clauses: list[str] = []
    for part in filter(None, parts):
        if clauses and len(clauses[-1]) < MIN_CLAUSE_CHARS:  # a short clause opens the next
            clauses[-1] = f"{clauses[-1]} {part}"
        else:
            clauses.append(part)
    if len(clauses) > 1 and len(clauses[-1]) < MIN_CLAUSE_CHARS:  # and a short last one closes
        clauses[-2:] = [" ".join(clauses[-2:])]
    return clauses


def split_pieces(text: str, clause_chars: int | None, language: str = "en") -> list[tuple[str, bool]]:
    """The pieces `text` is voiced in (sentences, or clauses of long ones), each with whether
    it starts a sentence."""
    return [(clause, index == 0) for sentence in split_sentences(text, language)
            for index, clause in enumerate(split_clauses(sentence, clause_chars))]


def sentence_pause_s(preset: Preset, rate: float) -> float:
    """The pause between two sentences at the preset's pace times `rate`."""
    low, high = PAUSE_RANGE_S
    return min(max(SENTENCE_PAUSE_S * PAUSE_WPM / (preset.rate_wpm * rate), low), high)


def speech_job(text: str, preset: Preset, rate: float, effect: str, rate_hz: int, *, language: str = "en",
               engine_version: str | None = None) -> SpeechJob:
    """The job of a speech take of `text` (respelled already) with `preset`; the engine's
    version is asked of the engine here unless given."""
    engine = get_engine(preset.engine)
    version = engine_version if engine_version is not None else engine.version()
    settings = preset.sound_settings()
    pause_s = sentence_pause_s(preset, rate)

    def split(plain: str) -> list[tuple[str, bool]]:
        return split_pieces(plain, engine.clause_chars, language)

    def pause(new_sentence: bool) -> float:
        return pause_s if new_sentence else pause_s * CLAUSE_SHARE

    if has_markup(text):
        pieces, gaps = directed_pieces(text, split, pause)
    else:
        parts = split(text)
        pieces, gaps = [piece for piece, _ in parts], [pause(new) for _, new in parts[1:]]
    sentences = tuple(
        SentenceJob(piece, preset, rate, rate_hz, version, content_key(
            {"engine": preset.engine, "version": version, "preset": settings, "text": piece, "rate": rate,
             "rate_hz": rate_hz, "v": CACHE_VERSION}))
        for piece in pieces
    )
    key = content_key({"sentences": [s.key for s in sentences], "gaps_s": gaps, "effect": effect,
                       "rate_hz": rate_hz, "level": TAKE_LUFS, "v": CACHE_VERSION, "take_v": TAKE_VERSION})
    return SpeechJob(sentences, effect, rate_hz, tuple(gaps), key)


def sentence_jobs(jobs: Iterable[SpeechJob]) -> list[SentenceJob]:
    """The sentences of `jobs`, each once (a sentence that several segments say is made once),
    in the order they are first said."""
    unique: dict[str, SentenceJob] = {}
    for job in jobs:
        for sentence in job.sentences:
            unique.setdefault(sentence.key, sentence)
    return list(unique.values())


def voice_sentence(job: SentenceJob) -> Speech:
    """The engine's part of a sentence: its audible span at the engine's rate, with its words'
    times."""
    engine = get_engine(job.preset.engine)
    if engine.version() != job.engine_version:
        # the key promises this version's sound: a worker with another one must not fill it
        raise BulletinError(f"engine {job.preset.engine!r} here is {engine.version()!r}, the job "
                            f"was made for {job.engine_version!r}")
    said = speak(job.text, job.preset, job.rate)
    first, last = audible_span(said.audio, EDGE_S)
    if last <= first:
        raise BulletinError(f"{job.preset.engine} produced only silence for {job.text[:40]!r}")
    return trimmed(said, first, last)


def finish_sentence(job: SentenceJob, raw: Speech) -> Speech:
    """A voiced sentence at the output rate (mono float32); its words' times in seconds stay."""
    out = resample(raw.audio, job.rate_hz)
    return Speech(Audio(np.ascontiguousarray(out.samples, np.float32), job.rate_hz), raw.words)


def synthesize_sentence(job: SentenceJob) -> Speech:
    """One sentence's audio at the output rate and its words' times: a pure function of the job
    (the engine is created once per process)."""
    return finish_sentence(job, voice_sentence(job))


def from_cache(job: SentenceJob, cache: TakeCache | None) -> Speech | None:
    """The sentence as `cache` holds it, or None (an entry without word times is a miss)."""
    entry = cache.read(job.key) if cache is not None else None
    if entry is None or entry.samples.ndim != 2 or entry.words is None:
        return None
    return Speech(Audio(entry.samples, job.rate_hz), entry.words)


def cached_sentence(job: SentenceJob, cache: TakeCache | None) -> Speech:
    """The sentence from `cache` when it has it, else synthesized and put there."""
    found = from_cache(job, cache)
    if found is not None:
        return found
    said = synthesize_sentence(job)
    if cache is not None:
        cache.put(job.key, said.audio.samples, None, said.words)
    return said


def assemble_take(job: SpeechJob, sentences: Sequence[Speech]) -> Entry:
    """A segment's take from its sentences (in order): joined with pauses, through the effect
    (which keeps the length and timing), levelled; (samples, profile, words) as
    store.TakeStore.add takes them, the words' times in seconds from the take's start."""
    if len(sentences) != len(job.sentences):
        raise BulletinError(f"a take of {len(job.sentences)} sentences was given {len(sentences)}")
    # each sentence keeps EDGE_S of silence at both ends: the pause between two is the rest
    gaps = [np.zeros((max(round((gap_s - 2 * EDGE_S) * job.rate_hz), 0), 1), np.float32) for gap_s in job.gaps_s]
    said = joined(sentences, gaps)
    audio = said.audio
    if job.effect != "none":
        from bulletin.sound.effects import apply_effect

        audio = apply_effect(audio, job.effect)
    return levelled(audio, said.words)
