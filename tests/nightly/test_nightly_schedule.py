"""The scheduler, driven by an injectable clock (no sleeping): runs at the right instants across
a DST change, catches up a missed run within its grace period, reports older ones; and a real
scheduler process stops cleanly on SIGTERM, abandoning a render without leaving anything."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from nightly_fakes import FakeClock, fake_render, make_site, snapshot, wait_for, write_story

from bulletin.nightly.build import build
from bulletin.nightly.jobsfile import load_jobs
from bulletin.nightly.publish import read_status
from bulletin.nightly.schedule import MAX_SLEEP_S, Scheduler, plan
from bulletin.nightly.stopping import Stopper

TESTS = Path(__file__).parent
SEOUL = dt.timezone(dt.timedelta(hours=9))


class Recorder:
    """Stands in for `build`: notes each call and the clock's time; stops after `limit`."""

    def __init__(self, clock: FakeClock, stopper: Stopper, limit: int = 99) -> None:
        self.calls: list[tuple] = []
        self.clock, self.stopper, self.limit = clock, stopper, limit

    def __call__(self, job, date, *, trigger, scheduled, clock, stopper) -> int:
        self.calls.append((job.name, date, trigger, scheduled.at, self.clock()))
        if len(self.calls) >= self.limit:
            self.stopper.request(signal.SIGTERM)
        return 0


def scheduler(jobs_file: Path, start: dt.datetime, limit: int = 99):
    clock, stopper = FakeClock(start), Stopper()
    recorder = Recorder(clock, stopper, limit)
    jobs = load_jobs(jobs_file)
    return (
        Scheduler(jobs, clock=clock, sleep=clock.sleep, build_job=recorder, stopper=stopper),
        recorder,
        clock,
    )


def remember(job, last_scheduled: str) -> None:
    job.publish.mkdir(parents=True, exist_ok=True)
    (job.publish / "status.json").write_text(
        json.dumps({"schedule": {"last_scheduled": last_scheduled}})
    )


def test_the_scheduler_fires_at_each_run_through_the_spring_forward_day(tmp_path, capsys):
    jobs_file = make_site(tmp_path, [], at="01:30", timezone="Europe/London")
    sched, recorder, clock = scheduler(
        jobs_file, dt.datetime(2026, 3, 27, 23, 0, tzinfo=dt.UTC), limit=3
    )
    sched.run()
    fired = [
        (date.isoformat(), trigger, at.isoformat(), now == at)
        for _, date, trigger, at, now in recorder.calls
    ]
    assert fired == [
        ("2026-03-28", "schedule", "2026-03-28T01:30:00+00:00", True),
        ("2026-03-29", "schedule", "2026-03-29T02:00:00+01:00", True),  # 01:30 did not exist
        ("2026-03-30", "schedule", "2026-03-30T01:30:00+01:00", True),
    ]
    assert max(clock.slept) <= MAX_SLEEP_S  # it looks at the clock at least once a minute
    out = capsys.readouterr().out
    assert "morning schedule started: at 01:30; next run 2026-03-28T01:30:00+00:00" in out
    assert "morning schedule stopped: by SIGTERM" in out


def test_on_start_a_run_missed_within_grace_runs_at_once_and_older_ones_are_reported(
    tmp_path, capsys
):
    jobs_file = make_site(tmp_path, [])  # Seoul, 05:30, grace 2h
    job = load_jobs(jobs_file).job("morning")
    remember(job, "2026-01-01T05:30:00+09:00")
    sched, recorder, clock = scheduler(
        jobs_file, dt.datetime(2026, 1, 3, 6, 0, tzinfo=SEOUL), limit=1
    )
    sched.run()
    assert [
        (d.isoformat(), trigger, at.isoformat()) for _, d, trigger, at, _ in recorder.calls
    ] == [("2026-01-03", "catch-up", "2026-01-03T05:30:00+09:00")]
    err = capsys.readouterr().err
    assert (
        "morning schedule missed: run at 2026-01-02T05:30:00+09:00 (date 2026-01-02): a later run is due"
        in err
    )
    assert read_status(job.publish)["schedule"]["last_missed"] == "2026-01-02T05:30:00+09:00"


def test_runs_missed_past_grace_are_reported_not_run(tmp_path, capsys):
    jobs_file = make_site(tmp_path, [])
    job = load_jobs(jobs_file).job("morning")
    remember(job, "2026-01-01T05:30:00+09:00")
    sched, recorder, clock = scheduler(jobs_file, dt.datetime(2026, 1, 3, 8, 0, tzinfo=SEOUL))
    sched.since = {"morning": dt.datetime.fromisoformat("2026-01-01T05:30:00+09:00")}
    sched.tick()
    assert recorder.calls == []
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("past the 2h grace period" in line for line in err)
    schedule = read_status(job.publish)["schedule"]
    assert (
        schedule["last_scheduled"] == "2026-01-03T05:30:00+09:00" and schedule["missed_count"] == 2
    )
    assert sched.seconds_to_next() == MAX_SLEEP_S  # tomorrow's run is hours away


def test_a_new_install_does_not_run_old_bulletins(tmp_path):
    jobs_file = make_site(tmp_path, [])
    sched, recorder, clock = scheduler(
        jobs_file, dt.datetime(2026, 1, 3, 6, 0, tzinfo=SEOUL), limit=1
    )
    sched.run()
    assert recorder.calls[0][3].isoformat() == "2026-01-04T05:30:00+09:00"


def test_plan_with_no_grace_reports_a_late_run_as_missed(tmp_path):
    jobs_file = make_site(tmp_path, [])
    text = jobs_file.read_text().replace("    keep: 14\n", "    keep: 14\n    grace: 0\n")
    jobs_file.write_text(text)
    job = load_jobs(jobs_file).job("morning")
    since = dt.datetime(2026, 1, 3, 5, 0, tzinfo=SEOUL)
    run, missed = plan(job, since, dt.datetime(2026, 1, 3, 5, 30, 1, tzinfo=SEOUL))
    assert run is None and [m.at.isoformat() for m in missed] == ["2026-01-03T05:30:00+09:00"]
    run, missed = plan(job, since, dt.datetime(2026, 1, 3, 5, 30, tzinfo=SEOUL))
    assert run is not None and missed == []


def test_a_scheduled_build_remembers_its_run_so_a_restart_does_not_repeat_it(tmp_path):
    jobs_file = make_site(tmp_path, ["2026-01-03"])
    job = load_jobs(jobs_file).job("morning")
    remember(job, "2026-01-02T05:30:00+09:00")
    clock = FakeClock(dt.datetime(2026, 1, 3, 5, 45, tzinfo=SEOUL))
    real_build = functools.partial(build, render=fake_render)
    first = Scheduler(load_jobs(jobs_file), clock=clock, sleep=clock.sleep, build_job=real_build)
    first.since = {"morning": dt.datetime.fromisoformat("2026-01-02T05:30:00+09:00")}
    first.tick()
    status = read_status(job.publish)
    assert (
        status["last_run"]["trigger"] == "catch-up"
        and status["last_success"]["date"] == "2026-01-03"
    )
    assert status["schedule"]["last_scheduled"] == "2026-01-03T05:30:00+09:00"
    again, recorder, _ = scheduler(jobs_file, clock.now, limit=1)
    again.run()
    assert recorder.calls[0][3].isoformat() == "2026-01-04T05:30:00+09:00"


def start_scheduler(jobs_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(TESTS / "nightly_driver.py"), "schedule", str(jobs_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_stops_an_idle_scheduler_cleanly(tmp_path):
    jobs_file = make_site(tmp_path, [])
    process = start_scheduler(jobs_file)
    first = process.stdout.readline()
    assert "morning schedule started" in first
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "morning schedule stopped: by SIGTERM" in out


def test_sigterm_during_a_scheduled_render_abandons_it_and_keeps_what_was_published(tmp_path):
    now = dt.datetime.now(dt.UTC)
    due = (now - dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    jobs_file = make_site(
        tmp_path, [due.date().isoformat(), "2020-01-01"], at=f"{due:%H:%M}", timezone="UTC"
    )
    job = load_jobs(jobs_file).job("morning")
    assert build(job, dt.date(2020, 1, 1), render=fake_render) == 0
    before = snapshot(job.publish)
    status = read_status(job.publish)
    status["schedule"] = {"last_scheduled": (due - dt.timedelta(days=1)).isoformat()}
    (job.publish / "status.json").write_text(json.dumps(status))  # yesterday's run was done
    write_story(tmp_path, due.date().isoformat(), "title: Test News\n")
    flag = tmp_path / "rendering"
    process = subprocess.Popen(
        [sys.executable, str(TESTS / "nightly_driver.py"), "schedule", str(jobs_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BULLETIN_TEST_HOLD": str(flag)},
    )
    try:
        wait_for(flag.exists)  # the catch-up build is rendering
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "build started" in out and "schedule stopped: by SIGTERM" in out
    assert "stopped by SIGTERM while rendering; nothing published" in err
    after = snapshot(job.publish)
    assert {k: v for k, v in after.items() if k != "status.json"} == {
        k: v for k, v in before.items() if k != "status.json"
    }
    assert sorted(p.name for p in job.publish.iterdir() if p.name.startswith(".")) == [".lock"]
    assert read_status(job.publish)["last_failure"]["exit_status"] == 1
