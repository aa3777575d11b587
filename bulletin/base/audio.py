"""The one internal audio form: float32 (frames, channels) plus its rate; file edges live here."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bulletin.base.errors import BulletinError

# Audio files libsndfile reads itself; other formats need ffmpeg (and its ffprobe).
SNDFILE_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")
_PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Audio:
    """Samples as a two-dimensional (frames x channels) float32 array, and their rate in Hz."""

    samples: np.ndarray
    rate_hz: int

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.rate_hz

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @classmethod
    def silence(cls, duration_s: float, rate_hz: int, channels: int = 1) -> Audio:
        return cls(np.zeros((round(duration_s * rate_hz), channels), np.float32), rate_hz)

    @classmethod
    def mono(cls, samples: np.ndarray, rate_hz: int) -> Audio:
        return cls(np.asarray(samples, np.float32).reshape(-1, 1), rate_hz)


def release_memory() -> None:
    """Hand memory freed by numpy back to the system (glibc keeps what threads freed in their
    own arenas, and a long render's peak memory then grows with its length). No-op elsewhere."""
    global _trim
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim = None


def resample(audio: Audio, rate_hz: int, played_at_hz: float | None = None) -> Audio:
    """Resample with soxr's high-quality converter; a no-op at the same rate. `played_at_hz`
    reads the samples as if taken at that rate (faster or slower playback, as on tape)."""
    source_hz = audio.rate_hz if played_at_hz is None else played_at_hz
    if source_hz == rate_hz or audio.samples.shape[0] == 0:
        return Audio(audio.samples, rate_hz) if audio.samples.shape[0] == 0 else audio
    import soxr

    out = soxr.resample(audio.samples, source_hz, rate_hz, quality="HQ")
    return Audio(np.ascontiguousarray(out, np.float32).reshape(-1, audio.channels), rate_hz)


def with_channels(audio: Audio, channels: int) -> Audio:
    """Mono to stereo by copying, stereo (or more) to mono by averaging."""
    if audio.channels == channels:
        return audio
    if channels == 1:
        return Audio(audio.samples.mean(axis=1, keepdims=True, dtype=np.float32), audio.rate_hz)
    return Audio(np.repeat(audio.samples[:, :1], channels, axis=1), audio.rate_hz)


def audio_length_s(path: Path, label: str | None = None) -> float | None:
    """Seconds of audio in `path` from its header, without decoding it (None where only
    decoding would tell); BulletinError, one line naming `label` (default: the file name),
    when the file holds no audio."""
    import soundfile as sf

    name = label or path.name
    try:
        info = sf.info(str(path))
    except Exception as error:  # libsndfile raises several kinds of error for a bad file
        reason = str(getattr(error, "error_string", "") or error).rstrip(".")
        if path.suffix.lower() in SNDFILE_SUFFIXES or shutil.which("ffprobe") is None:
            raise BulletinError(f"{name!r} is not an audio file ({reason}); use a WAV, FLAC, OGG or MP3 file") from None
        return _probe_length_s(path, name)
    if info.frames <= 0 or info.samplerate <= 0:
        raise BulletinError(f"{name!r} holds no audio")
    return info.frames / info.samplerate


def _probe_length_s(path: Path, name: str) -> float | None:
    """ffprobe's view of a file libsndfile does not read: its audio stream's length, or why not."""
    import json

    command = ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type", "-of", "json", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=_PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BulletinError(f"cannot read {name!r} as audio (ffprobe: {error})") from None
    found = json.loads(done.stdout or "{}") if done.returncode == 0 else {}
    if not any(s.get("codec_type") == "audio" for s in found.get("streams", [])):
        why = _last_line(done.stderr) if done.returncode else "it has no audio stream"
        raise BulletinError(f"{name!r} is not an audio file ({why}); use a WAV, FLAC, OGG or MP3 file, "
                            "or another format ffmpeg decodes")
    try:
        return float(found["format"]["duration"])
    except (KeyError, TypeError, ValueError):
        return None  # a stream without a stated length: decoding will tell


def _last_line(text: str) -> str:
    """The decoder's own verdict, its last line, without the file name it starts with."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "unknown error"
    return last.rsplit(": ", 1)[-1][:200]


def to_pcm16(samples: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Float samples in [-1, 1] (times `scale`) as 16-bit PCM: rounded to the nearest step and
    clipped to the 16-bit range (full scale is 32768 steps, as libsndfile reads it back)."""
    scaled = np.asarray(samples, np.float32) * np.float32(scale) if scale != 1.0 else np.asarray(samples, np.float32)
    return np.round(np.clip(scaled, -1.0, 32767 / 32768) * 32768).astype("<i2")


def read_audio(path: Path) -> Audio:
    """Read any file libsndfile reads (WAV, FLAC, OGG, MP3); others through pydub and ffmpeg."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return Audio(data, rate)
    except sf.LibsndfileError as error:
        sndfile_error = error
    except OSError as error:
        raise BulletinError(f"cannot read audio file {path.name!r}: {error.strerror or error}") from None
    if shutil.which("ffmpeg") is None:
        raise BulletinError(
            f"cannot read audio file {path.name!r}: {str(sndfile_error.error_string).rstrip('.')}; "
            "formats other than WAV, FLAC, OGG and MP3 need ffmpeg (apt-get install ffmpeg)"
        )
    return _read_with_pydub(path)


def _read_with_pydub(path: Path) -> Audio:
    from pydub import AudioSegment

    try:
        segment = AudioSegment.from_file(str(path))
    except Exception as error:  # pydub raises bare exceptions carrying ffmpeg's whole output
        # one line: ffmpeg's verdict, never its banner and build configuration
        raise BulletinError(f"cannot read audio file {path.name!r}: ffmpeg cannot decode it "
                            f"({_last_line(str(error))})") from None
    scale = float(1 << (8 * segment.sample_width - 1))
    raw = np.array(segment.get_array_of_samples(), dtype=np.float32) / scale
    return Audio(raw.reshape(-1, segment.channels), segment.frame_rate)
