"""One output file on its own (a preview, an audition, an imported story), by one rule: the
name as given, its format from its suffix; with no suffix the format's own is added. Audio is
`.wav` (16-bit) or `.mp3` (CBR, gapless, untagged); any other suffix is refused before any work
is done (`audio_path`), never written under a name that says otherwise. Written beside its
name and renamed into place, like a render's files."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bulletin.base.audio import Audio, to_pcm16
from bulletin.base.errors import InputError
from bulletin.export.files import wav_bytes, write_all

AUDIO_SUFFIXES = (".wav", ".mp3")
# unmastered audio (a preview, an audition) is scaled down to this peak, never clipped: -1 dBFS
UNMASTERED_PEAK = 0.89
MP3_BITRATE_KBPS = 128


def audio_path(path: Path, what: str = "the audio file") -> Path:
    """`path` as an audio output name (`.wav` added where it has no suffix); InputError for a
    suffix that is neither `.wav` nor `.mp3`."""
    path = Path(path)
    if not path.suffix:
        return path.with_name(path.name + ".wav")
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise InputError(f"-o/--output: {what} is a .wav or .mp3 file; {str(path)!r} names a {path.suffix} file")
    return path


def out_of_clipping(audio: Audio) -> Audio:
    """Audio whose peak is over UNMASTERED_PEAK scaled down to it (the one rule for audio that
    is not mastered: quieter, never clipped)."""
    peak = float(np.abs(audio.samples).max()) if audio.samples.size else 0.0
    if peak <= UNMASTERED_PEAK:
        return audio
    return Audio(audio.samples * np.float32(UNMASTERED_PEAK / peak), audio.rate_hz)


def write_audio(path: Path, audio: Audio, what: str = "the audio file",
                on_stage: Callable[[str], None] = lambda stage: None) -> Path:
    """Write unmastered `audio` to `path` (see `audio_path`) as WAV or MP3, kept out of clipping;
    `on_stage` hears "encode" (an MP3) and "write" as they begin."""
    path = audio_path(path, what)
    audio = out_of_clipping(audio)
    if path.suffix.lower() == ".mp3":
        on_stage("encode")
        data = mp3_bytes(audio)
        on_stage("write")
        return write_file(path, lambda: data, "mp3")
    on_stage("write")
    return write_file(path, lambda: wav_bytes(audio), "wav")


def mp3_bytes(audio: Audio) -> bytes:
    """A gapless CBR MP3 of `audio`, untagged (through the master's MP3 writer)."""
    from bulletin.export.mp3 import Mp3Writer

    out = io.BytesIO()
    writer = Mp3Writer(out, MP3_BITRATE_KBPS)
    writer.begin(audio.samples.shape[0], audio.channels, audio.rate_hz)
    writer.write(to_pcm16(audio.samples))
    writer.end()
    return out.getvalue()


def write_file(path: Path, make: Callable[[], bytes], default_suffix: str) -> Path:
    """Write the bytes `make()` gives to `path` (with `default_suffix` added where it has no
    suffix: every file has one), atomically."""
    path = Path(path)
    if not path.suffix:
        path = path.with_name(f"{path.name}.{default_suffix}")
    ext = path.suffix.lstrip(".")
    return write_all(path.parent, path.name[: -len(path.suffix)], {ext: make})[ext]
