"""MP3 encoding with LAME (lameenc), gapless: a LAME "Info" frame records the encoder delay
and padding, so decoders (libsndfile/mpg123, ffmpeg, browsers) return exactly the samples
that went in, aligned to the cue sheet. lameenc writes bare frames without that tag, and
without it every decoded bulletin starts about 25 ms late."""

from __future__ import annotations

import contextlib
import io
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from bulletin import __version__
from bulletin.base.audio import to_pcm16

if TYPE_CHECKING:
    from bulletin.mix.timeline import Timeline
    from bulletin.script.story import Story

PROGRAM = f"bulletin {__version__}"

# LAME 3.100's encoder delay, recorded in the tag; decoders add their own 529 themselves
ENCODER_DELAY = 576
# LAME's algorithm quality, 0 (best, slowest) to 9. Measured on the example (mono speech, 128
# kbps CBR, decoded and compared with the master; ffmpeg's default is q3):
#               CPU   SNR      log-spectral distance   band noise/signal, 95th percentile
#   q3 (ffmpeg) ~2x   41.9 dB  1.04 dB                 -16.0 dB (median over 1/3 octaves)
#   q5          ~1.6x 42.0 dB  1.07 dB                 -15.6 dB
#   q7          1x    45.1 dB  0.96 dB                 -14.4 dB
# (distance over the audible bins: within 60 dB of each frame's loudest, under 16 kHz). q7 keeps
# the psychoacoustic model but drops noise shaping; at 128 kbps for one channel it is as close
# to the master as q5 and q3, and 1.6x faster. For two channels (joint stereo) q7 measured
# further off (distance 5.7 dB against q5's 4.9 on a stereo test signal), so stereo keeps q5.
QUALITY_MONO = 7
QUALITY_STEREO = 5
# lameenc's LAME scales its input by 0.9504 (measured: libsndfile and ffmpeg both decode a
# 0.5 sine as 0.4752), which would leave every MP3 0.44 LU under the master's loudness
INPUT_SCALE = 1 / 0.9504
_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


class Mp3Encoder:
    """LAME on a thread of its own (lameenc lets go of the GIL while it encodes), fed frames as
    the master writes them. The MP3 frames wait in a spool (on disk past SPOOL_BYTES, so an
    hour-long bulletin does not hold its MP3 in memory); `finish` gives the gapless MP3."""

    SPOOL_BYTES = 8 * 1024 * 1024

    def __init__(self, rate_hz: int, channels: int, bitrate_kbps: int) -> None:
        import lameenc

        self.encoder = lameenc.Encoder()
        self.encoder.set_bit_rate(bitrate_kbps)
        self.encoder.set_in_sample_rate(rate_hz)
        self.encoder.set_out_sample_rate(rate_hz)
        self.encoder.set_channels(channels)
        self.encoder.set_quality(QUALITY_MONO if channels == 1 else QUALITY_STEREO)
        self.frames = 0
        self.spool = tempfile.SpooledTemporaryFile(max_size=self.SPOOL_BYTES)
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="mp3", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        ended = False  # the end (None) was taken from the queue: nothing more will come
        try:
            while (pcm := self.queue.get()) is not None:
                self.spool.write(self.encoder.encode(pcm))
            ended = True
            self.spool.write(self.encoder.flush())
        except BaseException as error:  # handed to the caller in finish()
            self.failed = error
            while not ended and self.queue.get() is not None:  # let the writer finish putting
                pass

    def write(self, samples: np.ndarray) -> None:
        """(frames, channels) float samples in [-1, 1]."""
        self.frames += samples.shape[0]
        self.queue.put(to_pcm(samples).tobytes())

    def finish(self) -> tuple[bytes, BinaryIO, int]:
        """(the Info frame, a file positioned at the start of the MP3 frames that follow it,
        their length in bytes)."""
        self.queue.put(None)
        self.thread.join()
        if self.failed is not None:
            raise self.failed
        size = self.spool.tell()
        self.spool.seek(0)
        head = self.spool.read(4)
        self.spool.seek(0)
        count = _count_frames_in(self.spool)
        self.spool.seek(0)
        return _info_frame(head, count, size, self.frames), self.spool, size

    def close(self) -> None:
        self.spool.close()


class Mp3Writer:
    """A master output: the gapless CBR MP3 to `out`, encoded while the master writes (at 48 kHz
    when the master's rate is not an MP3 rate), after the ID3 tag `tags` makes for the length
    of the audio (see `mp3_tags`; none without it)."""

    def __init__(self, out: BinaryIO, bitrate_kbps: int, tags: Callable[[int], bytes] | None = None) -> None:
        self.out, self.bitrate_kbps, self.tags = out, bitrate_kbps, tags
        self.encoder: Mp3Encoder | None = None
        self.resampler = None
        self.true_peak_dbtp = float("-inf")  # of the MP3 as a decoder plays it, once written

    def begin(self, frames: int, channels: int, rate_hz: int) -> None:
        if self.encoder is not None:  # starting over: the last attempt's frames are dropped
            self.encoder.finish()
            self.encoder.close()
        rate = rate_hz if rate_hz in MP3_RATES else 48000
        self.channels = channels
        self.resampler = None
        if rate != rate_hz:
            import soxr

            self.resampler = soxr.ResampleStream(rate_hz, rate, channels, dtype="float32", quality="HQ")
        self.encoder = Mp3Encoder(rate, channels, self.bitrate_kbps)

    def write(self, pcm: np.ndarray) -> None:
        samples = pcm * np.float32(1 / 32768)
        if self.resampler is not None:
            samples = self.resampler.resample_chunk(samples)
        self.encoder.write(samples)

    def end(self) -> None:
        if self.resampler is not None:
            self.encoder.write(self.resampler.resample_chunk(np.zeros((0, self.channels), np.float32), last=True))
        info, frames, size = self.encoder.finish()
        try:
            self.out.seek(0)
            self.out.truncate()
            if self.tags is not None:
                self.out.write(self.tags(len(info) + size))
            self.out.write(info)
            shutil.copyfileobj(frames, self.out, 1 << 20)
            # the file as written (tag and Info frame included: bare frames can be misread)
            self.out.seek(0)
            self.true_peak_dbtp = decoded_true_peak_dbtp(self.out)
        finally:
            self.encoder.close()
            self.encoder = None

    def abandon(self) -> None:
        """The master failed: stop the encoder and drop what it made."""
        if self.encoder is not None:
            with contextlib.suppress(Exception):  # the master's own error is the one to report
                self.encoder.finish()
            self.encoder.close()
            self.encoder = None


def mp3_tags(story: Story, timeline: Timeline, audio_bytes: int) -> bytes:
    """The MP3's ID3v2.3 tag: title, date, program, one chapter per story (CHAP frames under a
    CTOC), padded as mutagen pads a tag put in front of `audio_bytes` of audio."""
    from mutagen import PaddingInfo
    from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TDRC, TIT2, TPE1, TSSE, CTOCFlags

    tags = ID3()
    tags.add(TIT2(encoding=3, text=f"{story.title} {story.date.isoformat()}"))
    tags.add(TPE1(encoding=3, text=story.title))
    tags.add(TALB(encoding=3, text=story.title))
    tags.add(TDRC(encoding=3, text=story.date.isoformat()))
    tags.add(TSSE(encoding=3, text=PROGRAM))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=f"Made with {PROGRAM}"))
    ids = [f"chp{c.index}" for c in timeline.chapters]
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=story.title)]))
    for chapter, element in zip(timeline.chapters, ids, strict=True):
        tags.add(CHAP(element_id=element, start_time=round(chapter.start_s * 1000),
                      end_time=round(chapter.end_s * 1000),
                      sub_frames=[TIT2(encoding=3, text=chapter.headline)]))
    out = io.BytesIO()
    tags.save(out, v2_version=3, padding=lambda info: PaddingInfo(info.padding, audio_bytes).get_default_padding())
    return out.getvalue()


def decoded_true_peak_dbtp(mp3: BinaryIO) -> float:
    """The true peak of MP3 frames as libsndfile (mpg123) decodes them, a stretch at a time: MP3
    coding can add to the peaks it was given (0.05 dB on the examples' masters at 128 kbps)."""
    import soundfile as sf

    from bulletin.sound.truepeak import CHUNK_FRAMES, streamed_true_peaks

    peak = 0.0
    with sf.SoundFile(mp3) as decoded:
        stretches = decoded.blocks(CHUNK_FRAMES, dtype="float32", always_2d=True)
        for peaks in streamed_true_peaks(stretches):
            peak = max(peak, float(peaks.max(initial=0.0)))
    return 20 * float(np.log10(peak)) if peak > 0 else float("-inf")


def to_pcm(samples: np.ndarray) -> np.ndarray:
    """What LAME is given: 16-bit, scaled by INPUT_SCALE."""
    return to_pcm16(samples, INPUT_SCALE)


def _info_frame(header: bytes, audio_frames: int, audio_bytes: int, samples: int) -> bytes:
    """The LAME Info frame for `audio_frames` frames (`audio_bytes` bytes, the first starting with
    `header`) holding `samples` samples: frame count, size, encoder delay and padding."""
    version = (header[1] >> 3) & 3  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    mono = header[3] >> 6 == 3
    rate = _RATES[version][(header[2] >> 2) & 3]
    bitrate = (_BITRATES_V1 if version == 3 else _BITRATES_V2)[header[2] >> 4]
    samples_per_frame = 1152 if version == 3 else 576
    frame_bytes = (144 if version == 3 else 72) * bitrate * 1000 // rate
    side_info = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    padding = audio_frames * samples_per_frame - ENCODER_DELAY - samples

    frame = bytearray(frame_bytes)
    frame[:4] = bytes((header[0], header[1] | 1, header[2] & ~2 & 0xFF, header[3]))  # no CRC, no pad
    at = 4 + side_info
    total_bytes = frame_bytes + audio_bytes
    toc = bytes(min(255, i * 256 // 100) for i in range(100))
    tag = b"Info" + (0x0F).to_bytes(4, "big") + audio_frames.to_bytes(4, "big")
    tag += total_bytes.to_bytes(4, "big") + toc + (50).to_bytes(4, "big")
    lame = bytearray(36)
    lame[:9] = b"LAME3.100"
    lame[9] = 0x01  # tag revision 0, CBR
    lame[10] = 0  # lowpass unknown
    lame[20] = min(bitrate, 255)
    delay_padding = (ENCODER_DELAY << 12) | max(0, min(padding, 0xFFF))
    lame[21:24] = delay_padding.to_bytes(3, "big")
    lame[28:32] = total_bytes.to_bytes(4, "big")
    frame[at : at + len(tag)] = tag
    frame[at + len(tag) : at + len(tag) + 36] = lame
    crc_at = at + len(tag) + 34
    frame[crc_at : crc_at + 2] = _crc16(bytes(frame[:crc_at])).to_bytes(2, "big")
    return bytes(frame)


def _count_frames_in(audio: BinaryIO) -> int:
    """Walk the frame headers (CBR, but padding varies frame to frame) of a file of frames."""
    count, at = 0, 0  # `at`: the next header, counted from the start of `data`
    data = b""
    while True:
        if at + 4 > len(data):
            if at > len(data):
                audio.seek(at - len(data), 1)  # the rest of a frame longer than `data`
                data, at = b"", 0
            more = audio.read(1 << 20)
            if not more:
                return count
            data, at = data[at:] + more, 0
            continue
        if not (data[at] == 0xFF and data[at + 1] & 0xE0 == 0xE0):
            return count
        version = (data[at + 1] >> 3) & 3
        rate = _RATES[version][(data[at + 2] >> 2) & 3]
        bitrate = (_BITRATES_V1 if version == 3 else _BITRATES_V2)[data[at + 2] >> 4]
        pad = (data[at + 2] >> 1) & 1
        at += (144 if version == 3 else 72) * bitrate * 1000 // rate + pad
        count += 1


def _crc16(data: bytes) -> int:
    """CRC-16/ARC, the checksum LAME puts on its tag."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc
