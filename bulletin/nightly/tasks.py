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

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from bulletin.base.audio import Audio
from bulletin.pipeline.planning import Plan
from bulletin.pipeline.render import finish
from bulletin.sound.cache import TakeCache
from bulletin.sound.sentences import SentenceJob, SpeechJob, assemble_take, synthesize_sentence
from bulletin.sound.takes import Take

Made = tuple[np.ndarray, np.ndarray | None]  # samples, and the profile of a take (None: a sentence)


@dataclass(frozen=True)
class MadeSentence:
    audio: Audio
    synthesized: int  # engine calls this task made: 0 when the sentence was read from the cache


@dataclass(frozen=True)
class BulletinOrder:
    """A bulletin to mix once its speech takes are made; the sounds come made (by the client,
    which reads the story's clips and stings)."""

    plan: Plan
    sounds: dict[int, Take]  # sting and clip takes by segment index
    beds: dict[int, Take]  # by story index
    formats: tuple[str, ...]
    target_lufs: float | None


@dataclass(frozen=True)
class BulletinFiles:
    """A mixed bulletin: each file's name and bytes by extension, and its measurements."""

    files: dict[str, tuple[str, bytes]]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    cue: dict
    mix_s: float  # the worker's time for this task


@cache
def worker_cache(folder: str | None) -> TakeCache:
    """The take cache a worker uses: the shared folder given to `build --cache`, else its own."""
    return TakeCache(Path(folder)) if folder else TakeCache()


def _through_cache(cache_: TakeCache, key: str, make: Callable[[], Made]) -> tuple[Made, int]:
    """An entry from the cache, else made (and put there); and 1 if it was made, else 0."""
    entry = cache_.read(key)
    if entry is not None and entry[0].ndim == 2:
        return entry, 0
    made = make()
    cache_.put(key, *made)
    return made, 1


def make_sentence(job: SentenceJob, cache_folder: str | None) -> MadeSentence:
    """A sentence's audio from the cache, else from the engine (which checks that it is the
    version the job's key was made with)."""
    (samples, _), synthesized = _through_cache(
        worker_cache(cache_folder), job.key, lambda: (synthesize_sentence(job).samples, None)
    )
    return MadeSentence(Audio(samples, job.rate_hz), synthesized)


def synthesized(made: MadeSentence) -> int:
    """How many engine calls a sentence task made (a tiny task, so its count reaches the
    client without the sentence's audio)."""
    return made.synthesized


def make_take(job: SpeechJob, sentences: list[MadeSentence], cache_folder: str | None) -> Take:
    """A speech segment's take: from the cache, else joined from its sentences, through its
    effect, levelled."""
    (samples, profile), _ = _through_cache(
        worker_cache(cache_folder),
        job.key,
        lambda: assemble_take(job, [s.audio for s in sentences]),
    )
    return Take.of(samples, job.rate_hz, profile)


def mix_bulletin(order: BulletinOrder, speech: dict[int, Take]) -> BulletinFiles:
    """Arrange, mix, master and encode a bulletin from its takes; the files' bytes."""
    began = time.monotonic()
    takes = speech | order.sounds
    with tempfile.TemporaryDirectory(prefix="bulletin-mix-") as folder:
        result = finish(
            order.plan, takes, order.beds, Path(folder), order.formats, order.target_lufs
        )
        files = {ext: (path.name, path.read_bytes()) for ext, path in result.files.items()}
    return BulletinFiles(
        files,
        result.duration_s,
        result.integrated_lufs,
        result.true_peak_dbtp,
        result.cue,
        time.monotonic() - began,
    )
