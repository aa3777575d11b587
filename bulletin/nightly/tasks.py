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

import numpy as np

from bulletin.base.audio import Audio
from bulletin.pipeline.planning import Plan
from bulletin.pipeline.render import finish
from bulletin.script.story import Sound
from bulletin.sound.cache import TakeCache, open_cache
from bulletin.sound.sentences import SentenceJob, SpeechJob, assemble_take, synthesize_sentence
from bulletin.sound.takes import Take, TakeStore, sound_takes

Made = tuple[np.ndarray, np.ndarray | None]  # samples, and the profile of a take (None: a sentence)


@dataclass(frozen=True)
class MadeSentence:
    audio: Audio
    synthesized: int  # engine calls this task made: 0 when the sentence was read from the cache


@dataclass(frozen=True)
class BulletinOrder:
    """A bulletin to mix once its takes are made."""

    plan: Plan
    formats: tuple[str, ...]
    target_lufs: float | None
    now: dt.datetime | None = None  # the build's time: where the air window starts by default


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


def _through_cache(cache_: TakeCache, key: str, make: Callable[[], Made]) -> tuple[Made, int]:
    """An entry from the cache, else made (and put there); and 1 if it was made, else 0."""
    entry = cache_.read(key)
    if entry is not None and entry[0].ndim == 2:
        return entry, 0
    made = make()
    cache_.put(key, *made)
    return made, 1


def make_sentence(job: SentenceJob, cache: str | None) -> MadeSentence:
    """A sentence's audio from the cache, else from the engine (which checks that it is the
    version the job's key was made with)."""
    tune_memory()
    (samples, _), synthesized = _through_cache(
        worker_cache(cache), job.key, lambda: (synthesize_sentence(job).samples, None)
    )
    return MadeSentence(Audio(samples, job.rate_hz), synthesized)


def synthesized(made: MadeSentence) -> int:
    """How many engine calls a sentence task made (a tiny task, so its count reaches the
    client without the sentence's audio)."""
    return made.synthesized


def make_take(job: SpeechJob, sentences: list[MadeSentence], cache: str | None) -> Take:
    """A speech segment's take: from the cache, else joined from its sentences, through its
    effect, levelled."""
    tune_memory()
    (samples, profile), _ = _through_cache(
        worker_cache(cache),
        job.key,
        lambda: assemble_take(job, [s.audio for s in sentences]),
    )
    return Take.of(samples, job.rate_hz, profile)


def in_memory(take: Take) -> Take:
    """A take with its samples (a clip's gain applied) and profile in memory, not in files of
    this machine, to travel to another."""
    return Take.of(take.samples(), take.rate_hz, take.profile())


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
    with tempfile.TemporaryDirectory(prefix="bulletin-mix-") as folder:
        result = finish(order.plan, takes, beds, Path(folder), order.formats, order.target_lufs, now=order.now)
        files = {ext: (path.name, path.read_bytes()) for ext, path in result.files.items()}
    return BulletinFiles(
        files, result.duration_s, result.integrated_lufs, result.true_peak_dbtp, result.cue
    )
