"""Building and publishing in one process with a stand-in render (real small files): the feed,
pruning, latest, failures that change nothing, the lock, leftovers and status.json."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import signal
import xml.etree.ElementTree as ET

import feedparser
import pytest
from nightly_fakes import BROKEN_STORY, fake_render, make_site, run, site, snapshot, write_story

from bulletin.base.errors import BulletinError
from bulletin.nightly.build import run_build
from bulletin.nightly.jobsfile import load_jobs
from bulletin.nightly.publish import job_lock, read_status, write_atomic
from bulletin.nightly.stopping import Stopper

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d morning [a-z]+ [a-z]+(: .+)?$")


def test_two_dated_builds_publish_a_feed_that_feedparser_reads(tmp_path, capsys):
    job = site(tmp_path)
    assert run(job, "2026-01-01") == 0
    assert run(job, "2026-01-02") == 0
    folder = job.publish
    feed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Test Morning News"
    assert [e.title for e in feed.entries] == [
        "Test News, 2 January 2026",
        "Test News, 1 January 2026",
    ]
    for entry, date in zip(feed.entries, ("2026-01-02", "2026-01-01"), strict=True):
        mp3 = folder / f"test-news-{date}.mp3"
        (enclosure,) = entry.enclosures
        assert enclosure.href == f"https://example.org/morning/test-news-{date}.mp3"
        assert int(enclosure.length) == mp3.stat().st_size and enclosure.type == "audio/mpeg"
        assert entry.podcast_chapters == {
            "url": f"https://example.org/morning/test-news-{date}.chapters.json",
            "type": "application/json+chapters",
        }
        assert entry.podcast_transcript["url"].startswith(f"https://example.org/morning/test-news-{date}.")
        assert entry.itunes_duration == "00:00:01" and entry.published_parsed and entry.id
    transcripts = [
        (t.get("url").rsplit("/", 1)[1], t.get("type"), t.get("rel"))
        for t in ET.parse(folder / "feed.xml").iter("{https://podcastindex.org/namespace/1.0}transcript")
    ]
    assert transcripts[:3] == [  # the newest bulletin's captions and word-by-word transcript
        ("test-news-2026-01-02.vtt", "text/vtt", "captions"),
        ("test-news-2026-01-02.srt", "application/x-subrip", "captions"),
        ("test-news-2026-01-02.transcript.json", "application/json", None),
    ]
    for name, _, _ in transcripts:
        assert (folder / name).is_file()
    chapters = json.loads((folder / "test-news-2026-01-02.chapters.json").read_text())

    assert chapters["version"] == "1.2.0"
    assert chapters["chapters"] == [
        {"startTime": 0.0, "endTime": 0.25, "title": "First story"},
        {"startTime": 0.25, "endTime": 0.5, "title": "Second story"},
    ]
    assert (folder / "latest.mp3").read_bytes() == (
        folder / "test-news-2026-01-02.mp3"
    ).read_bytes()
    assert json.loads((folder / "latest.json").read_text())["date"] == "2026-01-02"
    status = read_status(folder)
    assert status["last_success"]["date"] == "2026-01-02"
    assert "test-news-2026-01-02.mp3" in status["last_success"]["files"]
    assert status["last_run"]["outcome"] == "success" and "last_failure" not in status
    out = capsys.readouterr().out.splitlines()
    assert all(LOG_LINE.match(line) for line in out), out
    assert [line.split()[2:4] for line in out[:3]] == [
        ["build", "started:"],
        ["render", "ok:"],
        ["publish", "ok:"],
    ]


def test_keep_prunes_files_and_feed_together(tmp_path):
    job = site(tmp_path, keep=2)
    for date in ("2026-01-01", "2026-01-02", "2026-01-03"):
        assert run(job, date) == 0
    names = set(snapshot(job.publish))
    assert not any("2026-01-01" in name for name in names)
    assert {
        f"test-news-2026-01-0{d}.{ext}"
        for d in (2, 3)
        for ext in ("mp3", "json", "vtt", "chapters.json")
    } <= names
    feed = feedparser.parse((job.publish / "feed.xml").read_bytes())
    assert [e.enclosures[0].href.rsplit("/", 1)[1] for e in feed.entries] == [
        "test-news-2026-01-03.mp3",
        "test-news-2026-01-02.mp3",
    ]
    assert len(json.loads((job.publish / "index.json").read_text())["episodes"]) == 2


def test_rebuilding_a_date_replaces_its_bulletin(tmp_path):
    job = site(tmp_path)
    assert run(job, "2026-01-01") == 0
    write_story(tmp_path, "2026-01-01", "title: Corrected News\ncast: {anchor: {role: anchor}}\n")
    assert run(job, "2026-01-01") == 0
    names = set(snapshot(job.publish))
    assert not any(name.startswith("test-news") for name in names)  # the old title's files went
    assert "corrected-news-2026-01-01.mp3" in names
    assert len(feedparser.parse((job.publish / "feed.xml").read_bytes()).entries) == 1


def test_a_backfilled_older_date_joins_the_feed_but_not_latest(tmp_path):
    job = site(tmp_path)
    assert run(job, "2026-01-02") == 0
    latest = (job.publish / "latest.mp3").read_bytes()
    assert run(job, "2026-01-01") == 0
    assert (job.publish / "latest.mp3").read_bytes() == latest
    feed = feedparser.parse((job.publish / "feed.xml").read_bytes())
    assert len(feed.entries) == 2
    # dated to its own morning (05:30 in Seoul), so apps order it by date
    assert feed.entries[1].published == "Thu, 01 Jan 2026 05:30:00 +0900"


def test_a_date_older_than_the_kept_ones_is_not_published(tmp_path):
    job = site(tmp_path, keep=1)
    assert run(job, "2026-01-02") == 0
    before = snapshot(job.publish)
    assert run(job, "2026-01-01") == 0
    after = snapshot(job.publish)
    assert {k for k in after if "2026-01-01" in k} == set()
    assert after["latest.mp3"] == before["latest.mp3"] and after["feed.xml"] == before["feed.xml"]


def broken(tmp_path, job):
    write_story(tmp_path, "2026-01-02", BROKEN_STORY)


def missing(tmp_path, job):
    (tmp_path / "stories" / "2026-01-02" / "story.yaml").unlink()


def engine_fails(tmp_path, job):
    write_story(tmp_path, "2026-01-02", "title: Test News\nENGINE FAILS\n")


def raising(error: BaseException):
    def render(*args, **kwargs):
        raise error

    return render


@pytest.mark.parametrize(
    ("spoil", "render", "exit_status", "reason"),
    [
        (broken, fake_render, 2, "story.yaml:4:5: segment 1: 'kim' is not in the cast"),
        (missing, fake_render, 2, "jobs.yaml:4:12: jobs.morning.story: "),
        (engine_fails, fake_render, 1, "segment 1: the engine failed"),
        (
            None,
            raising(OSError(errno.ENOSPC, "No space left on device", "x.mp3")),
            1,
            "No space left on device: x.mp3",
        ),
        (
            None,
            raising(ZeroDivisionError("division by zero")),
            1,
            "internal error: ZeroDivisionError: division by zero at",
        ),
    ],
)
def test_a_failed_build_changes_nothing_published_and_says_why(
    tmp_path, capsys, spoil, render, exit_status, reason
):
    job = site(tmp_path)
    assert run(job, "2026-01-01") == 0
    before = snapshot(job.publish)
    success = read_status(job.publish)["last_success"]
    if spoil:
        spoil(tmp_path, job)
    capsys.readouterr()
    assert run(job, "2026-01-02", render=render) == exit_status
    after = snapshot(job.publish)
    assert {k: v for k, v in after.items() if k != "status.json"} == {
        k: v for k, v in before.items() if k != "status.json"
    }
    status = read_status(job.publish)
    assert reason in status["last_failure"]["reason"]
    assert (
        status["last_failure"]["date"] == "2026-01-02"
        and status["last_failure"]["exit_status"] == exit_status
    )
    assert status["last_success"] == success and status["last_run"]["outcome"] == "failure"
    err = capsys.readouterr().err.splitlines()
    assert (
        len(err) == 1
        and f"morning build failed: exit {exit_status}: " in err[0]
        and reason in err[0]
    )
    assert sorted(p.name for p in job.publish.iterdir() if p.name.startswith(".")) == [".lock"]


def test_a_second_build_while_the_lock_is_held_is_busy_and_touches_nothing(tmp_path, capsys):
    job = site(tmp_path)
    assert run(job, "2026-01-01") == 0
    before = snapshot(job.publish)
    with job_lock(job.publish):
        assert run(job, "2026-01-02") == 1
    assert snapshot(job.publish) == before
    err = capsys.readouterr().err
    assert (
        "morning build busy: already running: another build holds" in err
        and f"pid {os.getpid()}" in err
    )


def test_what_a_dead_build_left_is_cleared_by_the_next(tmp_path, capsys):
    job = site(tmp_path)
    assert run(job, "2026-01-01") == 0
    partial = job.publish / ".staging" / "2026-01-02-dead" / "test-news-2026-01-02.mp3"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half an mp3")
    (job.publish / ".status.json.deadbeef.tmp").write_text("{")
    orphan = job.publish / "test-news-2025-12-31.mp3"  # moved in, but the index never said so
    orphan.write_bytes(b"complete but unlisted")
    assert run(job, "2026-01-02") == 0
    names = sorted(p.name for p in job.publish.iterdir())
    assert (
        ".staging" not in names
        and ".status.json.deadbeef.tmp" not in names
        and orphan.name not in names
    )
    assert (
        "removed what a dead build left: .staging, .status.json.deadbeef.tmp"
        in capsys.readouterr().out
    )


def test_a_stop_signal_while_rendering_abandons_the_build(tmp_path):
    job = site(tmp_path)
    assert run(job, "2026-01-01") == 0
    before = snapshot(job.publish)
    stopper = Stopper()

    def interrupted(*args, **kwargs):
        stopper.request(signal.SIGTERM)  # what the handler does when SIGTERM arrives
        raise AssertionError("not reached: the stop request raises")

    assert run(job, "2026-01-02", render=interrupted, stopper=stopper) == 1
    after = snapshot(job.publish)
    assert {k: v for k, v in after.items() if k != "status.json"} == {
        k: v for k, v in before.items() if k != "status.json"
    }
    assert (
        "stopped by SIGTERM while rendering; nothing published"
        in read_status(job.publish)["last_failure"]["reason"]
    )


def test_published_files_are_readable_whatever_mode_the_render_gave_them(tmp_path):
    job = site(tmp_path)

    def private(*args, **kwargs):
        result = fake_render(*args, **kwargs)
        for path in result.files.values():
            path.chmod(0o600)
        return result

    old = os.umask(0o022)
    try:
        assert run(job, "2026-01-01", render=private) == 0
    finally:
        os.umask(old)
    for name in ("test-news-2026-01-01.mp3", "latest.mp3", "feed.xml", "status.json", "index.json"):
        assert (job.publish / name).stat().st_mode & 0o777 == 0o644, name


def test_without_a_feed_section_no_feed_is_written_and_wav_is_kept_when_asked(tmp_path):
    make_site(tmp_path, ["2026-01-01"])
    (tmp_path / "jobs.yaml").write_text(
        "jobs:\n  morning:\n    story: stories/{date}/story.yaml\n    publish: out\n    wav: true\n"
    )
    job = load_jobs(tmp_path / "jobs.yaml").job("morning")
    assert run(job, "2026-01-01") == 0
    names = set(snapshot(job.publish))
    assert (
        "feed.xml" not in names
        and {"test-news-2026-01-01.wav", "latest.mp3", "index.json"} <= names
    )


@pytest.mark.parametrize("damage", ["corrupt", "delete"])
def test_a_lost_index_is_rebuilt_from_the_bulletins_in_the_folder(tmp_path, capsys, damage):
    job = site(tmp_path, keep=2)
    assert run(job, "2026-01-01") == 0
    assert run(job, "2026-01-02") == 0
    index = job.publish / "index.json"
    index.write_text("{not json") if damage == "corrupt" else index.unlink()
    capsys.readouterr()
    assert run(job, "2026-01-03") == 0
    # The earlier bulletins were adopted, not swept as unlisted; keep=2 then pruned the oldest.
    feed = feedparser.parse((job.publish / "feed.xml").read_bytes())
    assert [e.enclosures[0].href.rsplit("/", 1)[1] for e in feed.entries] == [
        "test-news-2026-01-03.mp3",
        "test-news-2026-01-02.mp3",
    ]
    assert (job.publish / "test-news-2026-01-02.chapters.json").exists()
    assert not (job.publish / "test-news-2026-01-01.mp3").exists()
    out = capsys.readouterr().out
    assert "morning index rebuilt: index.json is " in out and "rebuilt it from 2 bulletins" in out


def test_run_build_uses_today_in_the_jobs_zone_and_the_render_stage(tmp_path, monkeypatch):
    jobs_file = make_site(tmp_path, [])
    today = dt.datetime.now(dt.UTC).astimezone(load_jobs(jobs_file).job("morning").timezone).date()
    write_story(tmp_path, today.isoformat(), "title: Test News\n")
    monkeypatch.setattr("bulletin.nightly.build._default_render", lambda: fake_render)
    assert run_build(jobs_file, ["morning"]) == 0
    assert read_status(tmp_path / "public" / "morning")["last_success"]["date"] == today.isoformat()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers put back


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "status.json"
    target.write_text("old")

    def failing_replace(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["status.json"]


def test_a_render_that_writes_no_captions_is_a_failure(tmp_path):
    job = site(tmp_path)

    def no_vtt(*args, **kwargs):
        result = fake_render(*args, **kwargs)
        result.files.pop("vtt").unlink()
        return result

    assert run(job, "2026-01-01", render=no_vtt) == 1
    assert "wrote no vtt file" in read_status(job.publish)["last_failure"]["reason"]
    assert not (job.publish / "feed.xml").exists()
    with pytest.raises(BulletinError):
        raise BulletinError("sanity: the error family is importable here")
