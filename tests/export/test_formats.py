"""The file formats' small parts, in this process: LAME's tag checksum, MP3 at a rate MP3 has
not, caption times past a minute and an hour, and a long title's cut."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from bulletin.base.audio import Audio
from bulletin.export.captions import _clock
from bulletin.export.mp3 import _crc16
from bulletin.export.names import title_slug
from bulletin.export.single import mp3_bytes
from tests.conftest import sine


def test_the_lame_tag_checksum_is_crc16_arc():
    assert _crc16(b"123456789") == 0xBB3D  # the catalogue's check value of CRC-16/ARC
    assert _crc16(b"") == 0
    assert _crc16(b"\x00\xff") != _crc16(b"\xff\x00")


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0, "00:00:00.000"), (1.2344, "00:00:01.234"), (59.9996, "00:01:00.000"), (61.5, "00:01:01.500"),
    (3599.999, "00:59:59.999"), (3723.004, "01:02:03.004"), (36000.0, "10:00:00.000"),
])
def test_caption_times_are_hours_minutes_seconds_and_milliseconds(seconds: float, text: str):
    assert _clock(seconds, ".") == text
    assert _clock(seconds, ",") == text.replace(".", ",")  # SRT's



@pytest.mark.parametrize(("rate_hz", "mp3_rate"), [(96000, 48000), (88200, 48000), (44100, 44100), (22050, 22050)])
def test_an_mp3_of_a_rate_mp3_has_not_is_made_at_48_khz_the_same_length(rate_hz: int, mp3_rate: int):
    audio = Audio(sine(0.5, 1.0, rate_hz, 1000.0), rate_hz)
    data = mp3_bytes(audio)
    decoded, rate = sf.read(io.BytesIO(data), dtype="float32")
    assert rate == mp3_rate
    assert abs(len(decoded) - mp3_rate) <= 2  # one second still
    middle = decoded[mp3_rate // 4: -mp3_rate // 4]
    assert float(np.sqrt(np.mean(middle**2))) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


def test_a_long_title_is_cut_at_a_hyphen_only_where_that_keeps_most_of_it():
    # the last hyphen in the first 80 characters is early: cutting there would lose the title
    assert title_slug("ab " + "x" * 100) == "ab-" + "x" * 77
    # a late one: the cut there drops the broken word
    assert title_slug("x" * 60 + " " + "y" * 40) == "x" * 60


@pytest.mark.parametrize(("channels", "rate_hz"), [(1, 44100), (2, 48000)])
def test_a_wav_header_says_what_the_data_is(channels: int, rate_hz: int):
    import struct

    from bulletin.export.files import wav_header

    header = wav_header(1000, channels, rate_hz)
    riff, size, wave, fmt, fmt_size, pcm, chans, rate, byte_rate, align, bits, data, data_size = struct.unpack(
        "<4sI4s4sIHHIIHH4sI", header)
    assert (riff, wave, fmt, data) == (b"RIFF", b"WAVE", b"fmt ", b"data")
    assert (fmt_size, pcm, chans, rate, bits) == (16, 1, channels, rate_hz, 16)
    assert (byte_rate, align) == (rate_hz * channels * 2, channels * 2)
    assert (data_size, size) == (1000 * channels * 2, 36 + 1000 * channels * 2)


def test_frames_are_counted_across_the_reads_of_a_long_file():
    from bulletin.export.mp3 import _count_frames_in

    # MPEG-1 layer III, 128 kbps, 44.1 kHz: 417 bytes a frame, 418 with padding; 3,000 frames
    # are more than one 1 MiB read, and a frame straddles each read's end
    plain, padded = b"\xff\xfb\x90\x00" + bytes(413), b"\xff\xfb\x92\x00" + bytes(414)
    frames = b"".join(padded if i % 3 == 0 else plain for i in range(3000))
    assert len(frames) > 1 << 20
    assert _count_frames_in(io.BytesIO(frames)) == 3000
    assert _count_frames_in(io.BytesIO(frames + b"TAG" + bytes(125))) == 3000  # stops at what is not a frame


def test_a_decoded_mp3s_true_peak_is_that_of_the_whole_decoded_signal():
    # measured a stretch at a time, as the master does: a loud tone that the stretches cut
    # mid-wave (where a stretch measured alone would read its edges as peaks) reads as the whole
    from bulletin.export.mp3 import decoded_true_peak_dbtp
    from bulletin.sound.truepeak import true_peak_dbtp

    data = mp3_bytes(Audio(sine(0.7, 8.0, 48000, hz=997.0), 48000))
    decoded, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    assert decoded_true_peak_dbtp(io.BytesIO(data)) == pytest.approx(true_peak_dbtp(Audio(decoded, rate)), abs=1e-3)
    assert decoded_true_peak_dbtp(io.BytesIO(data)) == pytest.approx(20 * np.log10(0.7), abs=0.3)
