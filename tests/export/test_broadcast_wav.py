"""The rendered WAV as a playout system sees it: bext (EBU Tech 3285 v2) and cart (AES46) read
back by independent readers (wavinfo; the AES46 layout in riff_reader), loudness against
libebur128 (pyebur128) and ffmpeg's ebur128, timers against the cue sheet, and every other
reader (soundfile, Python's wave, ffmpeg) still reading the audio."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bulletin.pipeline.render import render
from tests.conftest import EXAMPLE, ROOT
from tests.export.riff_reader import chunks, read_cart

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (apt-get install ffmpeg)")
NOW = datetime.datetime(2026, 12, 5, 5, 40, 12)

OWN_STORY = """\
title: Morgen – Nachrichten aus Seoul
date: 2026-12-05
cast:
  anchor: {role: anchor}
  kim: {role: reporter, name: Kim}
stings: {open: builtin:open, close: builtin:close}
segments:
  - sting: open
  - anchor: Good morning. In Seoul – the talks went on late into the night, and the “deal” holds.
  - pause: 0.5
  - kim: Officials said the agreement would be signed on Monday, after a final reading.
  - anchor: That was the news. Kim Lee, for Radio Ärzte News.
  - sting: close
air:
  cut: NEWS0600
  category: NEWS
  artist: Radio Ärzte – the morning service, with the news every hour on the hour, all day
  starts: "06:00"
  expires: 1h
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    # espeak-ng voices (--draft): the chunks and the loudness are what is measured here
    return render(EXAMPLE, tmp_path_factory.mktemp("example"), jobs=1, draft=True, formats=["wav"])


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("own")
    (folder / "story.yaml").write_text(OWN_STORY)
    warnings: list[str] = []
    result = render(folder / "story.yaml", folder / "out", jobs=1, draft=True, formats=["wav"], now=NOW,
                    on_warning=warnings.append)
    return result, warnings


@pytest.fixture(scope="module")
def bedded(tmp_path_factory: pytest.TempPathFactory):
    # a bed that plays alone before the first word, clips, a closing sting from a file
    return render(ROOT / "tests" / "data" / "stories" / "clips.yaml", tmp_path_factory.mktemp("bedded"), jobs=1,
                  draft=True, formats=["wav"])


def _payload(path: Path, fourcc: bytes) -> bytes:
    return next(payload for name, _, payload in chunks(path) if name == fourcc)


def _libebur128(path: Path) -> dict[str, float]:
    """libebur128's figures, fed 100 ms at a time: the maxima are its momentary and short-term
    readings taken every 100 ms, as a meter shows them."""
    ebur128 = pytest.importorskip("pyebur128", reason="pyebur128 (libebur128) is not installed: pip install -e '.[dev]'")
    data, rate = sf.read(str(path), always_2d=True)
    modes = ebur128.MeasurementMode
    state = ebur128.R128State(data.shape[1], rate, modes.MODE_I | modes.MODE_LRA | modes.MODE_S | modes.MODE_M
                              | modes.MODE_TRUE_PEAK)
    step, momentary, short = rate // 10, [], []
    for at in range(0, data.shape[0] - step + 1, step):
        piece = np.ascontiguousarray(data[at : at + step])
        state.add_frames(piece.ravel(), step)
        momentary.append(ebur128.get_loudness_momentary(state))
        if at + step >= 3 * rate:
            short.append(ebur128.get_loudness_shortterm(state))
    rest = np.ascontiguousarray(data[len(momentary) * step :])
    if rest.size:
        state.add_frames(rest.ravel(), rest.shape[0])
    peak = max(ebur128.get_true_peak(state, c) for c in range(data.shape[1]))
    return {"loudness_value": ebur128.get_loudness_global(state), "loudness_range": ebur128.get_loudness_range(state),
            "max_true_peak": 20 * np.log10(peak), "max_momentary_loudness": max(momentary),
            "max_shortterm_loudness": max(short)}


@pytest.mark.parametrize("which", ["example", "own"])
def test_bext_reads_back_in_wavinfo_with_libebur128s_loudness(which, example, own):
    wavinfo = pytest.importorskip("wavinfo", reason="wavinfo is not installed: pip install -e '.[dev]'")
    result = example if which == "example" else own[0]
    path = result.files["wav"]
    bext = wavinfo.WavInfoReader(str(path)).bext
    assert bext.version == 2
    assert bext.originator == "bulletin"
    assert re.fullmatch(r"[0-9a-f]{32}", bext.originator_ref)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", bext.originator_date)
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", bext.originator_time)
    assert bext.time_reference == 0
    assert re.fullmatch(r"A=PCM,F=44100,W=16,M=mono,T=bulletin \S+\r\n", bext.coding_history)
    cue = result.cue
    assert bext.description == f"{cue['title'].replace('–', '-')}, {cue['date']}"
    reference = _libebur128(path)
    for field, value in reference.items():
        assert abs(getattr(bext, field) - value) <= 0.2, (field, getattr(bext, field), value)
    # the cue sheet records what the chunk holds
    recorded = cue["air"]["bext"]
    assert recorded["loudness_lufs"] == bext.loudness_value
    assert recorded["loudness_range_lu"] == bext.loudness_range
    assert recorded["max_short_term_lufs"] == bext.max_shortterm_loudness
    assert recorded["originator_reference"] == bext.originator_ref


@needs_ffmpeg
def test_loudness_fields_agree_with_ffmpegs_ebur128(example):
    run = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(example.files["wav"]), "-af",
                          "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True, check=True)
    summary = run.stderr[run.stderr.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1])
    lra = float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary)[1])
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary)[1])
    recorded = example.cue["air"]["bext"]
    assert abs(recorded["loudness_lufs"] - integrated) <= 0.2
    assert abs(recorded["max_true_peak_dbtp"] - peak) <= 0.2
    # ffmpeg takes the range over short-term windows every 100 ms, libebur128 (and bext here)
    # every second: both are EBU Tech 3342 and agree within a few tenths on speech
    assert abs(recorded["loudness_range_lu"] - lra) <= 0.5


def test_cart_reads_back_as_aes46_lays_it_out(own):
    result, _ = own
    cart = read_cart(_payload(result.files["wav"], b"cart"))
    assert cart["Version"] == "0101"
    assert cart["Title"] == "Morgen - Nachrichten aus Seoul"
    assert cart["CutID"] == "NEWS0600"
    assert cart["Category"] == "NEWS"
    artist = "Radio Arzte - the morning service, with the news every hour on the hour, all day"
    assert cart["Artist"] == artist[:64]
    assert cart["OutCue"] == "That was the news. Kim Lee, for Radio Arzte News."
    assert cart["Start"] == datetime.datetime(2026, 12, 5, 6, 0)
    assert cart["End"] == datetime.datetime(2026, 12, 5, 7, 0)  # the kill date
    assert cart["ProducerAppID"] == "bulletin"
    assert cart["LevelReference"] == 32768
    assert result.cue["air"]["cart"]["cut"] == "NEWS0600"
    assert result.cue["air"]["cart"]["expires"] == "2026-12-05T07:00:00"


def test_example_cart_defaults_without_air(example):
    cart = read_cart(_payload(example.files["wav"], b"cart"))
    assert cart["CutID"] == "" and cart["Category"] == "NEWS"
    assert cart["Title"] == cart["Artist"] == "KBS World Radio News"
    assert cart["OutCue"] == "Kim Bum-soo, KBS World Radio News."
    assert cart["End"] == datetime.datetime(2099, 12, 31, 23, 59, 59)  # no kill date
    assert abs((cart["Start"] - datetime.datetime.now()).total_seconds()) < 3600  # the render's time


@pytest.mark.parametrize("which", ["example", "own", "bedded"])
def test_timers_are_samples_of_the_file_within_10_ms_of_the_cue_sheet(which, example, own, bedded):
    result = {"example": example, "own": own[0], "bedded": bedded}[which]
    cue = result.cue
    rate = cue["sample_rate"]
    timers = dict(read_cart(_payload(result.files["wav"], b"cart"))["PostTimers"])
    audible = [s for s in cue["segments"] if s["kind"] != "pause"]
    speech = [s for s in audible if s["kind"] == "speech"]
    voiced = [s for s in audible if s["kind"] in ("speech", "clip")]
    frames = sf.info(str(result.files["wav"])).frames
    beds = [story["bed"]["start"] for story in cue["stories"] if "bed" in story]
    expected = {"AUDs": min([audible[0]["start"], *beds]), "AUDe": frames / rate}
    if audible[0]["kind"] == "sting":
        expected |= {"INTs": audible[0]["start"], "INTe": voiced[0]["start"]}
    expected["SEGs"] = audible[-1]["start"] if audible[-1]["kind"] == "sting" else speech[-1]["end"]
    assert set(timers) == set(expected)
    for name, seconds in expected.items():
        assert abs(timers[name] / rate - seconds) <= 0.010, (name, timers[name] / rate, seconds)
    assert cue["air"]["cart"]["timers"] == timers


def test_chunks_come_before_data_word_aligned(own):
    path = own[0].files["wav"]
    names = [name for name, _, _ in chunks(path)]
    assert names == [b"fmt ", b"bext", b"cart", b"data"]
    bext, cart = _payload(path, b"bext"), _payload(path, b"cart")
    assert len(bext) >= 602 and len(cart) >= 2048
    assert all(offset % 2 == 0 for _, offset, _ in chunks(path))


@needs_ffmpeg
def test_soundfile_wave_and_ffmpeg_read_the_same_samples(own):
    path = own[0].files["wav"]
    data, rate = sf.read(str(path), dtype="int16")
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (rate, 2, 1)
        raw = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-"], capture_output=True,
                             check=True).stdout
    assert np.array_equal(raw, data) and np.array_equal(np.frombuffer(decoded, "<i2"), data)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)],
                           capture_output=True, text=True, check=True)
    assert json.loads(probe.stdout)["format"]["format_name"] == "wav"


def test_text_made_ascii_and_cut_is_said(own):
    _, warnings = own
    said = "\n".join(warnings)
    assert "cart Title 'Morgen – Nachrichten aus Seoul' is written as ASCII 'Morgen - Nachrichten aus Seoul'" in said
    assert "cart Artist (air.artist) is 80 characters; cut to 64" in said


def test_every_render_has_its_own_originator_reference(own, tmp_path):
    (tmp_path / "story.yaml").write_text(OWN_STORY)
    again = render(tmp_path / "story.yaml", tmp_path / "out", jobs=1, draft=True, formats=["wav"], now=NOW)
    first = own[0].cue["air"]["bext"]["originator_reference"]
    assert again.cue["air"]["bext"]["originator_reference"] != first
