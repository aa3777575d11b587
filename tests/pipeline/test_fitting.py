"""Fitting a bulletin to its post: real renders (espeak-ng, --draft) measured as written, the
WAV's frames and the decoded MP3's samples, the cue sheet, the refusals and `check`'s line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from bulletin.mix.timeline import arrange
from bulletin.pipeline.checking import check
from bulletin.pipeline.fitting import TAIL_S, Budget, choose_pace, fit_to_post, pace_grid
from bulletin.pipeline.render import render
from bulletin.script.story import load_story
from bulletin.sound.cache import cache_folder
from tests.conftest import ROOT

STORY = ROOT / "tests" / "data" / "stories" / "multi-story.yaml"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulletin", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def natural(tmp_path_factory: pytest.TempPathFactory) -> float:
    """The story's length rendered without a post (the takes are then in the cache)."""
    return render(STORY, tmp_path_factory.mktemp("natural"), jobs=1, draft=True, formats=["wav"]).duration_s


@pytest.mark.parametrize("share", [0.97, 1.03])
def test_a_fitted_render_is_the_post_to_the_sample(natural, share, tmp_path):
    post = round(natural * share, 3)
    result = render(STORY, tmp_path, jobs=1, draft=True, duration=post)
    rate = 48000
    wav = sf.info(str(result.files["wav"]))
    assert wav.frames == round(post * rate)
    decoded, decoded_rate = sf.read(str(result.files["mp3"]), always_2d=True)
    assert decoded_rate == rate and decoded.shape[0] == wav.frames  # the LAME tag's gapless trim
    if shutil.which("ffmpeg"):
        pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(result.files["mp3"]), "-f", "s16le", "-"],
                             capture_output=True, check=True).stdout
        assert len(pcm) // (2 * wav.channels) == wav.frames
    cue = json.loads(result.files["json"].read_text())
    fit = cue["fit"]
    assert fit["target"] == post and fit["target_met"] and fit["off_s"] == 0
    assert 0.7 <= fit["gap_factor"] <= 1.5 and 0.94 <= fit["pace"] <= 1.06
    assert cue["segments"][-1]["name"] == "close" and cue["segments"][-1]["end"] == pytest.approx(post, abs=1e-3)
    # the bed is backtimed: it ends with its story, not after it
    assert cue["stories"][0]["bed"]["end"] == pytest.approx(cue["stories"][0]["end"], abs=1e-3)
    # the gaps flexed by the cue sheet's factor: the pause in story 2 is 1 s as written
    pause = next(s for s in cue["segments"] if s["kind"] == "pause")
    assert pause["end"] - pause["start"] == pytest.approx(fit["gap_factor"], abs=2e-3)
    data, _ = sf.read(str(result.files["wav"]), always_2d=True)
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(data) - -23.0) <= 0.1
    # captions follow the fitted timeline: the last cue shows the last speech's last words, timed
    # to them (it may stay up a little longer to be on screen a whole second)
    vtt = result.files["vtt"].read_text()
    last_speech = [s for s in cue["segments"] if s["kind"] == "speech"][-1]
    start, end = (_vtt_seconds(t) for t in re.findall(r"^(\S+) --> (\S+)$", vtt, re.M)[-1])
    assert last_speech["start"] - 1e-3 <= start < last_speech["end"]
    assert last_speech["words"][-1]["end"] - 0.002 <= end <= last_speech["end"] + 1.0


def _vtt_seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return 3600 * int(hours) + 60 * int(minutes) + float(seconds)


def test_a_post_far_under_is_refused_in_one_line(natural, tmp_path):
    out = tmp_path / "new" / "out"  # folders the render makes, and removes again when it refuses
    done = cli("render", "--draft", str(STORY), "-o", str(out), "--duration", f"{natural * 0.8:.1f}")
    assert done.returncode == 1
    line, = [line for line in done.stderr.splitlines() if line.startswith("error: ")]  # else the stages' times
    assert " over by " in line and " s at the fastest allowed pace" in line and "words" in line
    assert '"Seoul Remains Adamant against Renewing GSOMIA", is the longest' in line
    assert not list(tmp_path.iterdir())


def test_best_effort_renders_the_nearest_and_says_how_far(natural, tmp_path):
    post = round(natural * 1.3, 2)
    done = cli("render", "--draft", str(STORY), "-o", str(tmp_path), "--duration", str(post),
               "--duration-best-effort", "--format", "wav")
    assert done.returncode == 0, done.stderr
    assert "under by" in done.stderr and "best effort" in done.stderr
    cue = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert cue["fit"]["target_met"] is False and cue["fit"]["off_s"] < -1
    assert cue["fit"]["pace"] == pytest.approx(0.94) and cue["fit"]["gap_factor"] == pytest.approx(1.5)
    assert cue["duration"] == pytest.approx(post + cue["fit"]["off_s"], abs=0.01)


@pytest.mark.parametrize(("value", "says"), [("0", "more than 0"), ("-3", "more than 0"), ("3:75", "not a length"),
                                             ("abc", "not a length"), ("3:00:01", "over 3 hours")])
def test_a_bad_duration_is_refused(value, says, tmp_path):
    done = cli("render", "--draft", str(STORY), "-o", str(tmp_path / "out"), f"--duration={value}")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: --duration: ") and says in done.stderr
    assert not (tmp_path / "out").exists()


def test_bad_master_keys_are_refused_where_they_are(tmp_path):
    story = tmp_path / "story.yaml"
    story.write_text(STORY.read_text().replace("  story_gap: 1.5\n", "  story_gap: 1.5\n  duration: 2:70\n"
                                                                     "  pace_limit: 15%\n"))
    done = cli("check", str(story))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(f"{story}:12:13: master.duration: ") and "not a length" in lines[0]
    assert lines[1].startswith(f"{story}:13:15: master.pace_limit: 15% is out of range")


def test_master_duration_in_minutes_and_the_pace_limit_are_read(tmp_path):
    story = tmp_path / "story.yaml"
    story.write_text(STORY.read_text().replace("  story_gap: 1.5\n", "  story_gap: 1.5\n  duration: 1:02.5\n"
                                                                     "  pace_limit: 0.03\n"))
    master = load_story(story).master
    assert master.duration_s == 62.5 and master.pace_limit == 0.03


def test_check_prints_the_backtime():
    result = check(STORY, draft=True, duration="0:25")
    estimated = result.timeline.duration_s
    line = result.report.splitlines()[-1]
    minutes, seconds = divmod(round(estimated, 1), 60)
    assert line.startswith(f"{int(minutes)}:{seconds:04.1f} estimated for a 0:25.0 post: over by "
                           f"{estimated - 25:.1f} s")
    assert result.backtime is not None and result.backtime.fits == ("does not fit" not in line)
    near = check(STORY, draft=True, duration=f"{estimated * 0.97:.1f}").report.splitlines()[-1]
    assert "over by" in near and "fits by the gaps alone (x0." in near
    further = check(STORY, draft=True, duration=f"{estimated * 0.93:.1f}").report.splitlines()[-1]
    assert "over by" in further and "fits at pace +" in further


def test_the_pace_is_on_the_grid_and_gaps_flex_first():
    story = load_story(STORY)
    sounds = {s.index: 3.0 for s in story.segments if s.kind == "sting"}

    def budget_at(pace: float) -> Budget:
        return Budget.of(story, sounds | {s.index: 20.0 / pace for s in story.segments if s.kind == "speech"})

    natural = arrange(story, sounds | {s.index: 20.0 for s in story.segments if s.kind == "speech"}).duration_s
    flex = budget_at(1.0).flex_s
    assert choose_pace(budget_at, budget_at(1.0).length_s(1.0), 0.06, 0.0) == 1.0  # no change needed
    # a little over: the gaps alone take it
    assert choose_pace(budget_at, budget_at(1.0).length_s(0.9), 0.06, 0.0) == 1.0
    # more than the gaps can take: the pace, on the grid, the nearest 1.0 that fits
    faster = choose_pace(budget_at, budget_at(1.0).length_s(0.7) - 1.0, 0.06, 0.0)
    assert faster > 1.0 and faster in pace_grid(0.06)
    assert faster - 0.005 < 1.0 or budget_at(faster - 0.005).gap_factor(budget_at(1.0).length_s(0.7) - 1.0) < 0.7
    # among paces that fit, the one whose takes are made wins
    assert choose_pace(budget_at, budget_at(1.0).length_s(0.7) - 1.0, 0.06, 0.0,
                       cached=lambda pace: 1.0 if pace == 1.03 else 0.0) == 1.03
    # but not a pace of which only a few takes are made (a pilot's)
    assert choose_pace(budget_at, budget_at(1.0).length_s(0.7) - 1.0, 0.06, 0.0,
                       cached=lambda pace: 0.2 if pace == 1.03 else 0.0) == faster != 1.03
    assert natural > flex > 0
    # off the grid (a later pass): the pace that leaves the gaps as written, a little short (a tail closes it)
    target = budget_at(1.03).length_s(1.0)
    paced = budget_at(choose_pace(budget_at, target, 0.06, 0.0, grid=False))
    assert paced.length_s(1.0) == pytest.approx(target - TAIL_S / 2)


def test_a_one_word_edit_keeps_the_pace_and_remakes_one_sentence(natural, tmp_path):
    post = round(natural * 0.97, 2)
    first = render(STORY, tmp_path / "a", jobs=1, draft=True, duration=post, formats=["wav"])
    edited = tmp_path / "story.yaml"
    edited.write_text(STORY.read_text().replace("were busy having", "were busy holding"))
    entries = set(cache_folder().rglob("*.take"))
    second = render(edited, tmp_path / "b", jobs=1, draft=True, duration=post, formats=["wav"])
    assert second.cue["fit"]["pace"] == first.cue["fit"]["pace"]
    # one sentence made again, and its segment's take: nothing else
    assert len(set(cache_folder().rglob("*.take")) - entries) == 2
    assert second.cue["fit"]["passes"] == 1
    assert sf.info(str(second.files["wav"])).frames == round(post * 48000)
    assert np.isclose(second.duration_s, post)


def test_a_post_just_over_the_estimate_is_fitted_though_the_voices_run_long():
    """The estimate says the bulletin is a little under the post; the voices turn out 3% slower
    than estimated: the first voices' segments calibrate the pace, one full pass fits."""
    story = load_story(STORY)
    sounds = {s.index: 3.0 for s in story.segments if s.kind == "sting"}
    speech = [s.index for s in story.segments if s.kind == "speech"]
    voice_of = {i: ("a" if n % 2 else "b") for n, i in enumerate(speech)}
    made: list[tuple[float, int]] = []

    def estimate_at(pace: float) -> dict[int, float]:
        return {i: 20.0 / pace for i in speech}

    def speak_at(pace: float, only: set[int] | None) -> dict[int, float]:
        said = speech if only is None else sorted(only)
        made.append((pace, len(said)))
        return {i: 20.6 / pace for i in said}

    post = Budget.of(story, sounds | estimate_at(1.0)).length_s(1.0) + 0.2
    fit, durations = fit_to_post(story, sounds, estimate_at, speak_at, post, 0.06, voice_of=voice_of)
    assert fit.off_s == 0 and fit.passes == 1 and 1.0 < fit.pace <= 1.06
    assert Budget.of(story, durations).length_s(fit.gap_factor) == pytest.approx(post)
    assert made[0] == (1.0, 2) and made[1][1] == len(speech)  # a segment per voice, then all at the fitted pace


def test_a_bulletin_with_no_gap_ends_on_its_post_with_a_silent_tail(tmp_path):
    """One speech segment: nothing flexes but the pace, which moves in steps of whole frames,
    so the speech is made a little short of the post and silence after it closes the rest."""
    story = tmp_path / "one.yaml"
    story.write_text("title: One Line\ndate: 2026-03-04\ncast: {anchor: {role: anchor}}\nsegments:\n"
                     "  - anchor: The council met tonight and approved the budget for next year. Bus fares will "
                     "stay where they are, and the libraries will open on Sundays again from April.\n")
    natural = render(story, tmp_path / "natural", jobs=1, draft=True, formats=["wav"]).duration_s
    post = round(natural * 1.03, 3)
    line = check(story, draft=True, duration=post).report.splitlines()[-1]
    assert ", fits at pace " in line and "s of silence at the end)" in line, line
    result = render(story, tmp_path / "fitted", jobs=1, draft=True, duration=post, formats=["wav"])
    wav = sf.info(str(result.files["wav"]))
    assert wav.frames == round(post * wav.samplerate)
    fit = json.loads(result.files["json"].read_text())["fit"]
    assert fit["target_met"] and 0 < fit["tail_s"] <= 0.5 and fit["pace"] < 1.0
    speech = json.loads(result.files["json"].read_text())["segments"][0]
    assert speech["end"] == pytest.approx(post - fit["tail_s"], abs=1e-3)
