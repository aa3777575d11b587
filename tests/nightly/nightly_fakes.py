"""Helpers for the nightly tests: a stand-in render that writes small real files (an MP3 encoded
by lameenc, a cue sheet, captions) in the real render's names, jobs files, and a fake clock.

The stand-in keeps publishing, locking and scheduling tests fast and lets a test hold a build
at a known point (BULLETIN_TEST_HOLD: a file to create once rendering, then wait until it is
deleted) so another process can contend for the lock or kill it there.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import lameenc

from bulletin.base.errors import BulletinError, InputError, Problem
from bulletin.nightly.build import build
from bulletin.nightly.jobsfile import load_jobs

JOBS_YAML = """\
timezone: {timezone}
jobs:
  morning:
    story: stories/{{date}}/story.yaml
    at: "{at}"
    publish: public/morning
    keep: {keep}
    feed:
      title: Test Morning News
      description: The morning bulletin
      base_url: https://example.org/morning/
"""

STORY = "title: Test News\ncast: {anchor: {role: anchor}}\nsegments:\n  - anchor: Good morning.\n"
BROKEN_STORY = (
    "title: Test News\ncast: {anchor: {role: anchor}}\nsegments:\n  - kim: Nobody cast me.\n"
)


def make_site(
    root: Path, dates: list[str], *, keep: int = 14, at: str = "05:30", timezone: str = "Asia/Seoul"
) -> Path:
    """A jobs file and a story for each date under `root`; returns the jobs file."""
    for date in dates:
        write_story(root, date, STORY)
    jobs = root / "jobs.yaml"
    jobs.write_text(JOBS_YAML.format(timezone=timezone, at=at, keep=keep))
    return jobs


def write_story(root: Path, date: str, text: str) -> Path:
    path = root / "stories" / date / "story.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def sine_mp3(seconds: float = 0.5, rate_hz: int = 22050, pitch_hz: float = 440.0) -> bytes:
    """A real, decodable MP3 of a sine tone."""
    frames = int(seconds * rate_hz)
    samples = bytearray()
    for i in range(frames):
        value = int(8000 * math.sin(2 * math.pi * pitch_hz * i / rate_hz))
        samples += value.to_bytes(2, "little", signed=True)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(rate_hz)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return encoder.encode(bytes(samples)) + encoder.flush()


@dataclass
class FakeResult:
    files: dict[str, Path]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    cue: dict


def fake_render(
    story_path: Path,
    out_dir: Path,
    *,
    formats: list[str] | None = None,
    loudness: str | float | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    assets: list[Path] = (),
    date: dt.date | None = None,
    air: object = None,  # the real render writes it into the WAV's cart chunk
    now: dt.datetime | None = None,
    more_space: object = None,
) -> FakeResult:
    """Write SLUG-DATE.mp3/.json/.vtt (and .wav if asked) like bulletin.pipeline.render.render
    (its files are small: the room `more_space` asks about is not checked)."""
    text = Path(story_path).read_text()
    if "kim:" in text:  # the broken story: an uncast speaker, as the real loader would refuse
        raise InputError([Problem(str(story_path), 4, 5, "segment 1", "'kim' is not in the cast")])
    if "ENGINE FAILS" in text:
        raise BulletinError("segment 1: the engine failed: espeak-ng exited with status 1")
    title = re.search(r"^title: (.+)$", text, re.M)[1]
    date = date or dt.date.today()
    stem = f"{title.lower().replace(' ', '-')}-{date.isoformat()}"
    out_dir = Path(out_dir)
    mp3 = out_dir / f"{stem}.mp3"
    # Half the MP3 first, then a pause point, so a kill there leaves a partial file behind.
    audio = sine_mp3(
        pitch_hz=400 + date.toordinal() % 200
    )  # each date sounds (and hashes) different
    mp3.write_bytes(audio[: len(audio) // 2])
    _hold_if_asked()
    mp3.write_bytes(audio)
    cue = {
        "title": title,
        "date": date.isoformat(),
        "duration": 0.5,
        "stories": [
            {"index": 1, "headline": "First story", "start": 0.0, "end": 0.25},
            {"index": 2, "headline": "Second story", "start": 0.25, "end": 0.5},
        ],
        "segments": [],
    }
    files = {"mp3": mp3, "json": out_dir / f"{stem}.json", "vtt": out_dir / f"{stem}.vtt"}
    files["json"].write_text(json.dumps(cue, indent=2))
    files["vtt"].write_text("WEBVTT\n\n1\n00:00:00.000 --> 00:00:00.500\n<v Anchor>Good morning.\n")
    if formats and "wav" in formats:
        files["wav"] = out_dir / f"{stem}.wav"
        files["wav"].write_bytes(b"RIFF fake wav")
    return FakeResult(files, 0.5, -16.0, -1.0, cue)


def _hold_if_asked() -> None:
    if os.environ.get("BULLETIN_TEST_HOLD"):
        hold(Path(os.environ["BULLETIN_TEST_HOLD"]))


def hold(flag: Path) -> None:
    """Create `flag` (holding our pid), then wait until the test deletes it."""
    flag.write_text(str(os.getpid()))
    while flag.exists():
        time.sleep(0.02)


def wait_for(condition, timeout_s: float = 20.0) -> None:
    """Poll until `condition()` is true (a subprocess reached a point), or fail."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        time.sleep(0.02)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every visible file in a publish folder and its bytes."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


class FakeClock:
    """An injectable clock whose sleep moves time on instead of waiting."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=max(seconds, 0.001))


SEOUL_MORNING = dt.datetime(2026, 1, 2, 20, 31, tzinfo=dt.UTC)  # 05:31 on 3 January in Seoul


def site(tmp_path: Path, dates=("2026-01-01", "2026-01-02", "2026-01-03"), **options):
    """The `morning` job of a site made by make_site."""
    return load_jobs(make_site(tmp_path, list(dates), **options)).job("morning")


def run(job, date: str, render=fake_render, **options) -> int:
    """Build `job` for `date` with the stand-in render on a fake clock (05:31 in Seoul)."""
    options.setdefault("clock", FakeClock(SEOUL_MORNING))
    return build(job, dt.date.fromisoformat(date), render=render, **options)
