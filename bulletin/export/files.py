"""Export: WAV, MP3 (tags and one ID3 chapter per story), cue sheet JSON and WebVTT captions,
all read off the timeline, and every file written beside its name and renamed into place."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import struct
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from bulletin import __version__
from bulletin.base.audio import Audio, to_pcm16

if TYPE_CHECKING:
    from bulletin.cast.presets import Preset
    from bulletin.mix.master import Master, Sink
    from bulletin.mix.timeline import Timeline
    from bulletin.script.story import Story

PROGRAM = f"bulletin {__version__}"
# what Staged names its temporaries (`.FINAL.bulletin-PID.part`): the clean-up touches no other
TEMPORARY_NAME = re.compile(r"\..+\.bulletin-(?P<pid>\d+)\.part\Z")


def cue_sheet(story: Story, timeline: Timeline, voices: dict[str, Preset], mastered: Master) -> dict:
    """The cue sheet: what plays when, by whom, and the measured loudness of the file."""
    segments = []
    for p in timeline.placements:
        s = p.segment
        entry: dict[str, object] = {"index": s.index, "story": s.story, "kind": s.kind}
        if s.id:
            entry["id"] = s.id
        if s.kind == "sting":
            entry.update(name=s.sting, source=s.sound.label if s.sound else None)
        if s.speaker:
            entry["speaker"] = s.speaker
        if s.kind == "speech":
            entry["voice"] = s.voice or voices[s.speaker].name
        if s.kind == "clip" and s.sound:
            entry["source"] = s.sound.label
        if s.text:
            entry["text"] = s.text
        entry.update(start=round(p.start_s, 3), end=round(p.end_s, 3))
        segments.append(entry)
    stories = []
    for chapter in timeline.chapters:
        entry = {"index": chapter.index, "headline": chapter.headline,
                 "start": round(chapter.start_s, 3), "end": round(chapter.end_s, 3)}
        for bed in timeline.beds:
            if bed.story == chapter.index:
                entry["bed"] = {"source": bed.sound.label, "start": round(bed.start_s, 3), "end": round(bed.end_s, 3)}
        stories.append(entry)
    return {
        "title": story.title,
        "date": story.date.isoformat(),
        "duration": round(mastered.duration_s, 3),
        "sample_rate": mastered.rate_hz,
        "loudness": _loudness(mastered),
        "cast": {m.id: {"role": m.role, "name": m.name, **({"title": m.title} if m.title else {}),
                        "voice": voices[m.id].name, "engine": voices[m.id].engine,
                        "engine_voice": voices[m.id].engine_voice} for m in story.cast.values()},
        "stories": stories,
        "segments": segments,
    }


def _loudness(mastered: Master) -> dict[str, object]:
    """The loudness asked for and that of the file as written; a target out of reach says why."""
    from bulletin.mix.master import out_of_reach

    entry: dict[str, object] = {"target_lufs": round(mastered.target_lufs, 1),
                                "integrated_lufs": round(mastered.integrated_lufs, 2),
                                "true_peak_dbtp": round(mastered.true_peak_dbtp, 2),
                                "target_met": mastered.target_met}
    if mastered.reachable_lufs is not None:
        entry["note"] = out_of_reach(mastered.target_lufs, mastered.reachable_lufs) + "; accepted (best effort)"
    return entry


def captions(story: Story, timeline: Timeline) -> str:
    """WebVTT: one cue per speech or clip segment, the voice tag naming the speaker."""
    lines = ["WEBVTT", f"NOTE {story.title}, {story.date.isoformat()}", ""]
    for p in timeline.placements:
        s = p.segment
        if s.kind not in ("speech", "clip") or not s.text:
            continue
        name = story.cast[s.speaker].name if s.speaker else ""
        text = "\n".join(textwrap.wrap(s.text.replace("-->", "->"), 60))
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"{s.index}", f"{_vtt_time(p.start_s)} --> {_vtt_time(p.end_s)}",
                  f"<v {name.replace('>', '')}>{text}" if name else text, ""]
    return "\n".join(lines)


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def wav_header(frames: int, channels: int, rate_hz: int) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV (as libsndfile writes it)."""
    data = frames * channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate_hz, rate_hz * channels * 2, channels * 2, 16)
            + b"data" + struct.pack("<I", data))


def wav_bytes(audio: Audio) -> bytes:
    """A 16-bit WAV of float samples in [-1, 1] (rounded to the nearest step, clipped)."""
    return wav_header(audio.samples.shape[0], audio.channels, audio.rate_hz) + to_pcm16(audio.samples).tobytes()


class WavWriter:
    """A master output: 16-bit WAV to `out`, header first (the length is known up front)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def begin(self, frames: int, channels: int, rate_hz: int) -> None:
        self.out.seek(0)
        self.out.truncate()
        self.out.write(wav_header(frames, channels, rate_hz))

    def write(self, pcm: np.ndarray) -> None:
        self.out.write(pcm.astype("<i2", copy=False).tobytes())

    def end(self) -> None:
        pass


class Mp3Writer:
    """A master output: the tagged, gapless CBR MP3 (see `mp3_tags`) to `out`, encoded while
    the master writes (at 48 kHz when the master's rate is not an MP3 rate)."""

    def __init__(self, out: BinaryIO, story: Story, timeline: Timeline) -> None:
        self.out, self.story, self.timeline = out, story, timeline
        self.encoder = None
        self.resampler = None

    def begin(self, frames: int, channels: int, rate_hz: int) -> None:
        from bulletin.export.mp3 import MP3_RATES, Mp3Encoder

        if self.encoder is not None:  # starting over: the last attempt's frames are dropped
            self.encoder.finish()
            self.encoder.close()
        rate = rate_hz if rate_hz in MP3_RATES else 48000
        self.channels = channels
        self.resampler = None
        if rate != rate_hz:
            import soxr

            self.resampler = soxr.ResampleStream(rate_hz, rate, channels, dtype="float32", quality="HQ")
        self.encoder = Mp3Encoder(rate, channels, self.story.master.mp3_bitrate)

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
            self.out.write(mp3_tags(self.story, self.timeline, len(info) + size))
            self.out.write(info)
            shutil.copyfileobj(frames, self.out, 1 << 20)
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


def audio_writers(files: dict[str, BinaryIO], story: Story, timeline: Timeline) -> list[Sink]:
    """The master's outputs among `files`: WAV and MP3."""
    writers: list[Sink] = []
    if "wav" in files:
        writers.append(WavWriter(files["wav"]))
    if "mp3" in files:
        writers.append(Mp3Writer(files["mp3"], story, timeline))
    return writers


def text_files(story: Story, timeline: Timeline, mastered: Master, voices: dict[str, Preset]) -> dict[str, bytes]:
    """The cue sheet and the captions."""
    cue = cue_sheet(story, timeline, voices, mastered)
    return {"json": (json.dumps(cue, indent=2, ensure_ascii=False) + "\n").encode(),
            "vtt": captions(story, timeline).encode()}


class Staged:
    """Files written beside their names and renamed into place together: open them with
    `open(ext)` (in the order they should appear), write, and leave the block without an error
    to commit; a render killed at any moment leaves the previous files of these names whole."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.folder, self.stem = folder, stem
        self.temporaries: dict[str, tuple[Path, Path]] = {}
        self.files: dict[str, BinaryIO] = {}

    def __enter__(self) -> Staged:
        self.folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(self.folder)
        return self

    def open(self, ext: str) -> BinaryIO:
        final = self.folder / f"{self.stem}.{ext}"
        temporary = self.folder / f".{final.name}.bulletin-{os.getpid()}.part"
        self.temporaries[ext] = (temporary, final)
        self.files[ext] = open(temporary, "w+b")  # noqa: SIM115 (closed on commit or cleanup)
        return self.files[ext]

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                for out in self.files.values():
                    out.flush()
                    os.fsync(out.fileno())
                for out in self.files.values():
                    out.close()
                for temporary, final in self.temporaries.values():
                    os.replace(temporary, final)
        finally:
            for out in self.files.values():
                out.close()
            for temporary, _ in self.temporaries.values():
                temporary.unlink(missing_ok=True)

    @property
    def paths(self) -> dict[str, Path]:
        return {ext: final for ext, (_, final) in self.temporaries.items()}


def write_all(folder: Path, stem: str, makers: dict[str, Callable[[], bytes]]) -> dict[str, Path]:
    """Write every file to a temporary name beside its target, then rename them all into place:
    a render killed at any moment leaves the previous files of these names whole."""
    with Staged(folder, stem) as staged:
        for ext, make in makers.items():
            staged.open(ext).write(make())
    return staged.paths


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporaries left by a render that was killed (its process is gone): only names of the
    form Staged.open writes, and only regular files (never through a symbolic link)."""
    for path in folder.glob(".*.bulletin-*.part"):
        match = TEMPORARY_NAME.match(path.name)
        if match and path.is_file() and not path.is_symlink() and not _alive(int(match["pid"])):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True



