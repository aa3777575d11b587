"""Takes of sounds that are not speech: stings, beds and clips, levelled and cached like speech.

A builtin sound is keyed by the code that makes it, a file by its path, size and time, a clip
also by its start and end; a clip's own gain is applied as its take is read (Take.with_gain),
so one cached take serves a clip at any gain.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np

from bulletin.base.audio import Audio, read_audio, resample
from bulletin.base.errors import BulletinError
from bulletin.script.story import Segment, Sound, clip_start_past_end
from bulletin.sound.cache import content_key
from bulletin.sound.store import CACHE_VERSION, TAKE_LUFS, Take, TakeStore, audible, levelled


@cache
def _builtin_code() -> str:
    """What the builtin sounds are made by: a change to it changes their cache keys."""
    from bulletin.sound import builtin, instruments

    code = b"".join(Path(module.__file__ or "").read_bytes() for module in (builtin, instruments))
    return hashlib.sha256(code).hexdigest()[:16]


def _file_identity(path: Path) -> dict[str, object] | None:
    try:
        stat = path.stat()
    except OSError:
        return None  # not cached: reading it says what is wrong
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def sound_key(sound: Sound, rate_hz: int, trim: tuple[float, float | None] | None = None) -> str | None:
    """The cache key of a sting, bed or clip take, or None when it cannot be cached."""
    if sound.builtin:
        source: dict[str, object] | None = {"builtin": sound.builtin, "code": _builtin_code()}
    else:
        source = _file_identity(sound.path) if sound.path is not None else None
    if source is None:
        return None
    return content_key({"sound": source, "trim": trim, "rate_hz": rate_hz, "level": TAKE_LUFS, "v": CACHE_VERSION})


def sound_take(sound: Sound, rate_hz: int) -> Audio:
    """A sting or bed source at the output rate."""
    if sound.builtin:
        from bulletin.sound.builtin import builtin

        return resample(builtin(sound.builtin, rate_hz), rate_hz)
    assert sound.path is not None
    return resample(read_audio(sound.path), rate_hz)


def clip_take(segment: Segment, rate_hz: int) -> Audio:
    """A clip trimmed to start/end, its audible part at the output rate (its gain is applied
    after levelling, as the take is read)."""
    assert segment.sound is not None and segment.sound.path is not None
    audio = read_audio(segment.sound.path)
    length_s = audio.duration_s
    if why := clip_start_past_end(segment.start_s, length_s, segment.sound.label):
        raise BulletinError(f"segment {segment.index}: clip start {why}")
    first = round(segment.start_s * audio.rate_hz)
    last = round(segment.end_s * audio.rate_hz) if segment.end_s is not None else audio.samples.shape[0]
    take = audible(resample(Audio(audio.samples[first:last], audio.rate_hz), rate_hz))
    if take.samples.shape[0] == 0:
        raise BulletinError(f"segment {segment.index}: clip {segment.sound.label!r} is silent between start and end")
    return take


def segment_error(index: int, error: BulletinError) -> BulletinError:
    """`error` as one line naming the segment (once)."""
    message = str(error)
    return BulletinError(message if message.startswith("segment") else f"segment {index}: {message}")


def sound_takes(
    segments: list[Segment],
    beds: dict[int, Sound],
    store: TakeStore,
    rate_hz: int,
) -> tuple[dict[int, Take], dict[int, Take]]:
    """Levelled takes of the sting and clip `segments` (by segment index; a clip's gain
    applied after levelling) and of `beds` (by story index), from the cache where it has them."""
    takes: dict[int, Take] = {}
    for s in segments:
        assert s.sound is not None
        try:
            takes[s.index] = _clip(s, store, rate_hz) if s.kind == "clip" else _sound(s.sound, store, rate_hz)
        except BulletinError as error:
            raise segment_error(s.index, error) from None
    return takes, {index: _sound(sound, store, rate_hz) for index, sound in beds.items()}


def _clip(segment: Segment, store: TakeStore, rate_hz: int) -> Take:
    assert segment.sound is not None
    key = sound_key(segment.sound, rate_hz, (segment.start_s, segment.end_s))
    take = (store.lookup(key, rate_hz) if key else None) or store.add(key, levelled(clip_take(segment, rate_hz)), rate_hz)
    return take.with_gain(float(np.float32(10 ** (segment.gain_db / 20))))


def _sound(sound: Sound, store: TakeStore, rate_hz: int) -> Take:
    key = sound_key(sound, rate_hz)
    hit = store.lookup(key, rate_hz) if key else None
    return hit or store.add(key, levelled(sound_take(sound, rate_hz)), rate_hz)
