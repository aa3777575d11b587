"""Clips that are not audio: refused at load by libsndfile or ffmpeg alike, and a decoder's
failure found only during the render is one line naming the segment and the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bulletin.base.audio import read_audio
from bulletin.base.errors import BulletinError, InputError
from bulletin.script.story import load_story

HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed (apt-get install ffmpeg)")

STORY = """\
title: Clips
cast:
  anchor: {role: anchor}
segments:
  - clip: CLIP
"""

# what ffmpeg prints about itself when asked to decode: none of it belongs in an error
BANNER = ("ffmpeg version", "configuration:", "libavutil", "Output from ffmpeg")


def _story(folder: Path, clip: str) -> Path:
    path = folder / "story.yaml"
    path.write_text(STORY.replace("CLIP", clip))
    return path


def _garbage_m4a(path: Path) -> Path:
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(range(256)) * 8)
    return path


@pytest.mark.parametrize("name", ["notes.txt", "notes.m4a", "notes.wav", "empty.flac"])
def test_a_file_that_is_not_audio_is_refused_at_load(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("" if name.startswith("empty") else "Interview notes, not audio.\n")
    with pytest.raises(InputError) as caught:
        load_story(_story(tmp_path, name))
    (line,) = caught.value.lines()
    assert line.startswith(f"{tmp_path / 'story.yaml'}:5:11: segment 1.clip: '{name}' is not an audio file ("), line
    assert not any(b in line for b in BANNER)


@needs_ffmpeg
def test_other_formats_ffmpeg_reads_load_with_their_length(tmp_path: Path) -> None:
    import subprocess

    t = np.arange(22050) / 22050
    sf.write(str(tmp_path / "tone.wav"), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 22050)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "tone.wav"), str(tmp_path / "tone.m4a")], check=True)
    story = _story(tmp_path, "tone.m4a")
    story.write_text(story.read_text().replace("clip: tone.m4a", "{clip: tone.m4a, start: 5}"))
    with pytest.raises(InputError, match=r"5 is past the end of 'tone.m4a' \(1\.\d\d s long\)"):
        load_story(story)
    story.write_text(STORY.replace("CLIP", "tone.m4a"))
    assert load_story(story).segments[0].sound.path == (tmp_path / "tone.m4a").resolve()


@needs_ffmpeg
def test_a_decoder_failure_is_one_line_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(BulletinError) as caught:
        read_audio(_garbage_m4a(tmp_path / "bite.m4a"))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("cannot read audio file 'bite.m4a': ffmpeg cannot decode it")
    assert not any(b in message for b in BANNER) and str(tmp_path) not in message


@needs_ffmpeg
def test_a_clip_that_fails_only_at_render_names_its_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose header passes but whose audio does not decode (simulated: the header check
    is told the file is fine) fails the render with one line naming the segment and the file."""
    from bulletin.pipeline.render import render
    from bulletin.script.loading import sounds

    monkeypatch.setattr(sounds, "audio_length_s", lambda path, label=None: 1.0)
    _garbage_m4a(tmp_path / "bite.m4a")
    path = _story(tmp_path, "bite.m4a")
    path.write_text(path.read_text() + "  - anchor: Hello.\n")
    with pytest.raises(BulletinError) as caught:
        render(path, tmp_path / "out", use_cache=False, jobs=1)
    assert not isinstance(caught.value, InputError)
    (line,) = caught.value.lines()
    assert line.startswith("segment 1: cannot read audio file 'bite.m4a'"), line
    assert not any(b in line for b in BANNER)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_clip_start_past_the_end_found_at_render_names_its_segment_once(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose length only its decoder knows (simulated: the header check is told 10 s)
    and that is shorter than the clip's start: one line, the segment named once."""
    from bulletin.pipeline.render import render
    from bulletin.script.loading import sounds

    monkeypatch.setattr(sounds, "audio_length_s", lambda path, label=None: 10.0)
    sf.write(str(tmp_path / "short.wav"), np.full(4000, 0.1, np.float32), 8000)
    path = _story(tmp_path, "{clip: short.wav, start: 2}")
    path.write_text(path.read_text().replace("- clip: {clip", "- {clip"))
    with pytest.raises(BulletinError) as caught:
        render(path, tmp_path / "out", use_cache=False, jobs=1)
    assert str(caught.value) == "segment 1: clip start 2 is past the end of 'short.wav' (0.50 s long)"


def test_a_clip_silent_between_its_start_and_end_fails_in_one_line(tmp_path: Path) -> None:
    from bulletin.pipeline.render import render

    rate = 8000
    samples = np.concatenate([np.zeros(rate), 0.2 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)])
    sf.write(str(tmp_path / "late.wav"), samples.astype(np.float32), rate)
    path = _story(tmp_path, "{clip: late.wav, end: 0.9}")
    path.write_text(path.read_text().replace("- clip: {clip", "- {clip"))
    with pytest.raises(BulletinError) as caught:
        render(path, tmp_path / "out", use_cache=False, jobs=1)
    assert str(caught.value) == "segment 1: clip 'late.wav' is silent between start and end"
    path.write_text(path.read_text().replace("end: 0.9", "end: 1.1"))  # a tenth of a second of tone
    assert render(path, tmp_path / "out", use_cache=False, jobs=1).duration_s > 0.05
