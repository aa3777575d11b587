"""Synthesize: every segment becomes a Take (its audible audio at the output rate, levelled to
TAKE_LUFS so voices, clips and stings match before mixing).

Speech goes through an engine, in parallel worker processes when it is worth it (in this
process, the engine's C code runs while a thread finishes the previous take), and through the
content-addressed cache, which holds takes already levelled: a warm render reads them and
measures nothing. Clips and stings are Takes too, cached the same way, made on a thread while
the engine speaks.

A long bulletin's takes do not all stay in memory: past MEMORY_BUDGET_BYTES they wait in
files (hard links to cache entries where possible) and are read when they are mixed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from types import TracebackType

import numpy as np

from bulletin.base.audio import Audio, read_audio, release_memory, resample
from bulletin.base.errors import BulletinError
from bulletin.cast.presets import Preset
from bulletin.engines import get_engine
from bulletin.script.story import Segment, Sound, Story
from bulletin.sound.cache import TakeCache, content_key
from bulletin.sound.loudness import level_and_profile, profile_blocks

# the level every take is made at before mixing, so voices, clips and stings match
TAKE_LUFS = -20.0
# below this, a sample is silence when finding the audible span of a take (-50 dBFS)
SILENCE_LEVEL = 10 ** (-50 / 20)
# worker processes cost about a third of a second each to start: use them only for more work
PARALLEL_MIN_SECONDS = 1.5
# takes kept in memory; past this they wait in files until mixed (an hour at 44.1 kHz is 635 MB)
MEMORY_BUDGET_BYTES = 48 * 1024 * 1024
# engine takes waiting for their effect and level (in this process): bounds their memory
PENDING = 8
# takes between handing freed memory back (see audio.release_memory)
TRIM_EVERY = 16
# what the cache holds: bump when the meaning of an entry changes (v2: levelled to TAKE_LUFS)
CACHE_VERSION = 2


@dataclass(frozen=True)
class SpeechJob:
    """One speech take to make: everything that changes its sound, and nothing else."""

    text: str  # after pronunciation respellings
    preset: Preset
    rate: float
    effect: str
    rate_hz: int

    def key(self, engine_version: str) -> str:
        return content_key(
            {"engine": engine_version, "preset": self.preset.sound_settings(), "text": self.text,
             "rate": self.rate, "effect": self.effect, "rate_hz": self.rate_hz,
             "level": TAKE_LUFS, "v": CACHE_VERSION}
        )


class Take:
    """A segment's audio at the output rate, levelled: in memory, or in a file read when it is
    mixed; and its profile for mastering (see loudness.level_and_profile), in memory or in a
    file, or made from the samples when first asked for. `gain` (a clip's own gain) is applied
    as the samples and the profile are read."""

    def __init__(self, frames: int, channels: int, rate_hz: int, *, samples: np.ndarray | None = None,
                 path: Path | None = None, gain: float = 1.0, profile: np.ndarray | None = None,
                 profile_path: Path | None = None) -> None:
        self.frames, self.channels, self.rate_hz = frames, channels, rate_hz
        self._samples, self.path, self.gain = samples, path, gain
        self._profile, self.profile_path = profile, profile_path

    @classmethod
    def of(cls, samples: np.ndarray, rate_hz: int, profile: np.ndarray | None = None) -> Take:
        return cls(samples.shape[0], samples.shape[1], rate_hz, samples=samples, profile=profile)

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate_hz

    def with_gain(self, gain: float) -> Take:
        """The same take at `gain` (shares its samples and profile)."""
        return Take(self.frames, self.channels, self.rate_hz, samples=self._samples, path=self.path, gain=gain,
                    profile=self._profile, profile_path=self.profile_path)

    def samples(self) -> np.ndarray:
        samples = self._samples if self._samples is not None else np.load(self.path, allow_pickle=False)
        return samples * np.float32(self.gain) if self.gain != 1.0 else samples

    def audio(self) -> Audio:
        return Audio(self.samples(), self.rate_hz)

    def profile(self) -> np.ndarray:
        """(energies, true peaks) per block from PROFILE_LEAD frames before the take."""
        profile = self._profile
        if profile is None and self.profile_path is not None:
            try:
                profile = np.load(self.profile_path, allow_pickle=False)
            except (OSError, ValueError, EOFError):
                profile = None
        if profile is None or profile.shape != (2, profile_blocks(self.frames, self.rate_hz)):
            samples = self._samples if self._samples is not None else np.load(self.path, allow_pickle=False)
            profile = level_and_profile(np.asarray(samples, np.float32), self.rate_hz, None)[1]
        if self._samples is not None:
            self._profile = profile  # small beside the samples
        if self.gain != 1.0:
            return profile * np.array([[self.gain**2], [self.gain]], np.float32)
        return profile


class TakeStore:
    """Where takes go once made or found: the cache (when there is one) and memory, or past the
    memory budget a private folder of this render (removed when it ends), so a take never
    depends on a cache entry that another render may prune."""

    def __init__(self, cache: TakeCache | None, budget_bytes: int = MEMORY_BUDGET_BYTES) -> None:
        self.cache = cache
        self.budget = budget_bytes
        self.in_memory = 0
        self.added = 0
        self._spill: tempfile.TemporaryDirectory | None = None
        self._spilled = 0
        self._known: dict[str, Take] = {}  # by key: a key's take is made once per render
        self._lock = threading.Lock()

    def __enter__(self) -> TakeStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None

    def _reserve(self, nbytes: int) -> bool:
        with self._lock:
            if self.in_memory + nbytes > self.budget:
                return False
            self.in_memory += nbytes
            return True

    def _spill_path(self, key: str) -> Path:
        """A new file name in the spill folder (never one in use: a file there never changes)."""
        with self._lock:
            if self._spill is None:
                self._spill = tempfile.TemporaryDirectory(prefix="bulletin-takes-")
            self._spilled += 1
            return Path(self._spill.name) / f"{self._spilled}-{key[:16]}.npy"

    def lookup(self, key: str, rate_hz: int) -> Take | None:
        """The take of `key` made or found earlier in this render, else the cached one, or None."""
        with self._lock:
            if key in self._known:
                return self._known[key]
        take = self._lookup(key, rate_hz)
        if take is not None:
            with self._lock:
                take = self._known.setdefault(key, take)
        return take

    def _lookup(self, key: str, rate_hz: int) -> Take | None:
        if self.cache is None:
            return None
        if self.in_memory < self.budget:
            samples = self.cache.get(key)
            if samples is None or samples.ndim != 2:
                return None
            if self._reserve(samples.nbytes):
                return Take.of(samples, rate_hz, self.cache.get_profile(key))
            del samples
        # a link to the entry (a file there never changes, whatever another render does to
        # the cache), read when mixed
        spilled = self._spill_path(key)
        try:
            _link_or_copy(self.cache.path(key), spilled)
            os.utime(self.cache.path(key))
            shape = np.load(spilled, mmap_mode="r", allow_pickle=False).shape
        except (OSError, ValueError, EOFError):
            return None
        if len(shape) != 2:
            return None
        profile = spilled.with_suffix(".profile")
        try:
            _link_or_copy(self.cache.profile_path(key), profile)
        except OSError:
            profile = None  # made from the samples when needed
        return Take(shape[0], shape[1], rate_hz, path=spilled, profile_path=profile)

    def add(self, key: str | None, made: tuple[np.ndarray, np.ndarray | None], rate_hz: int) -> Take:
        """A take just made, (samples, profile): into the cache, and kept in memory or spilled.
        The first take made of a key in a render is the one every segment of that key gets."""
        take = self._add(key, made, rate_hz)
        if key:
            with self._lock:
                take = self._known.setdefault(key, take)
        return take

    def _add(self, key: str | None, made: tuple[np.ndarray, np.ndarray | None], rate_hz: int) -> Take:
        samples, profile = made
        cached = self.cache.put(key, samples, profile) if self.cache is not None and key else None
        with self._lock:
            self.added += 1
        if self._reserve(samples.nbytes):
            return Take.of(samples, rate_hz, profile)
        spilled = self._spill_path(key or f"take-{id(samples)}")
        try:
            if cached is None:
                raise OSError
            _link_or_copy(cached, spilled)
            if np.load(spilled, mmap_mode="r", allow_pickle=False).shape != samples.shape:
                raise OSError  # another render put its own take of this key there meanwhile
        except (OSError, ValueError, EOFError):
            spilled.unlink(missing_ok=True)
            with open(spilled, "wb") as out:
                np.save(out, samples, allow_pickle=False)
        return Take(samples.shape[0], samples.shape[1], rate_hz, path=spilled, profile=profile)

    def prune(self) -> None:
        if self.cache is not None and self.added:
            self.cache.prune()


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def respell(text: str, pronounce: dict[str, str]) -> str:
    """Whole-word, case-sensitive respellings, longest first; punctuation around words kept."""
    if not pronounce:
        return text
    words = sorted(pronounce, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])")
    return pattern.sub(lambda m: pronounce[m.group(1)], text)


def audible(audio: Audio, pad_s: float = 0.005) -> Audio:
    """The take without the silence an engine or a file puts before and after the sound."""
    level = np.abs(audio.samples).max(axis=1)
    loud = np.flatnonzero(level > SILENCE_LEVEL)
    if loud.size == 0:
        return Audio(audio.samples[:0], audio.rate_hz)
    pad = round(pad_s * audio.rate_hz)
    first, last = max(loud[0] - pad, 0), min(loud[-1] + pad + 1, len(level))
    return Audio(audio.samples[first:last], audio.rate_hz)


def levelled(audio: Audio) -> tuple[np.ndarray, np.ndarray]:
    """The take levelled to TAKE_LUFS, and its profile."""
    return level_and_profile(np.asarray(audio.samples, np.float32), audio.rate_hz, TAKE_LUFS)


def _voice(job: SpeechJob) -> Audio:
    """The engine's part of a speech take: its audible span at the engine's rate."""
    engine = get_engine(job.preset.engine)
    raw = audible(engine.synthesize(job.text, job.preset, job.rate))
    if raw.samples.shape[0] == 0:
        raise BulletinError(f"{job.preset.engine} produced only silence for {job.text[:40]!r}")
    return raw


def _finish(job: SpeechJob, raw: Audio) -> tuple[np.ndarray, np.ndarray]:
    """The rest: effect, output rate, level (and the take's profile)."""
    if job.effect != "none":
        from bulletin.sound.effects import apply_effect

        raw = apply_effect(raw, job.effect)
    return levelled(resample(raw, job.rate_hz))


def speak(job: SpeechJob) -> tuple[np.ndarray, np.ndarray]:
    """Make one speech take, levelled, and its profile (in a worker process or in this one)."""
    return _finish(job, _voice(job))


def speech_jobs(story: Story, voices: dict[int, Preset], rate_hz: int) -> dict[int, SpeechJob]:
    """The speech job of every speech segment, by segment index."""
    return {
        s.index: SpeechJob(respell(s.text or "", story.pronounce), voices[s.index], s.rate, s.effect or "none", rate_hz)
        for s in story.segments
        if s.kind == "speech"
    }


def synthesize_speech(
    jobs: dict[int, SpeechJob],
    store: TakeStore,
    workers: int,
    on_take: Callable[[int], None] = lambda index: None,
    helpers: ThreadPoolExecutor | None = None,
) -> dict[int, Take]:
    """Takes for speech jobs: from the cache where it has them, else from the engines."""
    takes: dict[int, Take] = {}
    todo: dict[int, tuple[SpeechJob, str]] = {}
    versions: dict[str, str] = {}
    for index, job in jobs.items():
        engine = job.preset.engine
        if engine not in versions:
            versions[engine] = get_engine(engine).version()
        key = job.key(versions[engine])
        hit = store.lookup(key, job.rate_hz)
        if hit is not None:
            takes[index] = hit
            on_take(index)
        else:
            todo[index] = (job, key)
    first: dict[str, int] = {}
    repeats: dict[int, int] = {}  # segments that say what another one says: made once
    for index, (_, key) in list(todo.items()):
        if key in first:
            repeats[index] = first[key]
            del todo[index]
        else:
            first[key] = index
    seconds = sum(len(j.text) / get_engine(j.preset.engine).chars_per_second for j, _ in todo.values())
    if workers > 1 and len(todo) > 1 and seconds > PARALLEL_MIN_SECONDS:
        _in_workers(todo, workers, store, takes, on_take)
    elif todo:
        _in_process(todo, store, takes, on_take, helpers)
    for index, same in repeats.items():
        takes[index] = takes[same]
        on_take(index)
    return takes


def _segment_error(index: int, error: BulletinError) -> BulletinError:
    message = str(error)
    return BulletinError(message if message.startswith("segment") else f"segment {index}: {message}")


def _speak_segment(index: int, job: SpeechJob) -> tuple[np.ndarray, np.ndarray]:
    try:
        return speak(job)
    except BulletinError as error:
        raise _segment_error(index, error) from None


def _in_process(
    todo: dict[int, tuple[SpeechJob, str]],
    store: TakeStore,
    takes: dict[int, Take],
    on_take: Callable[[int], None],
    helpers: ThreadPoolExecutor | None,
) -> None:
    """The engine speaks here, one take after another (its C code lets other threads run),
    while a helper thread applies the effect, resamples and levels the previous take."""
    own = helpers is None
    pool = helpers or ThreadPoolExecutor(max_workers=1)
    pending: deque[tuple[int, SpeechJob, str, Future]] = deque()

    def collect() -> None:
        index, job, key, future = pending.popleft()
        try:
            made = future.result()
        except BulletinError as error:
            raise _segment_error(index, error) from None
        takes[index] = store.add(key, made, job.rate_hz)
        on_take(index)
        if len(takes) % TRIM_EVERY == 0:
            release_memory()

    try:
        for index, (job, key) in todo.items():
            try:
                raw = _voice(job)
            except BulletinError as error:
                raise _segment_error(index, error) from None
            pending.append((index, job, key, pool.submit(_finish, job, raw)))
            while pending and (len(pending) > PENDING or pending[0][3].done()):
                collect()
        while pending:
            collect()
    finally:
        for *_, future in pending:
            future.cancel()
        if own:
            pool.shutdown(wait=True)


def _in_workers(
    todo: dict[int, tuple[SpeechJob, str]],
    workers: int,
    store: TakeStore,
    takes: dict[int, Take],
    on_take: Callable[[int], None],
) -> None:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    # spawn, never fork: an engine initialised in this process must not be copied into a child
    # (a forked espeak-ng or onnxruntime hangs)
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_speak_segment, index, job): index for index, (job, _) in todo.items()}
        for future in as_completed(futures):
            index = futures.pop(future)
            job, key = todo[index]
            takes[index] = store.add(key, future.result(), job.rate_hz)
            on_take(index)
            del future
            if len(takes) % TRIM_EVERY == 0:
                release_memory()


# Sounds: stings, beds and clips ------------------------------------------------------------


@cache
def _builtin_code() -> str:
    """What the builtin sounds are made by: a change to it changes their cache keys."""
    from bulletin.sound import builtin as sounds

    return hashlib.sha256(Path(sounds.__file__).read_bytes()).hexdigest()[:16]


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
    """A clip trimmed to start/end, its gain applied, its audible part at the output rate."""
    assert segment.sound is not None and segment.sound.path is not None
    audio = read_audio(segment.sound.path)
    length_s = audio.duration_s
    if segment.start_s >= length_s:
        raise BulletinError(f"segment {segment.index}: clip {segment.sound.label!r} is {length_s:.2f} s long; start {segment.start_s:g} is past its end")
    first = round(segment.start_s * audio.rate_hz)
    last = round(segment.end_s * audio.rate_hz) if segment.end_s is not None else audio.samples.shape[0]
    samples = audio.samples[first:last] * np.float32(10 ** (segment.gain_db / 20))
    take = audible(resample(Audio(samples, audio.rate_hz), rate_hz))
    if take.samples.shape[0] == 0:
        raise BulletinError(f"segment {segment.index}: clip {segment.sound.label!r} is silent between start and end")
    return take


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
        try:
            if s.kind == "clip":
                assert s.sound is not None
                plain = replace(s, gain_db=0.0)
                key = sound_key(s.sound, rate_hz, (s.start_s, s.end_s))
                take = (store.lookup(key, rate_hz) if key else None) or store.add(key, levelled(clip_take(plain, rate_hz)), rate_hz)
                take = take.with_gain(float(np.float32(10 ** (s.gain_db / 20))))
            else:
                assert s.sound is not None
                take = _sound(s.sound, store, rate_hz)
        except BulletinError as error:
            raise _segment_error(s.index, error) from None
        takes[s.index] = take
    return takes, {index: _sound(sound, store, rate_hz) for index, sound in beds.items()}


def _sound(sound: Sound, store: TakeStore, rate_hz: int) -> Take:
    key = sound_key(sound, rate_hz)
    hit = store.lookup(key, rate_hz) if key else None
    return hit or store.add(key, levelled(sound_take(sound, rate_hz)), rate_hz)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
