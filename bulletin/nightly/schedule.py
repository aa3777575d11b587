"""`bulletin schedule`: run every job at its times until stopped, make up a missed run within
its grace period, report the rest; `--list` shows when they will run.

The clock, the sleep and the build function are parameters, so tests drive a schedule through
a daylight-saving change without sleeping or waiting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import signal
from collections.abc import Callable
from itertools import islice, takewhile
from pathlib import Path

from bulletin.base.errors import InputError
from bulletin.nightly.build import build, build_on
from bulletin.nightly.events import Clock, EventLog, now
from bulletin.nightly.jobs import Job, JobsFile
from bulletin.nightly.jobsfile import load_jobs
from bulletin.nightly.publish import Busy, job_lock, read_status, update_status
from bulletin.nightly.stopping import Stopper
from bulletin.nightly.timing import Run

# The longest the scheduler sleeps before looking at the clock again, so a suspended machine,
# a clock step or a changed UTC offset is noticed within a minute.
MAX_SLEEP_S = 60.0
# Missed runs further back than this are not looked for (a minutely cron off for a year
# would otherwise list half a million).
MISSED_LOOKBACK = dt.timedelta(days=31)
MISSED_LINES = 5  # missed runs logged one by one; the rest in one summary line


def run_schedule(
    jobs_file: Path,
    list_only: bool = False,
    count: int = 5,
    *,
    scheduler: str | None = None,
    cache: str | None = None,
) -> int:
    """`bulletin schedule JOBS [--list] [--scheduler] [--cache]`: run every job at its times
    until SIGTERM or SIGINT (returns 0), building here or on the Dask cluster at `scheduler`;
    or with `list_only` print each job's next `count` runs and return 0."""
    jobs = load_jobs(Path(jobs_file))
    if list_only:
        for line in list_runs(jobs, now(), count):
            print(line)
        return 0
    if not any(job.timing for job in jobs.jobs.values()):
        raise InputError(
            f"{jobs.path}: no job has `at:` or `cron:`, so there is nothing to schedule"
        )
    if scheduler is None:
        if cache:
            os.environ["BULLETIN_CACHE"] = cache  # where render's open_cache looks
        with Stopper().installed() as stopper:
            Scheduler(jobs, stopper=stopper).run()
        return 0
    from bulletin.nightly.cluster import Cluster

    with Cluster(scheduler, cache) as cluster, Stopper().installed() as stopper:
        Scheduler(jobs, stopper=stopper, build_job=functools.partial(build_on, cluster)).run()
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
        clock: Clock = now,
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
