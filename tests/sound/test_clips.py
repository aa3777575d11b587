"""Clips and sting files: trims, gain, resampling, stereo, formats soundfile reads and, where
ffmpeg is installed, the others through pydub."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bulletin.base.audio import read_audio
from bulletin.base.errors import BulletinError
from bulletin.pipeline.render import render


def tone(path: Path, rate_hz: int, seconds: float, channels: int, freq_hz: float = 440.0, **kw) -> None:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    wave = 0.3 * np.sin(2 * np.pi * freq_hz * t)
    data = np.stack([wave, 0.5 * wave][:channels], axis=1)
    sf.write(str(path), data, rate_hz, **kw)


def test_stereo_clip_trimmed_resampled_and_sting_from_flac(tmp_path: Path):
    tone(tmp_path / "actuality.wav", 48000, 6.0, 2)
    tone(tmp_path / "jingle.flac", 32000, 2.0, 1, freq_hz=660.0)
    (tmp_path / "story.yaml").write_text(
        "title: Clip Test\ndate: 2026-02-03\nmaster: {formats: [wav], sample_rate: 44100}\n"
        "cast: {anchor: {role: anchor}, moon: {role: official, name: A. Moon}}\n"
        "stings: {jingle: jingle.flac}\n"
        "segments:\n  - sting: jingle\n  - anchor: Here is the recording.\n"
        "  - clip: actuality.wav\n    speaker: moon\n    start: 1.0\n    end: 3.5\n    gain: -3\n    text: The words.\n"
    )
    result = render(tmp_path / "story.yaml", tmp_path / "out", jobs=1)
    cue = json.loads(result.files["json"].read_text())
    clip = cue["segments"][2]
    assert clip["kind"] == "clip" and clip["source"] == "actuality.wav" and clip["speaker"] == "moon"
    assert clip["end"] - clip["start"] == pytest.approx(2.5, abs=0.02)
    assert cue["segments"][0]["end"] - cue["segments"][0]["start"] == pytest.approx(2.0, abs=0.02)
    info = sf.info(str(result.files["wav"]))
    assert info.samplerate == 44100 and info.channels == 2  # a stereo source makes the bulletin stereo
    data, rate = sf.read(str(result.files["wav"]))
    piece = data[int((clip["start"] + 0.5) * rate) : int((clip["end"] - 0.5) * rate)]
    # the clip's own balance survives: right is half of left
    assert np.sqrt(np.mean(piece[:, 1] ** 2)) / np.sqrt(np.mean(piece[:, 0] ** 2)) == pytest.approx(0.5, abs=0.05)
    assert "The words." in result.files["vtt"].read_text()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (apt-get install ffmpeg)")
def test_other_formats_go_through_pydub_and_ffmpeg(tmp_path: Path):
    tone(tmp_path / "source.wav", 44100, 1.5, 1)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "source.wav"), str(tmp_path / "sting.m4a")], check=True)
    audio = read_audio(tmp_path / "sting.m4a")
    assert audio.duration_s == pytest.approx(1.5, abs=0.1)
    assert np.abs(audio.samples).max() > 0.2


def test_other_formats_without_ffmpeg_fail_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "sting.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(64))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(BulletinError, match="need ffmpeg"):
        read_audio(tmp_path / "sting.m4a")
