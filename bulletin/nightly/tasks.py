"""What a Dask worker runs for a cluster build (bulletin.nightly.cluster submits these).

A take is one task named by its content key, so a sentence that several bulletins say is made
once per cluster, and a task for a take the cache already holds is a read. A bulletin's
arranging, mixing, mastering and encoding is one task after its takes; it writes the files in
a temporary folder of the worker and returns their bytes, so a worker never writes into a
publish folder. Everything here is a plain function of picklable arguments: a worker that dies
has its tasks rerun elsewhere. Engines are created once per worker process (get_engine is
cached), so their start-up is not paid per take.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bulletin.base.errors import BulletinError
from bulletin.engines import get_engine
from bulletin.pipeline.render import Plan, finish
from bulletin.sound.cache import TakeCache
from bulletin.sound.takes import SpeechJob, Take, speak


@dataclass(frozen=True)
class TakeOrder:
    """One take to make: the job, its content key and the engine version the key holds."""

    job: SpeechJob
    key: str
    engine_version: str


@dataclass(frozen=True)
class MadeTake:
    take: Take  # in memory
    synthesized: int  # engine calls this task made: 0 when the take was read from the cache


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


def make_take(order: TakeOrder, cache_folder: str | None) -> MadeTake:
    """A speech take from the cache, else from the engine (and then into the cache)."""
    job, key = order.job, order.key
    cache_ = worker_cache(cache_folder)
    samples = cache_.get(key)
    if samples is not None and samples.ndim == 2:
        return MadeTake(Take.of(samples, job.rate_hz, cache_.get_profile(key)), 0)
    version = get_engine(job.preset.engine).version()
    if version != order.engine_version:
        # the key promises the client's engine's sound: a worker with another must not fill it
        raise BulletinError(
            f"engine {job.preset.engine!r} on this worker is {version!r}; the build asked for "
            f"{order.engine_version!r} (install the same bulletin and engines on every machine)"
        )
    samples, profile = speak(job)
    cache_.put(key, samples, profile)
    return MadeTake(Take.of(samples, job.rate_hz, profile), 1)


def synthesized(made: MadeTake) -> int:
    """How many engine calls a take task made (a tiny task, so its count reaches the client
    without the take's audio)."""
    return made.synthesized


def mix_bulletin(order: BulletinOrder, made: dict[int, MadeTake]) -> BulletinFiles:
    """Arrange, mix, master and encode a bulletin from its takes; the files' bytes."""
    began = time.monotonic()
    takes = {index: m.take for index, m in made.items()} | order.sounds
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
