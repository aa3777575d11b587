"""Real processes and real renders: a lock contended by two processes, builds killed with
SIGKILL mid-render and mid-publish, and end-to-end builds through bulletin.pipeline.render and the CLI."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest
from nightly_fakes import (
    BROKEN_STORY,
    STORY,
    fake_render,
    make_site,
    snapshot,
    wait_for,
    write_story,
)

from bulletin.nightly.build import build, run_build
from bulletin.nightly.jobsfile import load_jobs
from bulletin.nightly.publish import read_status

TESTS = Path(__file__).parent
needs_render = pytest.mark.skipif(
    importlib.util.find_spec("bulletin.pipeline.render") is None,
    reason="bulletin.pipeline.render is not there yet",
)


def driver(
    mode: str, jobs_file: Path, date: str, *extra: str, env: dict | None = None
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(TESTS / "nightly_driver.py"), mode, str(jobs_file), date, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bulletin", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def visible_unchanged(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    assert {k: v for k, v in after.items() if k in before} == before


# --- the lock, between processes ---------------------------------------------------------------


def test_two_processes_never_build_one_job_at_once(tmp_path):
    jobs_file = make_site(tmp_path, ["2026-01-01", "2026-01-02"])
    flag = tmp_path / "rendering"
    first = driver("build", jobs_file, "2026-01-01", env={"BULLETIN_TEST_HOLD": str(flag)})
    try:
        wait_for(flag.exists)  # the first build holds the lock and is rendering
        second = cli("build", str(jobs_file), "morning", "--date", "2026-01-02", cwd=tmp_path)
        assert second.returncode == 1
        assert "morning build busy: already running" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert second.stdout == ""  # it did not start: no render, no publish
        flag.unlink()  # let the first one finish
        out, err = first.communicate(timeout=20)
        assert first.returncode == 0, err
    finally:
        first.kill()
    status = read_status(tmp_path / "public" / "morning")
    assert status["last_success"]["date"] == "2026-01-01" and "last_failure" not in status
    job = load_jobs(jobs_file).job("morning")
    assert build(job, dt.date(2026, 1, 2), render=fake_render) == 0  # free again


def test_a_build_killed_while_rendering_leaves_the_published_bulletin_and_frees_the_lock(tmp_path):
    jobs_file = make_site(tmp_path, ["2026-01-01", "2026-01-02", "2026-01-03"])
    job = load_jobs(jobs_file).job("morning")
    assert build(job, dt.date(2026, 1, 1), render=fake_render) == 0
    before = snapshot(job.publish)
    flag = tmp_path / "rendering"
    killed = driver("build", jobs_file, "2026-01-02", env={"BULLETIN_TEST_HOLD": str(flag)})
    wait_for(flag.exists)  # half an MP3 is in staging now
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=10)
    assert snapshot(job.publish) == before  # byte-identical, nothing new, no partial file
    partials = list((job.publish / ".staging").rglob("*.mp3"))
    assert partials, "the kill should have left its half file in staging"
    # The kernel dropped the dead build's lock; the next build cleans up after it.
    assert build(job, dt.date(2026, 1, 3), render=fake_render) == 0
    assert not (job.publish / ".staging").exists()
    assert len(feedparser.parse((job.publish / "feed.xml").read_bytes()).entries) == 2


def test_a_build_killed_while_publishing_leaves_the_feed_latest_and_index_untouched(tmp_path):
    jobs_file = make_site(tmp_path, ["2026-01-01", "2026-01-02", "2026-01-03"])
    job = load_jobs(jobs_file).job("morning")
    assert build(job, dt.date(2026, 1, 1), render=fake_render) == 0
    before = snapshot(job.publish)
    flag = tmp_path / "publishing"
    killed = driver("publish-hold", jobs_file, "2026-01-02", str(flag))
    wait_for(flag.exists)  # two new dated files are in place; index.json is not yet replaced
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=10)
    after = snapshot(job.publish)
    visible_unchanged(before, after)  # feed.xml, latest.*, index.json, status.json: same bytes
    arrived = sorted(set(after) - set(before))
    assert len(arrived) == 2 and all("2026-01-02" in name for name in arrived)
    assert not [p for p in job.publish.iterdir() if p.name.endswith(".tmp")]
    feed = feedparser.parse((job.publish / "feed.xml").read_bytes())
    assert [e.enclosures[0].href for e in feed.entries] == [
        "https://example.org/morning/test-news-2026-01-01.mp3"
    ]
    # The next build sweeps the files the dead one moved in but never listed.
    assert build(job, dt.date(2026, 1, 3), render=fake_render) == 0
    names = set(snapshot(job.publish))
    assert not any("2026-01-02" in name for name in names)
    episodes = json.loads((job.publish / "index.json").read_text())["episodes"]
    listed = {name for e in episodes for name in e["files"].values()}
    dated = {n for n in names if n.startswith("test-news-")}
    assert dated == listed  # the feed and the files agree


# --- real renders -----------------------------------------------------------------------------


@needs_render
def test_two_real_dated_builds_make_a_feed_with_both_bulletins(tmp_path):
    jobs_file = make_site(tmp_path, ["2026-01-01", "2026-01-02"])
    assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 1)) == 0
    assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 2)) == 0
    folder = tmp_path / "public" / "morning"
    feed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 2
    for entry, date in zip(feed.entries, ("2026-01-02", "2026-01-01"), strict=True):
        mp3 = folder / f"test-news-{date}.mp3"
        assert entry.enclosures[0].href.endswith(mp3.name)
        assert int(entry.enclosures[0].length) == mp3.stat().st_size > 1000
        chapters = json.loads(
            (folder / entry.podcast_chapters["url"].rsplit("/", 1)[1]).read_text()
        )
        assert chapters["version"] == "1.2.0" and chapters["chapters"][0]["startTime"] == 0.0
        said = json.loads((folder / f"test-news-{date}.transcript.json").read_text())["segments"]
        assert [s["body"] for s in said[:2]] == ["Good", "morning."]  # the last transcript tag's
        vtt = folder / f"test-news-{date}.vtt"
        assert vtt.read_text().startswith("WEBVTT") and "Good morning." in vtt.read_text()
        srt = (folder / f"test-news-{date}.srt").read_text()
        assert srt.startswith("1\n00:00:") and "Good morning." in srt

    cue = json.loads((folder / "latest.json").read_text())
    assert cue["date"] == "2026-01-02" and cue["title"] == "Test News"
    assert (folder / "latest.mp3").read_bytes() == (
        folder / "test-news-2026-01-02.mp3"
    ).read_bytes()


@needs_render
def test_a_real_broken_story_leaves_latest_and_feed_byte_identical(tmp_path, capsys):
    jobs_file = make_site(tmp_path, ["2026-01-01"])
    assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 1)) == 0
    folder = tmp_path / "public" / "morning"
    before = snapshot(folder)
    write_story(tmp_path, "2026-01-02", BROKEN_STORY)
    capsys.readouterr()
    assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 2)) == 2
    after = snapshot(folder)
    for name in ("latest.mp3", "latest.json", "feed.xml", "index.json"):
        assert after[name] == before[name], name
    assert set(after) == set(before)
    failure = read_status(folder)["last_failure"]
    assert (
        failure["date"] == "2026-01-02"
        and "kim" in failure["reason"]
        and "story.yaml:4" in failure["reason"]
    )
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "morning build failed: exit 2: " in err[0]


@needs_render
def test_a_real_render_killed_mid_build_changes_nothing(tmp_path):
    jobs_file = make_site(tmp_path, ["2026-01-01", "2026-01-02"])
    assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 1)) == 0
    # a long story of fresh words (nothing cached), so the render lasts long enough to be killed
    # (espeak, not the slower neural voice that `auto` picks where the extra is installed)
    long_story = STORY.replace("{role: anchor}", "{role: anchor, voice: anchor-us}") + "".join(
        f"  - anchor: Item {i}, and the news goes on for a little while longer.\n"
        for i in range(30)
    )
    write_story(tmp_path, "2026-01-02", long_story)
    folder = tmp_path / "public" / "morning"
    before = snapshot(folder)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bulletin",
            "build",
            str(jobs_file),
            "morning",
            "--date",
            "2026-01-02",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for(lambda: any((folder / ".staging").glob("2026-01-02-*")))  # rendering has begun
    time.sleep(0.3)  # into the render (loading, synthesis); this one takes a few seconds
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert snapshot(folder) == before
    assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 2)) == 0
    assert not (folder / ".staging").exists()


@needs_render
def test_the_cli_builds_and_lists(tmp_path):
    jobs_file = make_site(tmp_path, ["2026-01-01"], timezone="Europe/London", at="01:30")
    built = cli("build", "jobs.yaml", "morning", "--date", "2026-01-01", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert [line.split()[2:4] for line in built.stdout.splitlines()] == [
        ["build", "started:"], ["render", "ok:"], ["publish", "ok:"]
    ]  # fmt: skip
    write_story(tmp_path, "2026-01-02", STORY.replace("anchor: Good", "kim: Good"))
    broken = cli("build", "jobs.yaml", "morning", "--date", "2026-01-02", cwd=tmp_path)
    assert broken.returncode == 2 and len(broken.stderr.splitlines()) == 1
    listed = cli("schedule", str(jobs_file), "--list", cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.startswith("morning: at 01:30, Europe/London")
    bad = cli("build", "jobs.yaml", "evening", cwd=tmp_path)
    assert bad.returncode == 2 and "no job named 'evening'" in bad.stderr
