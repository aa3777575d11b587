"""Export: WAV, MP3 (tags and one ID3 chapter per story), cue sheet JSON, captions (WebVTT and
SRT) and the Podcasting 2.0 JSON transcript, all read off the timeline, and every file written
beside its name and renamed into place."""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from bulletin.base.audio import Audio, to_pcm16
from bulletin.base.errors import BulletinError
from bulletin.export.captions import subrip, timeline_cues, transcript, webvtt
from bulletin.script.written import written_text

if TYPE_CHECKING:
    from bulletin.cast.presets import Preset
    from bulletin.mix.master import Master, Sink
    from bulletin.mix.timeline import Placement, Timeline
    from bulletin.script.story import Story

# what Staged names its temporaries (`.FINAL.bulletin-PID.part`): the clean-up touches no other
TEMPORARY_NAME = re.compile(r"\..+\.bulletin-(?P<pid>\d+)\.part\Z")


def cue_sheet(story: Story, timeline: Timeline, voices: dict[str, Preset], mastered: Master,
              air: dict | None = None, fit: dict | None = None) -> dict:
    """The cue sheet: what plays when, by whom, and the measured loudness of the file; `air`:
    what the WAV's bext and cart chunks hold (bulletin.export.onair); `fit` (a bulletin fitted
    to its post: the target, pace and gap factors) as `fit`."""
    segments = [_segment_entry(p, voices) for p in timeline.placements]
    stories = []
    for chapter in timeline.chapters:
        entry: dict[str, object] = {"index": chapter.index, "headline": chapter.headline,
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
        **({"fit": fit} if fit is not None else {}),
        "cast": {m.id: {"role": m.role, "name": m.name, **({"title": m.title} if m.title else {}),
                        "voice": voices[m.id].name, "engine": voices[m.id].engine,
                        "engine_voice": voices[m.id].engine_voice} for m in story.cast.values()},
        "stories": stories,
        "segments": segments,
    } | ({"air": air} if air is not None else {})


def _segment_entry(p: Placement, voices: dict[str, Preset]) -> dict[str, object]:
    """One segment's cue: what it is, who says it in which voice, what is said, when."""
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
        entry["text"] = written_text(s)
    entry.update(start=round(p.start_s, 3), end=round(p.end_s, 3))
    if p.words:
        entry["words"] = [{"word": w.text, "start": round(w.start_s, 3), "end": round(w.end_s, 3)} for w in p.words]
    return entry


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


def captions(story: Story, timeline: Timeline) -> dict[str, str]:
    """The captions (WebVTT and SRT, the same cues: see export.captions) and the JSON
    transcript, by file extension."""
    speakers = {m.id: m.name for m in story.cast.values()}
    cues = timeline_cues(timeline, speakers)
    return {"vtt": webvtt(cues, f"{story.title}, {story.date.isoformat()}"), "srt": subrip(cues),
            "transcript.json": json.dumps(transcript(timeline, speakers), indent=1, ensure_ascii=False) + "\n"}


def wav_header(frames: int, channels: int, rate_hz: int, chunks: bytes = b"") -> bytes:
    """The header of a 16-bit PCM WAV: 44 bytes (as libsndfile writes it), with `chunks`
    (whole RIFF chunks, word-aligned: bext, cart) between `fmt ` and `data`."""
    data = frames * channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + len(chunks) + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate_hz, rate_hz * channels * 2, channels * 2, 16)
            + chunks + b"data" + struct.pack("<I", data))


CHUNKS_AT = 36  # where chunks after `fmt ` begin in wav_header's header


def wav_bytes(audio: Audio) -> bytes:
    """A 16-bit WAV of float samples in [-1, 1] (rounded to the nearest step, clipped)."""
    return wav_header(audio.samples.shape[0], audio.channels, audio.rate_hz) + to_pcm16(audio.samples).tobytes()


class WavWriter:
    """A master output: 16-bit WAV to `out`, header first (the length is known up front), with
    `chunks` before `data`; `restamp` rewrites them in place once the file is measured."""

    def __init__(self, out: BinaryIO, chunks: list[bytes] | None = None) -> None:
        self.out = out
        self.chunks = b"".join(chunks or [])

    def begin(self, frames: int, channels: int, rate_hz: int) -> None:
        self.out.seek(0)
        self.out.truncate()
        self.out.write(wav_header(frames, channels, rate_hz, self.chunks))

    def restamp(self, chunks: list[bytes]) -> None:
        """Replace the chunks written by `begin` with as many bytes of new ones."""
        data = b"".join(chunks)
        assert len(data) == len(self.chunks)
        self.chunks = data
        self.out.seek(CHUNKS_AT)
        self.out.write(data)
        self.out.seek(0, os.SEEK_END)

    def write(self, pcm: np.ndarray) -> None:
        self.out.write(pcm.astype("<i2", copy=False).tobytes())

    def end(self) -> None:
        pass


def audio_writers(files: dict[str, BinaryIO], story: Story, timeline: Timeline,
                  chunks: list[bytes] | None = None) -> list[Sink]:
    """The master's outputs among `files`: WAV (with `chunks` before its data) and MP3."""
    writers: list[Sink] = []
    if "wav" in files:
        writers.append(WavWriter(files["wav"], chunks))
    if "mp3" in files:
        from bulletin.export.mp3 import Mp3Writer, mp3_tags

        writers.append(Mp3Writer(files["mp3"], story.master.mp3_bitrate,
                                 lambda audio_bytes: mp3_tags(story, timeline, audio_bytes)))
    return writers


def text_files(story: Story, timeline: Timeline, mastered: Master, voices: dict[str, Preset],
               air: dict | None = None, fit: dict | None = None) -> dict[str, bytes]:
    """The cue sheet (with `air`, the Broadcast WAV chunks' contents; `fit`, how it was fitted
    to its post), the captions and the transcript, by file extension."""
    cue = cue_sheet(story, timeline, voices, mastered, air, fit)
    return {"json": (json.dumps(cue, indent=2, ensure_ascii=False) + "\n").encode(),
            **{ext: text.encode() for ext, text in captions(story, timeline).items()}}



class Staged:
    """Files written beside their names and renamed into place together: open them with
    `open(ext)` (in the order they should appear), write, and leave the block without an error
    to commit; a render killed at any moment leaves the previous files of these names whole.

    A failed write (the disk full, the folder gone) is one BulletinError naming the file and
    the cause, and every temporary is removed. Two renders committing into one folder at once
    take turns (a lock on the folder while the files are renamed into place), so the later one
    wins with all its files: never a mix of the two."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.folder, self.stem = folder, stem
        self.temporaries: dict[str, tuple[Path, Path]] = {}
        self.files: dict[str, _Output] = {}

    def __enter__(self) -> Staged:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _write_error(self.folder, error) from error
        _remove_stale_temporaries(self.folder)
        return self

    def open(self, ext: str) -> BinaryIO:
        final = self.folder / f"{self.stem}.{ext}"
        temporary = self.folder / f".{final.name}.bulletin-{os.getpid()}.part"
        self.temporaries[ext] = (temporary, final)
        try:
            self.files[ext] = _Output(open(temporary, "w+b"), final)  # noqa: SIM115 (closed on commit or cleanup)
        except OSError as error:
            raise _write_error(final, error) from error
        return self.files[ext]  # type: ignore[return-value]

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self._commit()
            elif isinstance(error, OSError):  # from the encoder's spool, say: no file to name
                raise _write_error(self.folder, error) from error
        finally:
            for out in self.files.values():
                out.discard()
            for temporary, _ in self.temporaries.values():
                temporary.unlink(missing_ok=True)

    def _commit(self) -> None:
        for out in self.files.values():
            out.sync()
        with _folder_lock(self.folder):
            for temporary, final in self.temporaries.values():
                try:
                    os.replace(temporary, final)
                except OSError as error:
                    raise _write_error(final, error) from error
            _sync_folder(self.folder)

    @property
    def paths(self) -> dict[str, Path]:
        return {ext: final for ext, (_, final) in self.temporaries.items()}


class _Output:
    """A staged file: what its writers need of a binary file, with a failure (ENOSPC, EIO)
    turned into one BulletinError that names the file it was for."""

    def __init__(self, raw: BinaryIO, final: Path) -> None:
        self.raw, self.final = raw, final

    def _call(self, method: str, *args: object) -> object:
        try:
            return getattr(self.raw, method)(*args)
        except OSError as error:
            raise _write_error(self.final, error) from error

    def write(self, data: bytes) -> int:
        return self._call("write", data)  # type: ignore[return-value]

    def read(self, size: int = -1) -> bytes:
        return self._call("read", size)  # type: ignore[return-value]

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._call("seek", offset, whence)  # type: ignore[return-value]

    def truncate(self, size: int | None = None) -> int:
        return self._call("truncate", size)  # type: ignore[return-value]

    def tell(self) -> int:
        return self._call("tell")  # type: ignore[return-value]

    def sync(self) -> None:
        """Flush, fsync and close: the bytes are on the disk, or this is the error."""
        self._call("flush")
        try:
            os.fsync(self.raw.fileno())
        except OSError as error:
            raise _write_error(self.final, error) from error
        self._call("close")

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # the error that brought us here is the one reported
            self.raw.close()


def _write_error(path: Path, error: OSError) -> BulletinError:
    return BulletinError(f"{str(path)!r}: cannot write: {error.strerror or error}")


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder itself (flock on its descriptor: no lock file left)."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing lets go of the lock


def _sync_folder(folder: Path) -> None:
    """Make the renames durable; some file systems cannot sync a folder, which is fine."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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



