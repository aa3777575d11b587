"""Synthesize: every segment becomes a Take (its audible audio at the output rate, levelled to
TAKE_LUFS so voices, clips and stings match before mixing).

A speech take is made of sentences (see sentences.py), each cached under its own key, and is
cached whole as well: a warm render reads the segment's take and measures nothing; after an
edit, only the sentences that changed are synthesized again, then the segment is joined,
through its effect and levelled. Sentences are synthesized in parallel worker processes when
it is worth it (synthesis.py); stings, beds and clips come from sources.py.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from bulletin.base.audio import release_memory
from bulletin.base.errors import BulletinError
from bulletin.cast.presets import Preset
from bulletin.engines import get_engine
from bulletin.engines.timing import Speech
from bulletin.script.markup import has_markup
from bulletin.script.story import Story
from bulletin.sound import synthesis
from bulletin.sound.directed import direct
from bulletin.sound.sentences import (
    SentenceJob,
    SpeechJob,
    assemble_take,
    from_cache,
    sentence_jobs,
    speech_job,
)
from bulletin.sound.sources import segment_error, sound_takes
from bulletin.sound.store import TAKE_LUFS, Take, TakeStore

# worker processes cost about a third of a second each to start: use them only for more work
PARALLEL_MIN_SECONDS = 1.5
# segments being joined, filtered and levelled on helper threads at once: bounds their memory
ASSEMBLING = 8
# takes between handing freed memory back (see audio.release_memory)
TRIM_EVERY = 16

__all__ = ["TAKE_LUFS", "Take", "TakeStore", "default_workers", "respell", "sound_takes", "speech_jobs",
           "synthesize_speech"]


def respell(text: str, pronounce: dict[str, str]) -> str:
    """Whole-word, case-sensitive respellings, longest first; punctuation around words kept."""
    if not pronounce:
        return text
    words = sorted(pronounce, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])")
    return pattern.sub(lambda m: pronounce[m.group(1)], text)


def spoken_text(text: str, pronounce: dict[str, str], phonemes: dict[str, str]) -> str:
    """What the voices are given for a speech text: respelled, and with words that have an IPA
    pronunciation in `<phoneme>`; a text without markup and without such words is respelled
    only, exactly as before markup existed."""
    said_in_ipa = phonemes and re.search(r"(?<![\w-])(" + "|".join(map(re.escape, phonemes)) + r")(?![\w-])", text)
    if not said_in_ipa and not has_markup(text):
        return respell(text, pronounce)
    respellings = {word: said for word, said in pronounce.items() if word not in phonemes}  # IPA wins
    return direct(text, lambda words: respell(words, respellings), phonemes)


def speech_jobs(story: Story, voices: dict[int, Preset], rate_hz: int, pace: float = 1.0) -> dict[int, SpeechJob]:
    """The speech job of every speech segment, by segment index; `pace` multiplies every
    segment's rate (a bulletin fitted to its post speaks a little faster or slower)."""
    versions: dict[str, str] = {}
    jobs: dict[int, SpeechJob] = {}
    for s in story.segments:
        if s.kind != "speech":
            continue
        preset = voices[s.index]
        if preset.engine not in versions:
            versions[preset.engine] = get_engine(preset.engine).version()
        jobs[s.index] = speech_job(spoken_text(s.text or "", story.pronounce, story.phonemes), preset,
                                   round(s.rate * pace, 6), s.effect or "none",
                                   rate_hz, language=story.language, engine_version=versions[preset.engine])
    return jobs


def synthesize_speech(
    jobs: dict[int, SpeechJob],
    store: TakeStore,
    workers: int,
    on_take: Callable[[int], None] = lambda index: None,
    helpers: ThreadPoolExecutor | None = None,
) -> dict[int, Take]:
    """Takes for speech jobs: from the cache where it has them, else from their sentences."""
    takes: dict[int, Take] = {}
    todo: dict[int, SpeechJob] = {}
    repeats: dict[int, int] = {}  # segments that say what another one says: made once
    first: dict[str, int] = {}
    for index, job in jobs.items():
        hit = store.lookup(job.key, job.rate_hz)
        if hit is not None:
            takes[index] = hit
            on_take(index)
        elif job.key in first:
            repeats[index] = first[job.key]
        else:
            first[job.key] = index
            todo[index] = job
    if todo:
        own = helpers is None
        pool = helpers or ThreadPoolExecutor(max_workers=2, thread_name_prefix="takes")
        try:
            _Assembly(todo, store, takes, on_take, pool).run(workers)
        finally:
            if own:
                pool.shutdown(wait=True)
    for index, same in repeats.items():
        takes[index] = takes[same]
        on_take(index)
    return takes


class _Assembly:
    """Segments waiting for their sentences: each is joined, filtered and levelled on a helper
    thread as soon as its last sentence is ready, and a sentence is let go when no segment
    waits for it any more."""

    def __init__(self, todo: dict[int, SpeechJob], store: TakeStore, takes: dict[int, Take],
                 on_take: Callable[[int], None], pool: ThreadPoolExecutor) -> None:
        self.todo, self.store, self.takes, self.on_take, self.pool = todo, store, takes, on_take, pool
        self.missing = {index: {s.key for s in job.sentences} for index, job in todo.items()}
        self.users: dict[str, list[int]] = defaultdict(list)  # sentence key -> segments saying it
        for index, keys in self.missing.items():
            for key in keys:
                self.users[key].append(index)
        # the segment an error in a sentence is reported for: the first that says it
        self.where = {key: indices[0] for key, indices in self.users.items()}
        self.audio: dict[str, Speech] = {}
        self.assembling: dict[int, Future] = {}

    def run(self, workers: int) -> None:
        cache = self.store.cache
        to_make = []
        for sentence in sentence_jobs(self.todo.values()):
            found = from_cache(sentence, cache)
            if found is not None:
                self.ready(sentence.key, found)
            else:
                to_make.append(sentence)
        seconds = sum(len(s.text) / get_engine(s.preset.engine).chars_per_second for s in to_make)
        if workers > 1 and len(to_make) > 1 and seconds > PARALLEL_MIN_SECONDS:
            synthesis.in_workers(to_make, self.made, self.failed, workers)
        elif to_make:
            synthesis.in_process(to_make, self.made, self.failed, self.pool)
        self.collect(wait=True)

    def failed(self, sentence: SentenceJob, error: BulletinError) -> BulletinError:
        return segment_error(self.where[sentence.key], error)

    def made(self, sentence: SentenceJob, said: Speech) -> None:
        if self.store.cache is not None:
            self.store.cache.put(sentence.key, said.audio.samples, None, said.words)
        self.ready(sentence.key, said)
        self.collect(wait=False)

    def ready(self, key: str, audio: Speech) -> None:
        self.audio[key] = audio
        for index in list(self.users[key]):
            self.missing[index].discard(key)
            if not self.missing[index]:
                self._assemble(index)

    def _assemble(self, index: int) -> None:
        job = self.todo[index]
        sentences = [self.audio[s.key] for s in job.sentences]
        self.assembling[index] = self.pool.submit(assemble_take, job, sentences)
        for key in {s.key for s in job.sentences}:
            self.users[key].remove(index)
            if not self.users[key]:
                del self.audio[key]
        while len(self.assembling) > ASSEMBLING:
            self._collect_one(next(iter(self.assembling)))

    def collect(self, wait: bool) -> None:
        for index in list(self.assembling):
            if wait or self.assembling[index].done():
                self._collect_one(index)

    def _collect_one(self, index: int) -> None:
        future = self.assembling.pop(index)
        try:
            made = future.result()
        except BulletinError as error:
            raise segment_error(index, error) from None
        job = self.todo[index]
        self.takes[index] = self.store.add(job.key, made, job.rate_hz)
        self.on_take(index)
        if len(self.takes) % TRIM_EVERY == 0:
            release_memory()


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
