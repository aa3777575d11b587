"""Builds on a Dask cluster: the takes and the mixing run on the cluster's workers, publishing
stays here.

For each job the story is loaded and cast on this machine (a broken story fails its job
alone, before anything is submitted), its clips, stings and beds are made here (this machine
reads the story's folder; the workers need not), and then:

- every sentence is one task keyed by its content key (bulletin.nightly.tasks.make_sentence),
  so the sentences that several bulletins share are synthesized once on the cluster, and each
  speech segment's take one task after its sentences (tasks.make_take), keyed by its own;
- the bulletin's mix, master and encoding is one task after its takes, returning the files'
  bytes (tasks.mix_bulletin);
- as each bulletin's task finishes, its bytes are written into the job's staging folder and
  published by bulletin.nightly.build exactly as a local build is, under the job's lock.

A worker that dies has its tasks rerun by Dask; the files are published only once they are
whole, here. A scheduler that cannot be reached fails before anything is published.
"""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from bulletin.base.errors import BulletinError, InputError
from bulletin.nightly.jobs import Job
from bulletin.nightly.room import publish_space
from bulletin.nightly.stopping import Stopper
from bulletin.nightly.tasks import (
    BulletinFiles,
    BulletinOrder,
    in_memory,
    make_sentence,
    make_sound,
    make_take,
    mix_bulletin,
    synthesized,
)
from bulletin.pipeline.checking import estimated_durations
from bulletin.pipeline.estimate import estimate_error, speech_estimates
from bulletin.pipeline.fitting import fixed_length, planned_pace
from bulletin.pipeline.planning import Plan, cast_story
from bulletin.pipeline.render import RenderResult
from bulletin.pipeline.space import check_render_space
from bulletin.script.story import Sound, Story, load_story, parse_loudness
from bulletin.sound.cache import open_cache
from bulletin.sound.sentences import SentenceJob, SpeechJob
from bulletin.sound.sources import sound_key
from bulletin.sound.takes import Take, TakeStore, sound_takes, speech_jobs

if TYPE_CHECKING:
    from distributed import Client, Future


@dataclass
class Pending:
    """One job's bulletin on the cluster: its task (or why it could not be submitted)."""

    job: Job
    date: dt.date
    future: Future | None = None
    error: BaseException | None = None
    plan: Plan | None = field(default=None, repr=False)
    takes: dict[int, Future] = field(default_factory=dict, repr=False)  # by segment index
    files: BulletinFiles | None = field(default=None, repr=False)
    pace: float = 1.0  # its speech's pace: planned from the estimate where the story has a post

    def render(self, story: Path, staging: Path, **_: object) -> RenderResult:
        """The `render` of bulletin.nightly.build: the bulletin's files, written into staging
        (the job's formats and loudness were given when it was submitted)."""
        if self.error is not None:
            raise self.error
        files = self._result()
        paths = {}
        for ext, (name, data) in files.files.items():
            paths[ext] = staging / Path(name).name
            paths[ext].write_bytes(data)
        return RenderResult(
            paths, files.duration_s, files.integrated_lufs, files.true_peak_dbtp, files.cue
        )

    def _result(self) -> BulletinFiles:
        if self.files is None:
            try:
                self.files = self.future.result()
            except BulletinError:
                raise
            except Exception as error:  # the cluster's own failures (a task killed too often)
                raise BulletinError(
                    f"the cluster failed: {type(error).__name__}: {error}"
                ) from None
        return self.files


class Cluster:
    """A connection to a Dask scheduler for one `build` or `schedule` run."""

    def __init__(self, address: str, cache: str | None = None) -> None:
        from distributed import Client

        self.address = _checked_address(address)
        self.cache = _cache_location(cache)
        try:
            # how long it tries is Dask's `distributed.comm.timeouts.connect` (default 30 s;
            # DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s in the environment sets it)
            self.client: Client = Client(address, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise BulletinError(f"cannot reach the Dask scheduler at {address}: {error}") from None
        # by content key, so each sentence and each take is submitted once per build
        self.sentences: dict[str, Future] = {}
        self.takes: dict[str, Future] = {}
        self.sounds: dict[str, Future] = {}
        self.counted: dict[str, Future] = {}  # each sentence's engine calls
        self.requested = 0  # sentences the bulletins asked for

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.client.close()

    def submit(self, jobs: list[tuple[Job, dt.date]]) -> list[Pending]:
        """Plan each job's bulletin here and submit its tasks: every job's speech first, so the
        workers synthesize while this machine makes the stings, clips and beds. A job whose
        story fails to load or cast, or whose sounds fail, keeps the error for its build to
        record; the other jobs go on."""
        pending = [self._speech(Pending(job, date)) for job, date in jobs]
        for p in pending:
            if p.error is None:
                self._mix(p)
        return pending

    def _speech(self, p: Pending) -> Pending:
        story_path = p.job.story_path(p.date)
        try:
            if not story_path.is_file():
                what = f"{story_path} does not exist (the story for {p.date})"
                raise InputError([p.job.story_problem(what)])
            story = replace(load_story(story_path, tuple(p.job.assets)), date=p.date)
            if p.job.air is not None:
                story = replace(story, air=p.job.air.over(story.air))
            p.plan = cast_story(story)
            # the bulletin is written into a staging folder inside the publish folder (one disk)
            check_render_space(p.plan, p.job.publish, p.job.formats, lambda sizes: publish_space(p.job, sizes))
            if story.master.duration_s is not None:  # fitted to its post: the pace from the estimate
                p.pace = planned_pace(story, estimated_durations(p.plan, fixed_length(story)),
                                      lambda pace: speech_estimates(p.plan, pace), story.master.duration_s,
                                      story.master.pace_limit, hint="", error=estimate_error(p.plan))
        except BulletinError as error:
            p.error = error
            return p
        speech = speech_jobs(p.plan.story, p.plan.voices, p.plan.story.master.sample_rate, p.pace)
        p.takes = {index: self._take(take) for index, take in speech.items()}
        self.requested += sum(len(take.sentences) for take in speech.values())
        return p

    def _mix(self, p: Pending) -> None:
        story, rate_hz = p.plan.story, p.plan.story.master.sample_rate
        try:
            takes, beds = _file_sounds(story, self.cache)
        except BulletinError as error:
            p.error = error
            return
        # builtin stings and beds need no file: any worker makes them, each once
        for s in story.segments:
            if s.kind == "sting" and s.sound.builtin:
                takes[s.index] = self._sound(s.sound, rate_hz)
        for part in story.stories:
            if part.bed and part.bed.builtin:
                beds[part.index] = self._sound(part.bed, rate_hz)
        job = p.job
        target = parse_loudness(job.loudness) if job.loudness is not None else None
        order = BulletinOrder(p.plan, tuple(job.formats), target, dt.datetime.now(job.timezone),
                              story.master.duration_s, p.pace, self.cache)
        with warnings.catch_warnings():
            # the clips travel in the task itself, so a rerun elsewhere still has them
            warnings.filterwarnings("ignore", message="Large object", category=UserWarning)
            p.future = self.client.submit(mix_bulletin, order, takes | p.takes, beds, pure=False)

    def _sound(self, sound: Sound, rate_hz: int) -> Future:
        key = sound_key(sound, rate_hz)
        if key not in self.sounds:
            self.sounds[key] = self.client.submit(
                make_sound, sound, rate_hz, self.cache, key=f"sound-{key}"
            )
        return self.sounds[key]

    def _take(self, job: SpeechJob) -> Future:
        if job.key not in self.takes:
            sentences = [self._sentence(sentence) for sentence in job.sentences]
            self.takes[job.key] = self.client.submit(
                make_take, job, sentences, self.cache, key=f"take-{job.key}"
            )
        return self.takes[job.key]

    def _sentence(self, job: SentenceJob) -> Future:
        if job.key not in self.sentences:
            self.sentences[job.key] = self.client.submit(
                make_sentence, job, self.cache, key=f"sentence-{job.key}"
            )
            self.counted[job.key] = self.client.submit(
                synthesized, self.sentences[job.key], key=f"count-{job.key}"
            )
        return self.sentences[job.key]

    def completed(self, pending: list[Pending], stopper: Stopper) -> Iterator[Pending]:
        """The jobs in the order their bulletins finish (those that failed to plan first),
        with a progress bar of takes on a terminal."""
        from distributed import as_completed

        yield from (p for p in pending if p.future is None)
        waiting = {p.future.key: p for p in pending if p.future is not None}
        counts = set(self.counted.values())
        with _TakeBar(len(counts)) as bar:
            futures = [*counts, *(p.future for p in waiting.values())]
            done = as_completed(futures, loop=self.client.loop)
            while waiting:
                with stopper.abandonable():
                    future = next(done)
                if future in counts:
                    bar.advance()
                else:
                    yield waiting.pop(future.key)

    def takes_line(self) -> str:
        """How many takes (sentences) the engines made on the workers, of how many the
        bulletins asked for: a sentence that several bulletins share is asked for by each."""
        made = sum(f.result() for f in self.counted.values() if f.status == "finished")
        return f"{made} takes synthesized, {self.requested} requested"

    def release(self) -> None:
        """Let the cluster forget this build's takes (their memory on the workers)."""
        self.sentences.clear()
        self.takes.clear()
        self.sounds.clear()
        self.counted.clear()
        self.requested = 0


def _checked_address(address: str) -> str:
    """A scheduler address Dask can dial (a malformed one would leave a client that hangs)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host, _ = parse_host_port(location)
    except ValueError as error:
        raise InputError(
            f"--scheduler: {address!r} is not a scheduler address ({error}); write tcp://HOST:8786"
        ) from None
    if scheme not in ("tcp", "tls") or not host:
        raise InputError(f"--scheduler: {address!r}: write tcp://HOST:PORT or tls://HOST:PORT")
    return address


def _cache_location(cache: str | None) -> str | None:
    """Where the workers' take cache is: a folder (a shared mount, made absolute here, so it
    names the same folder on every machine that mounts it there) or an fsspec URL
    (`s3://bucket/takes`, `gcs://...`) that every worker reaches."""
    if cache is None:
        return None
    if "://" in cache and not cache.startswith("file://"):
        open_cache(cache)  # refuses a URL whose protocol cannot be used here, in one line
        return cache
    return str(Path(cache.removeprefix("file://")).expanduser().resolve())


def _file_sounds(story: Story, cache: str | None) -> tuple[dict[int, Take], dict[int, Take]]:
    """The story's clips and its stings and beds from files, made here (this machine reads the
    story's folder; the workers need not), in memory to travel with the mix task."""
    segments = [
        s for s in story.segments
        if s.kind == "clip" or (s.kind == "sting" and not s.sound.builtin)
    ]  # fmt: skip
    beds = {part.index: part.bed for part in story.stories if part.bed and not part.bed.builtin}
    with TakeStore(open_cache(cache)) as store:
        made = sound_takes(segments, beds, store, story.master.sample_rate)
        takes, bed_takes = ({i: in_memory(t) for i, t in m.items()} for m in made)
    return takes, bed_takes


class _TakeBar:
    """A rich progress bar of takes on a terminal; nothing otherwise."""

    def __init__(self, total: int) -> None:
        self.bar = None
        if sys.stderr.isatty() and total:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.task = self.bar.add_task("takes", total=total)

    def __enter__(self) -> _TakeBar:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)
