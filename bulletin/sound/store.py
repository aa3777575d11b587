"""Takes and where they live during a render.

A Take is a segment's audio at the output rate, levelled to TAKE_LUFS so voices, clips and
stings match before mixing, with its profile for mastering and, for speech, its words' times.
A TakeStore holds a render's
takes: the cache (when there is one) and memory, or past MEMORY_BUDGET_BYTES files of the
render's own, read when they are mixed, so a long bulletin's takes do not all stay in memory.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from types import TracebackType

import numpy as np

from bulletin.base.audio import Audio
from bulletin.sound.cache import Entry, TakeCache
from bulletin.sound.loudness import level_and_profile, profile_blocks

# the level every take is made at before mixing, so voices, clips and stings match
TAKE_LUFS = -20.0
# below this, a sample is silence when finding the audible span of a take (-50 dBFS)
SILENCE_LEVEL = 10 ** (-50 / 20)
# takes kept in memory; past this they wait in files until mixed (an hour at 44.1 kHz is 635 MB)
MEMORY_BUDGET_BYTES = 48 * 1024 * 1024
# what the cache holds: bump when the meaning of an entry changes (v2: levelled to TAKE_LUFS;
# v3: speech takes joined from sentences, each sentence an entry of its own; v4: long neural
# sentences in clauses, and abbreviations read without their full stops; v5: speech entries
# hold their word timings; v6: words matched to their phonemes character by character)
CACHE_VERSION = 6

# what a speech segment's take adds to its sentences' entries (their joining, the effect, the
# level): bump when one of these sounds different, so that old takes are made again from the
# cached sentences (v2: the phone's low edge a gentle slope, so a man keeps his pitch)
TAKE_VERSION = 3  # v3: with the times of its words


class Take:
    """A segment's audio at the output rate, levelled: in memory, or in a file read when it is
    mixed; and its profile for mastering (see loudness.level_and_profile), or made from the
    samples when first asked for. `gain` (a clip's own gain) is applied
    as the samples and the profile are read. `words`: for speech, each word's start and end in
    seconds from the take's first sample (engines.timing), else None."""

    def __init__(self, frames: int, channels: int, rate_hz: int, *, samples: np.ndarray | None = None,
                 path: Path | None = None, gain: float = 1.0, profile: np.ndarray | None = None,
                 words: np.ndarray | None = None) -> None:
        self.frames, self.channels, self.rate_hz = frames, channels, rate_hz
        self._samples, self.path, self.gain = samples, path, gain
        self._profile = profile
        self.words = words

    @classmethod
    def of(cls, samples: np.ndarray, rate_hz: int, profile: np.ndarray | None = None,
           words: np.ndarray | None = None) -> Take:
        return cls(samples.shape[0], samples.shape[1], rate_hz, samples=samples, profile=profile, words=words)

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate_hz

    def with_gain(self, gain: float) -> Take:
        """The same take at `gain` (shares its samples and profile)."""
        return Take(self.frames, self.channels, self.rate_hz, samples=self._samples, path=self.path, gain=gain,
                    profile=self._profile, words=self.words)

    def samples(self) -> np.ndarray:
        samples = self._samples if self._samples is not None else np.load(self.path, allow_pickle=False)
        return samples * np.float32(self.gain) if self.gain != 1.0 else samples

    def audio(self) -> Audio:
        return Audio(self.samples(), self.rate_hz)

    def profile(self) -> np.ndarray:
        """(energies, true peaks) per block from PROFILE_LEAD frames before the take."""
        profile = self._profile
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
        entry = self.cache.read(key) if self.cache is not None else None
        if entry is None or entry.samples.ndim != 2:
            return None
        return self._keep(key, entry, rate_hz)

    def add(self, key: str | None, made: Entry, rate_hz: int) -> Take:
        """A take just made, (samples, profile, words): into the cache, and kept in memory or spilled.
        The first take made of a key in a render is the one every segment of that key gets
        (and the one the cache keeps)."""
        if key:
            with self._lock:
                if key in self._known:
                    return self._known[key]
        take = self._add(key, made, rate_hz)
        if key:
            with self._lock:
                take = self._known.setdefault(key, take)
        return take

    def _add(self, key: str | None, made: Entry, rate_hz: int) -> Take:
        made = Entry(*made)  # (samples, profile) of a sound, or all three
        if self.cache is not None and key:
            self.cache.put(key, *made)
        with self._lock:
            self.added += 1
        return self._keep(key or f"take-{id(made.samples)}", made, rate_hz)

    def _keep(self, key: str, made: Entry, rate_hz: int) -> Take:
        """A take in memory while the budget lasts, else in a file of this render's own (never
        a cache entry, which another render may prune or replace), read when mixed."""
        samples, profile, words = made
        if self._reserve(samples.nbytes):
            return Take.of(samples, rate_hz, profile, words)
        spilled = self._spill_path(key)
        with open(spilled, "wb") as out:
            np.save(out, samples, allow_pickle=False)
        return Take(samples.shape[0], samples.shape[1], rate_hz, path=spilled, profile=profile, words=words)

    def prune(self) -> None:
        if self.cache is not None and self.added:
            self.cache.prune()


def audible_span(audio: Audio, pad_s: float = 0.005) -> tuple[int, int]:
    """The first and past-the-last frame of the sound in `audio`, less the silence an engine or
    a file puts before and after it (`pad_s` of it kept); (0, 0) for silence."""
    level = np.abs(audio.samples).max(axis=1)
    loud = np.flatnonzero(level > SILENCE_LEVEL)
    if loud.size == 0:
        return 0, 0
    pad = round(pad_s * audio.rate_hz)
    return max(loud[0] - pad, 0), min(loud[-1] + pad + 1, len(level))


def audible(audio: Audio, pad_s: float = 0.005) -> Audio:
    """The take without the silence an engine or a file puts before and after the sound."""
    first, last = audible_span(audio, pad_s)
    return Audio(audio.samples[first:last], audio.rate_hz)


def levelled(audio: Audio, words: np.ndarray | None = None) -> Entry:
    """The take levelled to TAKE_LUFS, its profile, and its words' times (None: no words)."""
    samples, profile = level_and_profile(np.asarray(audio.samples, np.float32), audio.rate_hz, TAKE_LUFS)
    return Entry(samples, profile, words)
