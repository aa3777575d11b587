"""Render the example for real and measure the files as written: loudness, true peak,
decoded MP3, chapters, cue sheet against the audio, captions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from bulletin.pipeline.render import render
from tests.conftest import EXAMPLE, ROOT, rms_db


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("render")
    # espeak-ng voices (--draft): what is measured here is the mix and the files, not the voices
    return render(EXAMPLE, out, jobs=1, draft=True)


def true_peak_dbtp(samples: np.ndarray) -> float:
    up = resample_poly(samples.astype(np.float64), 4, 1, axis=0)
    return 20 * np.log10(np.abs(up).max())


def test_all_six_files_are_written(rendered):
    assert set(rendered.files) == {"wav", "mp3", "json", "vtt", "srt", "transcript.json"}
    for path in rendered.files.values():
        assert path.stat().st_size > 0
        assert path.name.startswith("kbs-world-radio-news-2019-11-22.")


def test_wav_meets_loudness_and_true_peak(rendered):
    info = sf.info(str(rendered.files["wav"]))
    assert info.subtype == "PCM_16" and info.samplerate == 44100
    data, rate = sf.read(str(rendered.files["wav"]), always_2d=True)
    lufs = pyloudnorm.Meter(rate).integrated_loudness(data)
    assert abs(lufs - -16.0) <= 0.5
    assert true_peak_dbtp(data) <= -1.0
    cue = json.loads(rendered.files["json"].read_text())
    assert abs(cue["loudness"]["integrated_lufs"] - lufs) < 0.05
    assert abs(cue["duration"] - len(data) / rate) < 0.01


def test_mp3_decodes_with_the_same_timing_loudness_and_chapters(rendered):
    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3

    mp3 = MP3(str(rendered.files["mp3"]))
    assert mp3.info.bitrate == 128000
    assert mp3.info.bitrate_mode != 2  # not VBR
    wav, rate = sf.read(str(rendered.files["wav"]), always_2d=True)
    decoded, mp3_rate = sf.read(str(rendered.files["mp3"]), always_2d=True)
    assert mp3_rate == rate and abs(len(decoded) - len(wav)) <= 1  # gapless: no encoder delay
    lag = np.argmax(np.correlate(decoded[: rate * 20, 0], wav[:rate * 20, 0][rate: rate + 2048], "valid")) - rate
    assert abs(lag) <= 2
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(decoded) - -16.0) <= 0.5
    assert true_peak_dbtp(decoded) <= -0.9
    tags = ID3(str(rendered.files["mp3"]))
    assert str(tags["TPE1"]) == "KBS World Radio News"
    assert "2019-11-22" in str(tags["TDRC"])
    chapters = tags.getall("CHAP")
    assert len(chapters) == 1
    assert str(chapters[0].sub_frames["TIT2"]).startswith("Seoul Remains Adamant")
    assert tags.getall("CTOC")[0].child_element_ids == [chapters[0].element_id]


def test_cue_sheet_matches_the_audio(rendered):
    cue = json.loads(rendered.files["json"].read_text())
    data, rate = sf.read(str(rendered.files["wav"]), always_2d=True)
    mono = data.mean(axis=1)
    kinds = [s["kind"] for s in cue["segments"]]
    assert kinds[0] == "sting" and kinds[-1] == "sting" and kinds.count("speech") == 15
    assert cue["cast"]["engel"]["name"] == "Rep. Eliot Engel"
    assert len({m["voice"] for m in cue["cast"].values()}) == len(cue["cast"])
    previous_end = 0.0
    for segment in cue["segments"]:
        start, end = segment["start"], segment["end"]
        assert start >= previous_end - 1e-6 and end > start
        inside = mono[int(start * rate) : int(end * rate)]
        assert rms_db(inside) > -40, segment
        # audible span: the 10 ms just outside are quiet (the gaps), the 10 ms inside are not
        before = mono[max(0, int((start - 0.02) * rate)) : int((start - 0.01) * rate)]
        if start > 0.02:
            assert np.abs(before).max() < 10 ** (-40 / 20), segment
        head = mono[int(start * rate) : int((start + 0.05) * rate)]
        assert np.abs(head).max() > 10 ** (-50 / 20), segment
        previous_end = end
    signoff = next(s for s in cue["segments"] if s.get("id") == "signoff")
    assert signoff["text"] == "Kim Bum-soo, KBS World Radio News."
    # the written text, not the respelling the voice read
    assert any("GSOMIA" in s.get("text", "") for s in cue["segments"])


def test_captions_parse_as_webvtt(rendered):
    text = rendered.files["vtt"].read_text()
    assert text.startswith("WEBVTT")
    cues = re.findall(r"^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n<v ([^>]+)>", text, re.M)
    assert len(cues) >= 15  # at least one per spoken segment, more for the long ones
    assert {c[2] for c in cues} == {"Anchor", "Kim Bum-soo", "Rep. Eliot Engel", "President Moon Jae-in"}
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    starts = [seconds(c[0]) for c in cues]
    assert starts == sorted(starts)


def test_pause_is_silent_and_cli_prints_summary(tmp_path: Path):
    story = tmp_path / "story.yaml"
    story.write_text(
        "title: Test News\ndate: 2026-01-02\nmaster: {loudness: broadcast, formats: [wav]}\n"
        "cast: {anchor: {role: anchor}, guest: {role: guest, name: A Guest}}\n"
        "segments:\n  - anchor: Good morning.\n  - pause: 1.5\n  - guest: Thank you.\n"
    )
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "LUFS integrated" in run.stdout
    assert sorted(p.name for p in out.iterdir()) == [f"test-news-2026-01-02.{ext}" for ext in
                                                     ("json", "srt", "transcript.json", "vtt", "wav")]

    cue = json.loads((out / "test-news-2026-01-02.json").read_text())
    pause = cue["segments"][1]
    assert pause["kind"] == "pause" and abs(pause["end"] - pause["start"] - 1.5) < 0.01
    data, rate = sf.read(str(out / "test-news-2026-01-02.wav"))
    assert np.abs(data[int(pause["start"] * rate) : int(pause["end"] * rate)]).max() == 0.0
    assert abs(cue["loudness"]["integrated_lufs"] - -23.0) <= 0.5


def test_check_estimates_are_within_5_percent_of_the_render(rendered):
    from bulletin.pipeline.checking import check_report

    report, ok = check_report(EXAMPLE, draft=True)
    estimated = re.search(r"estimated total: (\d+):([\d.]+)", report)
    assert ok and estimated
    total_s = int(estimated.group(1)) * 60 + float(estimated.group(2))
    assert abs(total_s - rendered.duration_s) <= 0.05 * rendered.duration_s


def test_the_example_captions_meet_the_broadcast_rules(rendered):
    from tests.export.caption_rules import check_captions

    # a title and its name, names, a number and its unit: never parted by a line or a cue
    cues = check_captions(rendered.files, ["Rep. Eliot Engel", "Kim Bum-soo", "President Moon Jae-in",
                                           "Mark Esper", "three years.", "Foreign Minister Kang Kyung-wha"])
    assert max(c.end_s - c.start_s for c in cues) <= 7.0 and len(cues) > 30  # the 18 s anchor cue is gone
