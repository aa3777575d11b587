"""`check` warns when two cast members would sound alike, and suggests a preset that would not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE, ROOT

NEAR_TWIN = "engine: espeak\nvoice: en-us+Mike\npitch: 56\npitch_range: 40\nrate_wpm: 166\nroles: [reporter]\ndescription: nearly anchor-us\n"
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
    (tmp_path / "voices" / "twin.yaml").write_text(NEAR_TWIN.replace("pitch: 56", "pitch: 80"))
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    assert "warning:" not in _check(story).stdout


def test_the_example_casts_without_clashes():
    run = _check(EXAMPLE)
    assert run.returncode == 0, run.stderr
    assert "warning:" not in run.stdout


def test_neural_presets_clash_on_one_voice_at_a_close_pace(tmp_path: Path):
    from bulletin.cast.clash import alike, clashes
    from bulletin.cast.presets import Preset
    from bulletin.script.story import load_story

    kumo = Preset("n-one", "kokoro", "jm_kumo", rate_wpm=150, roles=("anchor",), gender="male")
    twin = Preset("n-two", "kokoro", "jm_kumo", pitch=90, rate_wpm=160, roles=("reporter",), gender="male")
    other = Preset("n-three", "kokoro", "jf_alpha", rate_wpm=150, roles=("reporter",), gender="female")
    # Kokoro ignores espeak-ng's pitch: only the voice or a clearly other pace tells them apart
    assert alike(kumo, twin) and not alike(kumo, other)
    assert not alike(kumo, Preset("n-fast", "kokoro", "jm_kumo", rate_wpm=180))
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    loaded = load_story(story)
    warnings = clashes(loaded, {"anchor": kumo, "kim": twin}, {p.name: p for p in (kumo, twin, other)})
    assert len(warnings) == 1 and "cast.kim: sounds like anchor" in warnings[0] and "try voice: n-three" in warnings[0]


def test_a_size_shift_of_three_semitones_or_more_makes_another_speaker():
    from dataclasses import replace

    from bulletin.cast.clash import alike
    from bulletin.cast.presets import Preset

    kumo = Preset(name="kumo", engine="kokoro", voice="jm_kumo", rate_wpm=150)
    assert alike(kumo, replace(kumo, name="k2", shift_semitones=2.0))  # the same man, a bit lower
    assert not alike(replace(kumo, shift_semitones=-2.0), replace(kumo, name="k2", shift_semitones=2.0))
    espeak = Preset(name="e", engine="espeak", voice="en-us+m3", pitch=40)
    # espeak's own pitch and the shift add up: 12 steps (1.85 semitones) and 1.5 semitones
    assert not alike(espeak, replace(espeak, name="e2", pitch=52, shift_semitones=1.5))
    assert alike(espeak, replace(espeak, name="e2", pitch=52, shift_semitones=1.0))
