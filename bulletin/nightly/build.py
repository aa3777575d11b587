"""Nightly builds: `build` runs one job once (for cron or a systemd timer), `schedule` runs every
job at its times until stopped, and `schedule --list` shows when they will run.

A build is `render` into a staging folder inside the job's publish folder, then `publish`
(bulletin.nightly.publish), all under the job's lock. Whatever happens, the outcome goes to the log (one
line per event) and to status.json, so a failure is loud; and nothing already published changes
unless the new bulletin is complete.

The clock, the render function and the stop signal are parameters, so tests drive a schedule
through a daylight-saving change or stop a build half way without sleeping or waiting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice, takewhile
from pathlib import Path
from types import FrameType

from bulletin.base.errors import BulletinError, InputError
from bulletin.nightly.jobs import Job, JobsFile, Run, load_jobs, resolve_wall_time
from bulletin.nightly.publish import (
    Busy,
    Published,
    Rendered,
    clear_leftovers,
    job_lock,
    new_staging,
    publish,
    read_status,
    remove_staging,
    update_status,
)

Clock = Callable[[], dt.datetime]
RenderFunction = Callable[..., Rendered]

# The longest the scheduler sleeps before looking at the clock again, so a suspended machine,
# a clock step or a changed UTC offset is noticed within a minute.
MAX_SLEEP_S = 60.0
# Missed runs further back than this are not looked for (a minutely cron off for a year
# would otherwise list half a million).
MISSED_LOOKBACK = dt.timedelta(days=31)
MISSED_LINES = 5  # missed runs logged one by one; the rest in one summary line
# Outcomes written to stderr rather than stdout: what monitoring and cron mail should see.
ALARMS = {"failed", "busy", "missed"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the log --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventLog:
    """One line per event: ISO time in the job's zone, job, event, outcome, details."""

    job: Job
    clock: Clock = _now

    def __call__(self, event: str, outcome: str, detail: str = "") -> None:
        stamp = self.clock().astimezone(self.job.timezone).isoformat(timespec="seconds")
        line = f"{stamp} {self.job.name} {event} {outcome}"
        if detail:
            line += ": " + " ".join(detail.split())  # one event, one line, whatever the message
        print(line, file=sys.stderr if outcome in ALARMS else sys.stdout, flush=True)

    def time(self, moment: dt.datetime) -> str:
        return moment.astimezone(self.job.timezone).isoformat(timespec="seconds")


# --- stopping cleanly -----------------------------------------------------------------------


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived while a render could still be abandoned.

    A BaseException, like KeyboardInterrupt, so that `except Exception` in a render lets it by.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


class Stopper:
    """Turns SIGTERM/SIGINT into a clean stop: a render is abandoned at once (nothing of it is
    published), a publish runs to its end (a few renames), and a sleeping scheduler wakes."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._abandonable = False
        self._wake = threading.Event()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def request(self, signum: int, frame: FrameType | None = None) -> None:
        self.signum = signum
        self._wake.set()
        if self._abandonable:
            self._abandonable = False
            raise Stopped(signum)

    @contextlib.contextmanager
    def abandonable(self) -> Iterator[None]:
        """Inside the block, a stop request raises Stopped at once."""
        if self.signum is not None:
            raise Stopped(self.signum)
        self._abandonable = True
        try:
            yield
        finally:
            self._abandonable = False

    def wait(self, seconds: float) -> None:
        """Sleep, waking early for a stop request."""
        self._wake.wait(max(0.0, seconds))

    @contextlib.contextmanager
    def installed(self) -> Iterator[Stopper]:
        """Handle SIGTERM and SIGINT for the block (only the main thread may set handlers)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self.request) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


# --- build ----------------------------------------------------------------------------------


def run_build(jobs_file: Path, job: str, date: dt.date | None = None) -> int:
    """`bulletin build JOBS JOB [--date]`: build one job once, now. Returns the exit status:
    0 published, 1 failed or already running, 2 the story is invalid or missing. An invalid
    jobs file or unknown job raises InputError (exit 2) for the CLI to print."""
    chosen = load_jobs(Path(jobs_file)).job(job)
    with Stopper().installed() as stopper:
        return build(chosen, date, stopper=stopper)


def build(
    job: Job,
    date: dt.date | None = None,
    *,
    trigger: str = "manual",
    scheduled: Run | None = None,
    clock: Clock = _now,
    render: RenderFunction | None = None,
    stopper: Stopper | None = None,
) -> int:
    """Render and publish one bulletin under the job's lock; log and record the outcome."""
    log = EventLog(job, clock)
    date = date or job.today(clock())
    try:
        with job_lock(job.publish):
            attempt = _Build(
                job, date, trigger, scheduled, clock, log, render, stopper or Stopper()
            )
            return attempt.run()
    except Busy as busy:
        # The running build owns status.json; this one only says why it did not start.
        log("build", "busy", f"{busy}; date {date} not built")
        return 1
    except OSError as error:  # the publish folder itself cannot be made or locked
        log("build", "failed", f"exit 1: {_os_reason(error)} (status.json not written)")
        return 1


@dataclass
class _Build:
    job: Job
    date: dt.date
    trigger: str
    scheduled: Run | None
    clock: Clock
    log: EventLog
    render: RenderFunction | None
    stopper: Stopper
    started: dt.datetime = field(init=False)
    render_s: float = field(init=False, default=0.0)

    def run(self) -> int:
        self.started = self.clock()
        story = self.job.story_path(self.date)
        self.log("build", "started", f"date {self.date}, {self.trigger}, story {story}")
        staging = None
        try:
            leftovers = clear_leftovers(self.job.publish)
            if leftovers:
                self.log("cleanup", "ok", f"removed what a dead build left: {', '.join(leftovers)}")
            staging = new_staging(self.job.publish, self.date)
            rendered = self._render(story, staging)
            published = publish(self.job, staging, rendered, self.date, self._publication_time())
            self._record_success(rendered, published)
            return 0
        except Stopped as stop:
            return self._fail(1, f"{stop} while rendering; nothing published")
        except InputError as error:
            return self._fail(2, "; ".join(error.lines()))
        except BulletinError as error:
            return self._fail(1, "; ".join(error.lines()))
        except OSError as error:  # disk full, permissions, a vanished folder
            return self._fail(1, _os_reason(error))
        except Exception as error:  # a bug must still be recorded, or monitoring sees nothing
            return self._fail(1, _internal_reason(error))
        finally:
            if staging is not None:
                remove_staging(staging)

    def _render(self, story: Path, staging: Path) -> Rendered:
        if not story.is_file():
            what = f"{story} does not exist (the story for {self.date})"
            raise InputError([self.job.story_problem(what)])
        began = time.monotonic()  # loading the render stage (numpy, engines) counts too
        render = self.render or _default_render()
        with self.stopper.abandonable():
            rendered = render(
                story,
                staging,
                formats=["wav", "mp3"] if self.job.wav else ["mp3"],
                loudness=self.job.loudness,
                assets=list(self.job.assets),
                date=self.date,
            )
        self.render_s = time.monotonic() - began
        detail = (
            f"{rendered.duration_s:.1f} s of audio, {rendered.integrated_lufs:.1f} LUFS, "
            f"{rendered.true_peak_dbtp:.1f} dBTP, in {self.render_s:.1f} s"
        )
        self.log("render", "ok", detail)
        return rendered

    def _publication_time(self) -> dt.datetime:
        """Now for today's (or a later) bulletin; a back-filled date is dated to its own day, at
        the job's first time of day, so podcast apps order episodes by their dates."""
        if self.date >= self.job.today(self.started):
            return self.started
        hour, minute = self.job.timing.clock[0] if self.job.timing else (0, 0)
        wall = dt.datetime.combine(self.date, dt.time(hour, minute))
        return resolve_wall_time(wall, self.job.timezone).at

    def _run_record(self, outcome: str, exit_status: int) -> dict:
        record = {
            "date": self.date.isoformat(),
            "trigger": self.trigger,
            "started": self.log.time(self.started),
            "finished": self.log.time(self.clock()),
            "outcome": outcome,
            "exit_status": exit_status,
        }
        if self.scheduled:
            record["scheduled"] = self.log.time(self.scheduled.at)
        return record

    def _schedule_record(self) -> dict:
        """The scheduler's memory of the last scheduled run it dealt with (for missed runs)."""
        if not self.scheduled:
            return {}
        schedule = read_status(self.job.publish).get("schedule") or {}
        return {"schedule": schedule | {"last_scheduled": self.log.time(self.scheduled.at)}}

    def _record_success(self, rendered: Rendered, published: Published) -> None:
        success = {
            "date": self.date.isoformat(),
            "time": self.log.time(self.clock()),
            "files": sorted(published.episode.files.values()),
            "duration_s": round(rendered.duration_s, 2),
            "integrated_lufs": round(rendered.integrated_lufs, 2),
            "true_peak_dbtp": round(rendered.true_peak_dbtp, 2),
            "render_s": round(self.render_s, 2),
        }
        update_status(
            self.job.publish,
            {
                "job": self.job.name,
                "last_run": self._run_record("success", 0),
                "last_success": success,
            }
            | self._schedule_record(),
        )
        if published.note:
            self.log("index", "rebuilt", published.note)
        stem = published.episode.stem
        dated = " ".join(
            name.removeprefix(stem) for name in published.files if name.startswith(stem)
        )
        others = ", ".join(name for name in published.files if not name.startswith(stem))
        pruned = ", ".join(published.pruned) if published.pruned else "none"
        self.log(
            "publish",
            "ok",
            f"{stem} ({dated}); updated {others or 'nothing else'}; "
            f"kept {published.kept} of up to {self.job.keep}; pruned: {pruned}",
        )

    def _fail(self, exit_status: int, reason: str) -> int:
        failure = {
            "date": self.date.isoformat(),
            "time": self.log.time(self.clock()),
            "reason": reason,
            "exit_status": exit_status,
        }
        note = ""
        try:
            update_status(
                self.job.publish,
                {
                    "job": self.job.name,
                    "last_run": self._run_record("failure", exit_status),
                    "last_failure": failure,
                }
                | self._schedule_record(),
            )
        except OSError as error:  # e.g. the disk that failed the build is still full
            note = f" (status.json not written: {_os_reason(error)})"
        self.log("build", "failed", f"exit {exit_status}: {reason}{note}")
        return exit_status


def _default_render() -> RenderFunction:
    try:
        from bulletin.pipeline.render import render
    except ImportError as error:
        raise BulletinError(f"the render stage cannot be loaded: {error}") from error
    return render


def _os_reason(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _internal_reason(error: Exception) -> str:
    """An unexpected exception as one line, with where it was raised (there is no traceback)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"internal error: {type(error).__name__}: {error}{where}"


# --- schedule -------------------------------------------------------------------------------


def run_schedule(jobs_file: Path, list_only: bool = False, count: int = 5) -> int:
    """`bulletin schedule JOBS [--list]`: run every job at its times until SIGTERM or SIGINT
    (returns 0), or with `list_only` print each job's next `count` runs and return 0."""
    jobs = load_jobs(Path(jobs_file))
    if list_only:
        for line in list_runs(jobs, _now(), count):
            print(line)
        return 0
    if not any(job.timing for job in jobs.jobs.values()):
        raise InputError(
            f"{jobs.path}: no job has `at:` or `cron:`, so there is nothing to schedule"
        )
    with Stopper().installed() as stopper:
        Scheduler(jobs, stopper=stopper).run()
    return 0


def list_runs(jobs: JobsFile, now: dt.datetime, count: int = 5) -> list[str]:
    """Each job's next `count` runs after `now`, as ISO instants with the local reading."""
    lines = []
    for job in jobs.jobs.values():
        if job.timing is None:
            lines.append(
                f"{job.name}: not scheduled (no at: or cron:); run `bulletin build` for it"
            )
            continue
        grace = _duration_text(job.grace)
        lines.append(
            f"{job.name}: {job.timing.text}, {job.timezone.key}, grace {grace}; publish {job.publish}"
        )
        for run in islice(job.runs_after(now), count):
            local = f"{run.at:%a %Y-%m-%d %H:%M %Z}"
            lines.append(
                f"  {run.at.isoformat()}  {local}" + (f"  ({run.note})" if run.note else "")
            )
    return lines


def _duration_text(span: dt.timedelta) -> str:
    """2h, 30m, 1h30m (how `grace:` is written); 0 for none."""
    hours, minutes = divmod(int(span.total_seconds()) // 60, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") or "0"


def plan(job: Job, since: dt.datetime, now: dt.datetime) -> tuple[Run | None, list[Run]]:
    """The runs due in (since, now]: the latest runs now if it is within the job's grace
    period, and every other one is missed (a bulletin is news: one late run is enough)."""
    since = max(since, now - MISSED_LOOKBACK)
    due = list(takewhile(lambda run: run.at <= now, job.runs_after(since)))
    if not due:
        return None, []
    if now - due[-1].at <= job.grace:
        return due[-1], due[:-1]
    return None, due


def baseline(job: Job, now: dt.datetime) -> dt.datetime:
    """Where the scheduler takes up a job: after the last scheduled run it dealt with, as
    status.json remembers; with no memory (a new install), now, so nothing old is run."""
    remembered = (read_status(job.publish).get("schedule") or {}).get("last_scheduled")
    try:
        return dt.datetime.fromisoformat(remembered) if remembered else now
    except (TypeError, ValueError):
        return now


class Scheduler:
    """Fires each scheduled job at its times; runs or reports what was missed while down."""

    def __init__(
        self,
        jobs: JobsFile,
        *,
        clock: Clock = _now,
        sleep: Callable[[float], None] | None = None,
        build_job: Callable[..., int] = build,
        stopper: Stopper | None = None,
    ) -> None:
        self.jobs = [job for job in jobs.jobs.values() if job.timing]
        self.clock = clock
        self.stopper = stopper or Stopper()
        self.sleep = sleep or self.stopper.wait
        self.build_job = build_job
        self.since: dict[str, dt.datetime] = {}

    def run(self) -> None:
        now = self.clock()
        for job in self.jobs:
            self.since[job.name] = baseline(job, now)
            upcoming = next(job.runs_after(now), None)
            when = EventLog(job).time(upcoming.at) if upcoming else "never"
            EventLog(job, self.clock)("schedule", "started", f"{job.timing.text}; next run {when}")
        while not self.stopper.requested:
            self.tick()
            if not self.stopper.requested:
                self.sleep(self.seconds_to_next())
        signame = signal.Signals(self.stopper.signum).name if self.stopper.signum else "request"
        for job in self.jobs:
            EventLog(job, self.clock)("schedule", "stopped", f"by {signame}")

    def tick(self) -> None:
        """Deal with every run that has come due: build it, or report it missed."""
        for job in sorted(self.jobs, key=self._next_at):
            if self.stopper.requested:
                return
            now = self.clock()  # fresh for each job: an earlier build may have taken a while
            run, missed = plan(job, self.since[job.name], now)
            if missed:
                self._report_missed(job, missed, run)
            if run:
                trigger = "schedule" if now - run.at < dt.timedelta(minutes=1) else "catch-up"
                self.build_job(
                    job,
                    run.date,
                    trigger=trigger,
                    scheduled=run,
                    clock=self.clock,
                    stopper=self.stopper,
                )
            handled = run or (missed[-1] if missed else None)
            if handled:
                self.since[job.name] = handled.at

    def _next_at(self, job: Job) -> dt.datetime:
        upcoming = next(job.runs_after(self.since[job.name]), None)
        return upcoming.at if upcoming else dt.datetime.max.replace(tzinfo=dt.UTC)

    def seconds_to_next(self) -> float:
        soonest = min((self._next_at(job) for job in self.jobs), default=None)
        if soonest is None:
            return MAX_SLEEP_S
        return min(MAX_SLEEP_S, max(0.0, (soonest - self.clock()).total_seconds()))

    def _report_missed(self, job: Job, missed: list[Run], run: Run | None) -> None:
        log = EventLog(job, self.clock)
        why = (
            f"past the {_duration_text(job.grace)} grace period"
            if run is None
            else "a later run is due"
        )
        for item in missed[:MISSED_LINES]:
            log("schedule", "missed", f"run at {log.time(item.at)} (date {item.date}): {why}")
        if len(missed) > MISSED_LINES:
            rest = missed[MISSED_LINES:]
            log("schedule", "missed", f"{len(rest)} more runs, up to {log.time(rest[-1].at)}")
        # Remember them (a build records the run it does); if a build holds the lock, the
        # in-memory state still moves on and the next record catches up.
        record = {"last_missed": log.time(missed[-1].at), "missed_count": len(missed)}
        if run is None:
            record["last_scheduled"] = log.time(missed[-1].at)
        with contextlib.suppress(Busy, OSError), job_lock(job.publish):
            schedule = read_status(job.publish).get("schedule") or {}
            update_status(job.publish, {"job": job.name, "schedule": schedule | record})
