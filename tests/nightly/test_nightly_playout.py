"""`playout:` and `air:` in a nightly job, with the real render (espeak-ng voices, --draft): each
build renames a whole CUT.wav into the drop folder, with the job's air window in its cart chunk;
a failed build leaves the previous one, kill date and all, and status.json says so."""

from __future__ import annotations

import datetime as dt
import functools
import json
import subprocess
import sys

import pytest
from nightly_fakes import BROKEN_STORY, STORY, FakeClock, write_story

from bulletin.base.errors import InputError
from bulletin.nightly.build import build
from bulletin.nightly.jobsfile import load_jobs
from bulletin.pipeline.render import render
from tests.export.riff_reader import chunks, read_cart

JOBS = """\
timezone: Asia/Seoul
jobs:
  morning:
    story: stories/{date}/story.yaml
    publish: public/morning
    playout: playout
    air: {cut: NEWS0600, artist: KBS World Radio, starts: "06:00", expires: 1h}
"""
DRAFT = functools.partial(render, draft=True, jobs=1)
SEOUL = dt.timezone(dt.timedelta(hours=9))


def _build(job, date: str, **options) -> int:
    clock = FakeClock(dt.datetime.fromisoformat(f"{date}T05:31:00+09:00"))
    return build(job, dt.date.fromisoformat(date), render=DRAFT, clock=clock, **options)


def _cart(path):
    return read_cart(next(payload for name, _, payload in chunks(path) if name == b"cart"))


@pytest.fixture
def job(tmp_path):
    for date in ("2026-01-01", "2026-01-02", "2026-01-03"):
        write_story(tmp_path, date, STORY)
    (tmp_path / "jobs.yaml").write_text(JOBS)
    return load_jobs(tmp_path / "jobs.yaml").job("morning")


def test_each_build_replaces_cut_wav_whole_and_a_failed_one_keeps_it(job, tmp_path):
    drop = tmp_path / "playout" / "NEWS0600.wav"
    assert _build(job, "2026-01-01") == 0
    first = drop.read_bytes()
    cart = _cart(drop)
    assert cart["CutID"] == "NEWS0600" and cart["Artist"] == "KBS World Radio"
    assert (cart["Start"], cart["End"]) == (dt.datetime(2026, 1, 1, 6, 0), dt.datetime(2026, 1, 1, 7, 0))
    with open(drop, "rb") as reader:  # a watcher that opened the old file
        assert _build(job, "2026-01-02") == 0
        assert reader.read() == first  # renamed over, never written into
    assert _cart(drop)["End"] == dt.datetime(2026, 1, 2, 7, 0)
    assert sorted(p.name for p in drop.parent.iterdir()) == ["NEWS0600.wav"]  # no temporaries left
    status = json.loads((tmp_path / "public" / "morning" / "status.json").read_text())
    assert status["last_success"]["playout"] == {"file": str(drop), "cut": "NEWS0600",
                                                 "starts": "2026-01-02T06:00:00", "expires": "2026-01-02T07:00:00"}
    second = drop.read_bytes()

    write_story(tmp_path, "2026-01-03", BROKEN_STORY)
    assert _build(job, "2026-01-03") == 2
    assert drop.read_bytes() == second  # the old bulletin stays, with its kill date
    failure = json.loads((tmp_path / "public" / "morning" / "status.json").read_text())["last_failure"]
    assert failure["playout"]["kept"] is True
    assert failure["playout"]["expires"] == "2026-01-02T07:00:00"
    assert failure["playout"]["date"] == "2026-01-02"


def test_a_publish_that_fails_after_the_render_leaves_cut_wav_alone(job, tmp_path, monkeypatch):
    drop = tmp_path / "playout" / "NEWS0600.wav"
    assert _build(job, "2026-01-01") == 0
    before = drop.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bulletin.nightly.build.publish", full_disk)
    assert _build(job, "2026-01-02") == 1
    assert drop.read_bytes() == before
    assert sorted(p.name for p in drop.parent.iterdir()) == ["NEWS0600.wav"]


def test_a_job_with_playout_but_no_cut_is_refused_at_load(tmp_path):
    (tmp_path / "jobs.yaml").write_text(JOBS.replace("cut: NEWS0600, ", ""))
    with pytest.raises(InputError) as refused:
        load_jobs(tmp_path / "jobs.yaml")
    assert refused.value.lines() == [
        f"{tmp_path / 'jobs.yaml'}:6:5: jobs.morning.playout: needs a cut id to name the file it drops there "
        "(CUT.wav): add `air: {cut: NEWS0600}` to this job"]


def test_bad_air_in_a_job_is_one_positioned_line_and_exit_2(tmp_path):
    (tmp_path / "jobs.yaml").write_text(JOBS.replace("expires: 1h", "expires: soon"))
    run = subprocess.run([sys.executable, "-m", "bulletin", "build", str(tmp_path / "jobs.yaml"), "morning"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"{tmp_path / 'jobs.yaml'}:7:77: jobs.morning.air.expires: 'soon' is not a kill date; write a duration "
        "after `starts` (30m, 2h, 1d, 1h30m) or a date-time such as 2019-11-22T07:00"]
    assert not (tmp_path / "playout").exists() and not (tmp_path / "public").exists()


def test_two_jobs_dropping_the_same_cut_into_one_folder_are_refused(tmp_path):
    second = JOBS.split("jobs:\n")[1].replace("morning:", "evening:").replace("public/morning", "public/evening")
    (tmp_path / "jobs.yaml").write_text(JOBS + second)
    with pytest.raises(InputError) as refused:
        load_jobs(tmp_path / "jobs.yaml")
    (line,) = refused.value.lines()
    assert line.endswith("jobs.evening.playout: job 'morning' drops NEWS0600.wav there too; give each a cut id of its own")


def test_the_drop_folder_is_checked_for_room_with_the_publish_folder(job):
    from bulletin.nightly.room import publish_space

    room = dict(publish_space(job, {"wav": 5_000_000, "mp3": 1_000_000, "json": 10_000}))
    assert room[job.playout] == 5_000_000  # CUT.wav is staged beside the one it replaces
    assert room[job.publish] >= 1_010_000
