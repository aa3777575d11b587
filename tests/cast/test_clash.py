"""`check` warns when two cast members would sound alike, and suggests a preset that would not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE, ROOT

NEAR_TWIN = "engine: espeak\nvoice: en-us+m3\npitch: 44\npitch_range: 40\nrate_wpm: 172\nroles: [reporter]\ndescription: nearly anchor-us\n"
STORY = """title: Clash
cast:
  anchor: {role: anchor, voice: anchor-us}
  kim: {role: reporter, voice: twin}
segments:
  - anchor: Good morning.
  - kim: Good morning to you.
"""


def _check(story: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulletin", "check", str(story)], capture_output=True, text=True, cwd=ROOT)


def test_near_identical_presets_warn_with_a_suggestion(tmp_path: Path):
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "twin.yaml").write_text(NEAR_TWIN)
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    run = _check(story)
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "cast.kim: sounds like anchor" in warnings[0] and "try voice: " in warnings[0]


def test_a_clearly_different_pitch_does_not_warn(tmp_path: Path):
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "twin.yaml").write_text(NEAR_TWIN.replace("pitch: 44", "pitch: 70"))
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    assert "warning:" not in _check(story).stdout


def test_the_example_casts_without_clashes():
    run = _check(EXAMPLE)
    assert run.returncode == 0, run.stderr
    assert "warning:" not in run.stdout
