"""Render progress: structured events for callers (stage, done of total, time), the older
callbacks still called, and the command line's lines saying what each stage took."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bulletin.pipeline.progress import STAGES, Progress
from tests.conftest import ROOT, write_presets

STORY = """title: Progress
date: 2026-03-05
master: {formats: [wav, mp3]}
cast:
  anchor: {role: anchor, voice: test-one}
  kim: {role: reporter, voice: test-two}
segments:
  - anchor: Good morning.
  - pause: 0.5
  - kim: Here is the news.
"""


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "story.yaml"
    path.write_text(STORY)
    write_presets(path.parent)
    return path


def test_events_name_every_stage_in_order_with_the_takes_counted(story, tmp_path):
    from bulletin import render

    events: list[Progress] = []
    stages: list[str] = []
    takes: list[int] = []
    render(story, tmp_path, jobs=1, use_cache=False, on_progress=events.append, on_stage=stages.append,
           on_take=takes.append)
    seen = list(dict.fromkeys(e.stage for e in events))
    assert seen == list(STAGES)
    assert stages == list(STAGES)  # the older callback: each stage once, in order
    synth = [e for e in events if e.stage == "synthesize"]
    assert [(e.done, e.total) for e in synth] == [(0, 2), (1, 2), (2, 2)]  # a pause makes no take
    assert sorted(takes) == [1, 3]
    times = [e.elapsed_s for e in events]
    assert times == sorted(times) and times[0] >= 0


def test_the_command_line_says_what_each_stage_took(story, tmp_path):
    run = subprocess.run([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(tmp_path), "--no-cache"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    took = {m.group(1): float(m.group(2)) for line in lines if (m := re.fullmatch(r"(\w+) +(\d+\.\d\d) s( \(\d+ of \d+\))?", line))}
    assert list(took) == list(STAGES) and len(lines) == len(STAGES) + 1
    assert "synthesize" in lines[2] and lines[2].endswith("(2 of 2)")
    total = re.fullmatch(r"done in (\d+\.\d) s", lines[-1])
    assert total, lines[-1]
    # the stages' times add up to the whole (each is what the stage took, not a time since start)
    assert abs(sum(took.values()) - float(total.group(1))) < 0.1 + 0.01 * len(took)


def test_a_bad_story_prints_only_its_error(tmp_path):
    story = tmp_path / "story.yaml"
    story.write_text("title: T\ncast: {anchor: {role: anchr}}\nsegments:\n  - anchor: Hi.\n")
    run = subprocess.run([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
