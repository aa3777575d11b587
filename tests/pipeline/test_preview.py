"""`bulletin preview`: segments by number or id, back to back in one WAV, each with its own
voice, effect and level; an unknown segment is a one-line error; --play without a player says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT, rms_db, write_presets

STORY = """title: Preview Test
date: 2026-02-03
master: {formats: [wav], gap: 0.4}
cast:
  anchor: {role: anchor, voice: test-one}
  kim: {role: reporter, voice: test-two}
  moon: {role: official, voice: test-three, effect: phone}
segments:
  - anchor: Good morning, here is the news.
  - kim: A second voice, a little longer than the first one.
  - {speaker: moon, text: And a phone line., id: moon-bite}
  - {speaker: kim, text: "Kim, for the news.", id: signoff}
"""


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("preview") / "story.yaml"
    path.write_text(STORY)
    write_presets(path.parent)
    return path


def preview(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulletin", "preview", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env)


def read(path: Path) -> np.ndarray:
    data, rate = sf.read(str(path), always_2d=True)
    assert rate == 44100 and sf.info(str(path)).subtype == "PCM_16"
    return data[:, 0]


def test_two_segments_back_to_back_by_number_and_id(story: Path, tmp_path: Path):
    both, two, last = tmp_path / "both.wav", tmp_path / "two.wav", tmp_path / "last.wav"
    for args, out in ((("2", "signoff"), both), (("2",), two), (("4",), last)):
        run = preview(str(story), *args, "-o", str(out))
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == str(out)
    a, b, ab = read(two), read(last), read(both)
    gap = round(0.4 * 44100)
    assert abs(len(ab) - (len(a) + gap + len(b))) <= 1  # one file: the first, the gap, the second
    assert rms_db(ab[: len(a)]) > -40 and rms_db(ab[-len(b):]) > -40
    assert np.abs(ab[len(a) + 10 : len(a) + gap - 10]).max() == 0  # the gap between them is silent
    # by number or by id, the same segment
    by_number = tmp_path / "by-number.wav"
    assert preview(str(story), "2", "4", "-o", str(by_number)).returncode == 0
    assert by_number.read_bytes() == both.read_bytes()


def test_each_segment_keeps_its_voice_effect_and_level(story: Path, tmp_path: Path):
    out = tmp_path / "three.wav"
    assert preview(str(story), "1", "moon-bite", "-o", str(out)).returncode == 0
    alone = tmp_path / "one.wav"
    assert preview(str(story), "1", "-o", str(alone)).returncode == 0
    first, both = read(alone), read(out)
    phone = both[len(first) + round(0.4 * 44100) :]
    # levelled alike (both takes are made at the same loudness), within a few dB of RMS
    assert abs(rms_db(first) - rms_db(phone)) < 6
    # the phone line has no low end: little energy under 250 Hz, unlike the plain voice
    def low_share(x: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(x.size, 1 / 44100)
        return spectrum[freqs < 250].sum() / spectrum.sum()
    assert low_share(phone) < 0.2 * low_share(first)


def test_unknown_segment_is_one_line_and_exit_2(story: Path, tmp_path: Path):
    out = tmp_path / "none.wav"
    run = preview(str(story), "2", "nosuch", "-o", str(out))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "nosuch" in lines[0] and "signoff" in lines[0]
    assert not out.exists()


def test_play_without_a_player_says_so(story: Path, tmp_path: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "play.wav"
    run = preview(str(story), "1", "-o", str(out), "--play", env=dict(os.environ, PATH=str(empty)))
    assert run.returncode == 1
    assert "no audio player found" in run.stderr
    assert str(out) in run.stderr  # and where the preview is, to play it by hand
    assert out.exists()
