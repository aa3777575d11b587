"""One output file on its own (a preview, an audition): the name rule, the format by suffix, and
audio that is not mastered kept out of clipping, in this process (the CLI tests run it in a
subprocess, where a mutation test cannot see it)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bulletin.base.audio import Audio
from bulletin.base.errors import InputError
from bulletin.export.single import (
    UNMASTERED_PEAK,
    audio_path,
    out_of_clipping,
    write_audio,
    write_file,
)
from tests.conftest import sine

RATE = 44100


def tone(peak: float, seconds: float = 0.5) -> Audio:
    return Audio(sine(peak, seconds, RATE), RATE)


@pytest.mark.parametrize(("given", "expected"), [
    ("take", "take.wav"), ("take.wav", "take.wav"), ("take.mp3", "take.mp3"), ("TAKE.MP3", "TAKE.MP3"),
    ("a.b/take", "a.b/take.wav"),
])
def test_an_audio_name_keeps_its_suffix_or_gets_wav(given, expected):
    assert audio_path(Path(given)) == Path(expected)


def test_another_suffix_is_refused_naming_the_option_the_file_and_its_suffix():
    with pytest.raises(InputError) as error:
        audio_path(Path("out/take.ogg"), "the preview")
    message = str(error.value)
    assert message.startswith("-o/--output: the preview is a .wav or .mp3 file")
    assert "'out/take.ogg'" in message and "names a .ogg file" in message


def test_audio_over_the_unmastered_peak_is_scaled_down_to_it_not_clipped():
    loud = tone(1.7)
    kept = out_of_clipping(loud)
    assert np.abs(kept.samples).max() == pytest.approx(UNMASTERED_PEAK, abs=1e-6)
    # scaled, not clipped: the shape is the same, only smaller
    np.testing.assert_allclose(kept.samples, loud.samples * (UNMASTERED_PEAK / np.abs(loud.samples).max()), atol=1e-6)
    assert kept.rate_hz == RATE


def test_audio_under_the_peak_and_empty_audio_are_left_alone():
    quiet = tone(0.5)
    assert out_of_clipping(quiet) is quiet
    at_peak = tone(UNMASTERED_PEAK)
    np.testing.assert_array_equal(out_of_clipping(at_peak).samples, at_peak.samples)
    empty = Audio(np.zeros((0, 1), np.float32), RATE)
    assert out_of_clipping(empty) is empty


def test_a_wav_is_16_bit_pcm_of_the_audio_out_of_clipping(tmp_path):
    written = write_audio(tmp_path / "preview", tone(1.5))
    assert written == tmp_path / "preview.wav"
    info = sf.info(str(written))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "PCM_16", RATE, 1)
    samples, _ = sf.read(str(written), dtype="float32")
    assert len(samples) == round(0.5 * RATE)
    assert np.abs(samples).max() == pytest.approx(UNMASTERED_PEAK, abs=2e-4)
    assert [p.name for p in tmp_path.iterdir()] == ["preview.wav"]  # nothing left beside it


def test_an_mp3_name_gets_mp3_data_of_the_same_length_and_level(tmp_path):
    audio = tone(0.5)
    written = write_audio(tmp_path / "preview.mp3", audio)
    data = written.read_bytes()
    assert not data.startswith(b"RIFF") and not data.startswith(b"ID3")  # MP3 frames, untagged
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.samplerate, info.channels) == ("MP3", RATE, 1)
    decoded, _ = sf.read(io.BytesIO(data), dtype="float32")
    assert abs(len(decoded) - len(audio.samples)) <= 1  # gapless: no encoder delay or padding
    rms = float(np.sqrt(np.mean(decoded[RATE // 10: -RATE // 10] ** 2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    assert [p.name for p in tmp_path.iterdir()] == ["preview.mp3"]


def test_a_loud_mp3_is_kept_out_of_clipping_too(tmp_path):
    written = write_audio(tmp_path / "loud.mp3", tone(3.0))
    decoded, _ = sf.read(str(written), dtype="float32")
    assert np.abs(decoded).max() < 0.95


def test_write_file_adds_the_default_suffix_only_where_the_name_has_none(tmp_path):
    assert write_file(tmp_path / "cue", lambda: b"{}", "json") == tmp_path / "cue.json"
    assert write_file(tmp_path / "cue.txt", lambda: b"x", "json") == tmp_path / "cue.txt"
    assert (tmp_path / "cue.json").read_bytes() == b"{}"
    assert (tmp_path / "cue.txt").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cue.json", "cue.txt"]


def test_write_audio_refuses_another_suffix_by_what_it_writes(tmp_path):
    with pytest.raises(InputError, match="an audition is a .wav or .mp3 file"):
        write_audio(tmp_path / "voice.ogg", tone(0.5), "an audition")
    assert not list(tmp_path.iterdir())
