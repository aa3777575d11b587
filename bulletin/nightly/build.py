"""`bulletin build`: build a job once, now (for cron or a systemd timer).

A build is `render` into a staging folder inside the job's publish folder, then `publish`
(bulletin.nightly.publish), all under the job's lock. Whatever happens, the outcome goes to the
log (one line per event) and to status.json, so a failure is loud; and nothing already
published changes unless the new bulletin is complete.

The clock, the render function and the stop signal are parameters, so tests stop a build half
way without sleeping or waiting.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bulletin.base.errors import BulletinError, InputError
from bulletin.nightly.events import Clock, EventLog, internal_reason, now, os_reason
from bulletin.nightly.jobs import Job, JobsFile
from bulletin.nightly.jobsfile import load_jobs
from bulletin.nightly.playout import commit_drop, drop_record, kept_record, staged_drop
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
from bulletin.nightly.room import publish_space
from bulletin.nightly.stopping import Stopped, Stopper
from bulletin.nightly.timing import Run, resolve_wall_time

if TYPE_CHECKING:
    from bulletin.nightly.cluster import Cluster

RenderFunction = Callable[..., Rendered]


def run_build(
    jobs_file: Path,
    names: list[str],
    date: dt.date | None = None,
    *,
    all_jobs: bool = False,
    scheduler: str | None = None,
    cache: str | None = None,
) -> int:
    """`bulletin build JOBS [JOB ...] [--all] [--date] [--scheduler] [--cache]`: build the named
    jobs (or all) once, now: here, one after another, or with `scheduler` (a Dask scheduler's
    address) on that cluster, sharing their takes. Returns the worst exit status: 0 all
    published, 1 one failed or was already running, 2 a story is invalid or missing. An invalid
    jobs file, an unknown job or an unreachable scheduler raises (exit 2 or 1), nothing built."""
    chosen = select_jobs(load_jobs(Path(jobs_file)), names, all_jobs)
    with Stopper().installed() as stopper:
        if scheduler:
            statuses, summary = _build_on_cluster(chosen, date, scheduler, cache, stopper)
        else:
            if cache:
                os.environ["BULLETIN_CACHE"] = cache  # where render's open_cache looks
            statuses = [build(job, date, stopper=stopper) for job in chosen]
            summary = bulletins_line(statuses)
    if len(chosen) > 1 or scheduler:
        print(summary, flush=True)
    return max(statuses)


def select_jobs(jobs: JobsFile, names: list[str], all_jobs: bool) -> list[Job]:
    """The jobs named (each once, in order), or every job with `all_jobs`."""
    if all_jobs and names:
        raise InputError("build: name jobs or give --all, not both")
    if not all_jobs and not names:
        raise InputError(f"build: name a job ({', '.join(jobs.jobs)}) or give --all")
    return (
        list(jobs.jobs.values()) if all_jobs else [jobs.job(name) for name in dict.fromkeys(names)]
    )


def bulletins_line(statuses: list[int]) -> str:
    built = sum(status == 0 for status in statuses)
    return f"{built} bulletins built, {len(statuses) - built} failed"


def _build_on_cluster(
    chosen: list[Job], date: dt.date | None, scheduler: str, cache: str | None, stopper: Stopper
) -> tuple[list[int], str]:
    """Submit every job's bulletin, then publish each as it finishes."""
    from bulletin.nightly.cluster import Cluster

    with Cluster(scheduler, cache) as cluster:
        pending = cluster.submit([(job, date or job.today()) for job in chosen])
        statuses, left = [], list(pending)
        try:
            for done in cluster.completed(pending, stopper):
                left.remove(done)
                statuses.append(build(done.job, done.date, render=done.render, stopper=stopper))
        except Stopped:
            # each job not yet published records that it was stopped (its render is abandoned)
            statuses += [build(p.job, p.date, render=p.render, stopper=stopper) for p in left]
        return statuses, f"{bulletins_line(statuses)}; {cluster.takes_line()}"


def build_on(cluster: Cluster, job: Job, date: dt.date | None = None, **options: object) -> int:
    """`build` with the bulletin made on `cluster` (for the scheduler: one job at a time)."""

    def render(story: Path, staging: Path, *, date: dt.date, **settings: object) -> Rendered:
        # the job's formats, loudness and assets: cluster.submit reads them from the job
        try:
            (pending,) = cluster.submit([(job, date)])
            return pending.render(story, staging)
        finally:
            cluster.release()  # a scheduler runs for months: the cluster keeps no old takes

    return build(job, date, render=render, **options)


def build(
    job: Job,
    date: dt.date | None = None,
    *,
    trigger: str = "manual",
    scheduled: Run | None = None,
    clock: Clock = now,
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
        log("build", "failed", f"exit 1: {os_reason(error)} (status.json not written)")
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
            published, dropped = self._publish(staging, rendered)
            self._record_success(rendered, published, dropped)
            return 0
        except Stopped as stop:
            return self._fail(1, f"{stop} while rendering; nothing published")
        except InputError as error:
            return self._fail(2, "; ".join(error.lines()))
        except BulletinError as error:
            return self._fail(1, "; ".join(error.lines()))
        except OSError as error:  # disk full, permissions, a vanished folder
            return self._fail(1, os_reason(error))
        except Exception as error:  # a bug must still be recorded, or monitoring sees nothing
            return self._fail(1, internal_reason(error))
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
                formats=self.job.formats,
                loudness=self.job.loudness,
                assets=list(self.job.assets),
                date=self.date,
                air=self.job.air,
                now=self.started.astimezone(self.job.timezone),
                # the room publishing needs, checked with the render's own before synthesis
                more_space=lambda sizes: publish_space(self.job, sizes),
            )
        self.render_s = time.monotonic() - began
        detail = (
            f"{rendered.duration_s:.1f} s of audio, {rendered.integrated_lufs:.1f} LUFS, "
            f"{rendered.true_peak_dbtp:.1f} dBTP, in {self.render_s:.1f} s"
        )
        self.log("render", "ok", detail)
        return rendered

    def _publish(self, staging: Path, rendered: Rendered) -> tuple[Published, dict | None]:
        """Publish; with `playout:`, the WAV is staged in the drop folder first and renamed over
        CUT.wav once publishing succeeded (a failure leaves the previous CUT.wav as it was)."""
        job = self.job
        if job.playout is None or job.air is None or job.air.cut is None:
            return publish(job, staging, rendered, self.date, self._publication_time()), None
        wav = rendered.files.get("wav")
        if wav is None or not wav.is_file():
            raise BulletinError("the render wrote no WAV for the playout folder; nothing published")
        with staged_drop(job.playout, job.air.cut, wav) as temporary:
            published = publish(job, staging, rendered, self.date, self._publication_time())
            final = commit_drop(temporary, job.playout, job.air.cut)
        dropped = drop_record(final, rendered.cue)
        self.log("playout", "ok", f"{final}: on air from {dropped['starts']} until {dropped['expires'] or 'no kill date'}")
        return published, dropped

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

    def _record_success(self, rendered: Rendered, published: Published, dropped: dict | None) -> None:
        success = {
            "date": self.date.isoformat(),
            "time": self.log.time(self.clock()),
            "files": sorted(published.episode.files.values()),
            "duration_s": round(rendered.duration_s, 2),
            "integrated_lufs": round(rendered.integrated_lufs, 2),
            "true_peak_dbtp": round(rendered.true_peak_dbtp, 2),
            "render_s": round(self.render_s, 2),
        } | ({"playout": dropped} if dropped else {})
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
        if self.job.playout is not None and self.job.air is not None and self.job.air.cut is not None:
            last = read_status(self.job.publish).get("last_success")
            failure["playout"] = kept_record(self.job.playout, self.job.air.cut, last)
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
            note = f" (status.json not written: {os_reason(error)})"
        self.log("build", "failed", f"exit {exit_status}: {reason}{note}")
        return exit_status


def _default_render() -> RenderFunction:
    try:
        from bulletin.pipeline.render import render
    except ImportError as error:
        raise BulletinError(f"the render stage cannot be loaded: {error}") from error
    return render
