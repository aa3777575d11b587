"""What a Dask worker runs for a cluster build (bulletin.nightly.cluster submits these).

Every sentence is one task named by its content key (the cache key), so a sentence that
several bulletins say is synthesized once per cluster, and a task for a sentence the cache
already holds is a read. A speech segment's take (its sentences joined, through its effect,
levelled) is one task after its sentences, named by its own key, so shared segments are
joined once too. A bulletin's arranging, mixing, mastering and encoding is one task after its
takes; it writes the files in a temporary folder of the worker and returns their bytes, so a
worker never writes into a publish folder. Everything here is a plain function of picklable
arguments, so a worker that dies has its tasks rerun elsewhere; engines are created once per
worker process (get_engine is cached) and stay loaded between tasks.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bulletin.base.audio import Audio
from bulletin.engines.timing import Speech
from bulletin.pipeline.fitting import Fit, close_to_post
from bulletin.pipeline.planning import Plan
from bulletin.pipeline.render import finish, make_takes
from bulletin.script.story import Sound
from bulletin.sound.cache import Entry, TakeCache, open_cache
from bulletin.sound.sentences import SentenceJob, SpeechJob, assemble_take, synthesize_sentence
from bulletin.sound.takes import Take, TakeStore, sound_takes


@dataclass(frozen=True)
class MadeSentence:
    said: Speech  # the sentence's audio and its words' times
    synthesized: int  # engine calls this task made: 0 when the sentence was read from the cache


@dataclass(frozen=True)
class BulletinOrder:
    """A bulletin to mix once its takes are made."""

    plan: Plan
    formats: tuple[str, ...]
    target_lufs: float | None
    now: dt.datetime | None = None  # the build's time: where the air window starts by default
    post_s: float | None = None  # the story's post (master.duration): fitted to it, see fit_on_worker
    pace: float = 1.0  # the pace its speech takes were made at (planned from the estimate)
    cache: str | None = None  # the take cache, for speech made again at another pace


@dataclass(frozen=True)
class BulletinFiles:
    """A mixed bulletin: each file's name and bytes by extension, and its measurements."""

    files: dict[str, tuple[str, bytes]]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    cue: dict


# glibc's own upper bounds for its mmap and trim thresholds (64-bit), which it adapts up to
GLIBC_MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
GLIBC_TRIM_THRESHOLD_BYTES = 2 * GLIBC_MMAP_THRESHOLD_BYTES
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


@cache
def tune_memory() -> None:
    """Once per worker process: let glibc keep freed memory for reuse again.

    Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also fixes glibc's
    mmap threshold, so every numpy array over 128 KB is a fresh mmap that page-faults in:
    mixing and making stings ran about five times slower (0.5 s against 2.5 s for the open
    sting). Memory still goes back to the system where the pipeline asks (release_memory).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, GLIBC_MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, GLIBC_TRIM_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to undo


@cache
def worker_cache(location: str | None) -> TakeCache:
    """The take cache a worker uses: the folder or URL given to `build --cache`, else its own
    (BULLETIN_CACHE where the worker runs, else its user's cache folder)."""
    return open_cache(location)


def _through_cache(cache_: TakeCache, key: str, make: Callable[[], Entry]) -> tuple[Entry, int]:
    """An entry from the cache, else made (and put there); and 1 if it was made, else 0."""
    entry = cache_.read(key)
    if entry is not None and entry.samples.ndim == 2 and entry.words is not None:
        return entry, 0
    made = make()
    cache_.put(key, *made)
    return made, 1


def _sentence_entry(job: SentenceJob) -> Entry:
    said = synthesize_sentence(job)
    return Entry(said.audio.samples, None, said.words)


def make_sentence(job: SentenceJob, cache: str | None) -> MadeSentence:
    """A sentence's audio from the cache, else from the engine (which checks that it is the
    version the job's key was made with)."""
    tune_memory()
    entry, synthesized = _through_cache(worker_cache(cache), job.key, lambda: _sentence_entry(job))
    return MadeSentence(Speech(Audio(entry.samples, job.rate_hz), entry.words), synthesized)


def synthesized(made: MadeSentence) -> int:
    """How many engine calls a sentence task made (a tiny task, so its count reaches the
    client without the sentence's audio)."""
    return made.synthesized


def make_take(job: SpeechJob, sentences: list[MadeSentence], cache: str | None) -> Take:
    """A speech segment's take: from the cache, else joined from its sentences, through its
    effect, levelled."""
    tune_memory()
    entry, _ = _through_cache(worker_cache(cache), job.key, lambda: assemble_take(job, [s.said for s in sentences]))
    return Take.of(entry.samples, job.rate_hz, entry.profile, entry.words)


def in_memory(take: Take) -> Take:
    """A take with its samples (a clip's gain applied) and profile in memory, not in files of
    this machine, to travel to another."""
    return Take.of(take.samples(), take.rate_hz, take.profile(), take.words)



def make_sound(sound: Sound, rate_hz: int, cache: str | None) -> Take:
    """A builtin sting or bed, levelled (it needs no file, so any worker can make it)."""
    tune_memory()
    with TakeStore(worker_cache(cache)) as store:
        _, beds = sound_takes([], {0: sound}, store, rate_hz)
        return in_memory(beds[0])


def mix_bulletin(
    order: BulletinOrder, takes: dict[int, Take], beds: dict[int, Take]
) -> BulletinFiles:
    """Arrange, mix, master and encode a bulletin from its takes (by segment index) and beds
    (by story index); the files' bytes."""
    tune_memory()
    fit = None
    if order.post_s is not None:
        takes, fit = fit_on_worker(order, takes)
    with tempfile.TemporaryDirectory(prefix="bulletin-mix-") as folder:
        result = finish(order.plan, takes, beds, Path(folder), order.formats, order.target_lufs, now=order.now,
                        fit=fit)
        files = {ext: (path.name, path.read_bytes()) for ext, path in result.files.items()}
    return BulletinFiles(
        files, result.duration_s, result.integrated_lufs, result.true_peak_dbtp, result.cue
    )


def fit_on_worker(order: BulletinOrder, takes: dict[int, Take]) -> tuple[dict[int, Take], Fit]:
    """A bulletin's takes fitted to its post (steps 2 and 3 of pipeline.fitting): the gaps
    close what the takes made at the planned pace leave; only where they cannot is the speech
    made again, here, at the pace the measured takes call for (the estimate missed by more
    than the gaps absorb: rare, and one worker's work)."""
    p = order.plan
    speech = {s.index for s in p.story.segments if s.kind == "speech"}
    made = {i: t for i, t in takes.items() if i in speech}
    made_at = order.pace  # the pace of the takes in `made`

    def speak_at(pace: float, indices: set[int] | None) -> dict[int, float]:
        nonlocal made_at
        if pace != made_at:
            with TakeStore(worker_cache(order.cache)) as store:
                made.update(make_takes(p, speech, p.story.master.sample_rate, workers=1, store=store, pace=pace)[0])
            made_at = pace
        return {i: t.duration_s for i, t in made.items()}

    sounds = {i: t.duration_s for i, t in takes.items() if i not in speech}
    fit, _ = close_to_post(p.story, sounds, speak_at, order.pace, order.post_s or 0.0, p.story.master.pace_limit,
                           hint="")
    return takes | made, fit
