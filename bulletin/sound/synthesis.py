"""Where sentences are synthesized: in this process, or in worker processes.

In this process the engine's C code speaks one sentence after another while a helper thread
resamples the previous one.

Worker processes take one sentence at a time each, over a pipe of their own. Why not
concurrent.futures (or loky): in both, the workers share one result queue, and a worker killed
while it writes a result (SIGKILL, the out-of-memory killer) leaves half a message in it and its
lock taken: the pool's manager thread waits for the rest for ever, and the render with it
(measured: 1 run in 5 here, killing workers at random). With a pipe per worker a death is an end
of file on that pipe alone, and the sentence the worker held is known exactly: it is tried once
more in a new worker, then the render fails with one line naming the segment. Workers are
spawned (never forked: an engine initialised in this process must not be copied into a child;
a forked espeak-ng or onnxruntime hangs) and create their engines once each.
"""
from __future__ import annotations

import signal
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing import get_context, resource_tracker
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

from bulletin.base.audio import Audio
from bulletin.base.errors import BulletinError
from bulletin.sound.sentences import SentenceJob, finish_sentence, voice_sentence
from bulletin.sound.worker import STOP_SIGNALS, serve

# sentences voiced here waiting to be resampled (on a helper thread): bounds their memory
PENDING = 8
# how many times a sentence is tried in worker processes that die under it
ATTEMPTS = 2
# how long a stopping worker may take to finish before it is killed
STOP_S = 2.0

Done = Callable[[SentenceJob, Audio], None]
Failed = Callable[[SentenceJob, BulletinError], BulletinError]


def in_process(jobs: list[SentenceJob], done: Done, failed: Failed, pool: ThreadPoolExecutor) -> None:
    """Synthesize `jobs` here, calling `done` for each in order; `failed` turns a sentence's
    error into the render's (naming its segment)."""
    pending: deque[tuple[SentenceJob, Future]] = deque()

    def collect() -> None:
        job, future = pending.popleft()
        done(job, future.result())

    try:
        for job in jobs:
            try:
                raw = voice_sentence(job)
            except BulletinError as error:
                raise failed(job, error) from None
            pending.append((job, pool.submit(finish_sentence, job, raw)))
            while pending and (len(pending) > PENDING or pending[0][1].done()):
                collect()
        while pending:
            collect()
    finally:
        for _, future in pending:
            future.cancel()


class _Worker:
    def __init__(self) -> None:
        ours, theirs = get_context("spawn").Pipe()
        self.process: BaseProcess = get_context("spawn").Process(target=serve, args=(theirs,), daemon=True)
        # Started with SIGINT and SIGTERM blocked (a child inherits the mask through spawn's
        # exec, and `serve` ignores them, then unblocks): Ctrl-C at a terminal while a worker
        # is still starting is left to the render, never a traceback of the worker's. Here they
        # wait, blocked in this thread only, for as long as the start takes. The resource
        # tracker is started first: starting it unblocks them in this thread (CPython's own use
        # of this trick, bpo-33613).
        resource_tracker.ensure_running()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()  # so that the worker's death is an end of file here
        self.conn = ours
        self.job: SentenceJob | None = None

    def give(self, job: SentenceJob) -> None:
        self.job = job
        try:
            self.conn.send(job)
        except OSError:
            pass  # it died: its sentinel says so next, and the job goes to another

    def take(self) -> tuple[bool, Audio | Exception] | None:
        """The worker's answer, or None when it died."""
        try:
            return self.conn.recv() if self.conn.poll() else None
        except (EOFError, OSError):
            return None

    def stop(self) -> None:
        try:
            if self.job is None:
                self.conn.send(None)
            else:
                self.process.kill()  # a render that is stopping does not wait for a sentence
        except OSError:
            pass
        self.process.join(STOP_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def in_workers(jobs: list[SentenceJob], done: Done, failed: Failed, workers: int) -> None:
    """Synthesize `jobs` in `workers` spawned processes, calling `done` as each is ready;
    `failed` turns a sentence's error into the render's (naming its segment)."""
    queue = deque(jobs)
    tries = dict.fromkeys((job.key for job in jobs), 0)
    pool = [_Worker() for _ in range(min(workers, len(jobs)))]
    try:
        while queue or any(w.job is not None for w in pool):
            for w in pool:
                if w.job is None and queue:
                    w.give(queue.popleft())
            busy = [w for w in pool if w.job is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for n, w in enumerate(pool):
                if w.job is None or (w.conn not in ready and w.process.sentinel not in ready):
                    continue
                job, answer = w.job, w.take()
                if answer is None:
                    pool[n] = _replace(w, job, tries, failed, queue)
                    continue
                w.job = None
                ok, value = answer
                if not ok:
                    raise failed(job, value) if isinstance(value, BulletinError) else value
                assert isinstance(value, Audio)
                done(job, value)
    finally:
        for w in pool:
            w.stop()


def _replace(dead: _Worker, job: SentenceJob, tries: dict[str, int], failed: Failed,
             queue: deque[SentenceJob]) -> _Worker:
    """A new worker for one that died holding `job`, which goes first to the queue again; the
    render's error when `job` has been tried ATTEMPTS times."""
    dead.job = None
    dead.stop()
    tries[job.key] += 1
    if tries[job.key] >= ATTEMPTS:
        raise failed(job, BulletinError(f"a worker process died {ATTEMPTS} times while synthesizing it "
                                        "(killed, or out of memory); try --jobs 1"))
    queue.appendleft(job)
    return _Worker()
