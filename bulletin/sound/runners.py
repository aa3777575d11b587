"""Where sentences are synthesized: in this process, or in worker processes.

In this process the engine's C code speaks one sentence after another while a helper thread
resamples the previous one. Worker processes are spawned (never forked: an engine initialised
in this process must not be copied into a child; a forked espeak-ng or onnxruntime hangs) and
create their engines once each. A worker that dies (killed, out of memory) breaks the pool:
the sentences it left unfinished are tried once more in a new pool, then the render fails
with one line naming the segment.
"""

from __future__ import annotations

import contextlib
import signal
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.sound.sentences import (
    SentenceJob,
    finish_sentence,
    synthesize_sentence,
    voice_sentence,
)
from bulletin.sound.sources import segment_error

# sentences voiced here waiting to be resampled (on a helper thread): bounds their memory
PENDING = 8
# how many times a sentence is tried in worker processes that die under it
ATTEMPTS = 2

Done = Callable[[SentenceJob, Audio], None]
# the parent's to act on (see _leave_signals_to_the_parent)
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _leave_signals_to_the_parent() -> None:
    """In a worker: Ctrl-C (SIGINT to the whole process group) and SIGTERM are the parent's
    to act on; it stops the pool, and the worker ends when its queue closes."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextlib.contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back in this thread while it starts workers: the mask survives
    fork and exec, so a worker cannot be interrupted while it starts (a traceback), and this
    process gets any that came meanwhile as soon as the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks, no such race
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def in_process(jobs: list[SentenceJob], done: Done, where: dict[str, int], pool: ThreadPoolExecutor) -> None:
    """Synthesize `jobs` here, calling `done` for each in order; `where` names the segment of
    each sentence (by key) for errors."""
    pending: deque[tuple[SentenceJob, Future]] = deque()

    def collect() -> None:
        job, future = pending.popleft()
        done(job, future.result())

    try:
        for job in jobs:
            try:
                raw = voice_sentence(job)
            except BulletinError as error:
                raise segment_error(where[job.key], error) from None
            pending.append((job, pool.submit(finish_sentence, job, raw)))
            while pending and (len(pending) > PENDING or pending[0][1].done()):
                collect()
        while pending:
            collect()
    finally:
        for _, future in pending:
            future.cancel()


def in_workers(jobs: list[SentenceJob], done: Done, where: dict[str, int], workers: int) -> None:
    """Synthesize `jobs` in `workers` spawned processes, calling `done` as each is ready."""
    tries = dict.fromkeys((job.key for job in jobs), 0)
    todo = jobs
    while todo:
        todo = _pool_round(todo, done, where, workers, tries)


def _pool_round(jobs: list[SentenceJob], done: Done, where: dict[str, int], workers: int,
                tries: dict[str, int]) -> list[SentenceJob]:
    """One pool over `jobs`; the jobs left when a worker died (to try again), else []."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    left: list[SentenceJob] = []
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn"),
                             initializer=_leave_signals_to_the_parent) as pool:
        with _stop_signals_blocked():  # submitting starts the workers: they are born with them blocked
            futures = {pool.submit(synthesize_sentence, job): job for job in jobs}
        try:
            for future in as_completed(futures):
                job = futures.pop(future)
                try:
                    audio = future.result()
                except BulletinError as error:
                    raise segment_error(where[job.key], error) from None
                except BrokenProcessPool:
                    left.append(job)
                    continue
                done(job, audio)
                del future, audio
        except BaseException:
            # a failure or a signal (SIGINT, SIGTERM): the queued sentences are not waited for,
            # only those the workers are saying (killing a worker mid-reply would hang the pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    for job in left:
        tries[job.key] += 1
    dead = [job for job in left if tries[job.key] >= ATTEMPTS]
    if dead:
        raise BulletinError(f"segment {where[dead[0].key]}: a worker process died twice while synthesizing it "
                            "(killed, or out of memory); try --jobs 1")
    return sorted(left, key=lambda job: where[job.key])
