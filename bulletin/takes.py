"""Synthesize: every segment becomes a Take (its audible audio at the output rate).

Speech goes through an engine, in parallel worker processes when it is worth it, and through
the content-addressed cache. Clips and stings are Takes too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

from bulletin.audio import Audio, read_audio, resample
from bulletin.cache import TakeCache, content_key
from bulletin.effects import apply_effect
from bulletin.engines import get_engine
from bulletin.errors import BulletinError
from bulletin.sounds import builtin
from bulletin.story import Segment, Sound, Story
from bulletin.voices import Preset

# below this, a sample is silence when finding the audible span of a take (-50 dBFS)
SILENCE_LEVEL = 10 ** (-50 / 20)
# worker processes cost about a third of a second each to start: use them only for more work
PARALLEL_MIN_SECONDS = 1.5


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
             "rate": self.rate, "effect": self.effect, "rate_hz": self.rate_hz, "v": 1}
        )


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


def speak(job: SpeechJob) -> np.ndarray:
    """Make one speech take (runs in a worker process or in this one)."""
    engine = get_engine(job.preset.engine)
    raw = audible(engine.synthesize(job.text, job.preset, job.rate))
    if raw.samples.shape[0] == 0:
        raise BulletinError(f"{job.preset.engine} produced only silence for {job.text[:40]!r}")
    return resample(apply_effect(raw, job.effect), job.rate_hz).samples


def speech_jobs(story: Story, voices: dict[int, Preset], rate_hz: int) -> dict[int, SpeechJob]:
    """The speech job of every speech segment, by segment index."""
    return {
        s.index: SpeechJob(respell(s.text or "", story.pronounce), voices[s.index], s.rate, s.effect or "none", rate_hz)
        for s in story.segments
        if s.kind == "speech"
    }


def synthesize_speech(
    jobs: dict[int, SpeechJob],
    cache: TakeCache | None,
    workers: int,
    on_take: Callable[[int], None] = lambda index: None,
) -> dict[int, Audio]:
    """Takes for speech jobs: from the cache where it has them, else from the engines."""
    takes: dict[int, Audio] = {}
    todo: dict[int, tuple[SpeechJob, str]] = {}
    for index, job in jobs.items():
        key = job.key(get_engine(job.preset.engine).version())
        hit = cache.get(key) if cache else None
        if hit is not None:
            takes[index] = Audio(hit, job.rate_hz)
            on_take(index)
        else:
            todo[index] = (job, key)
    seconds = sum(len(j.text) / get_engine(j.preset.engine).chars_per_second for j, _ in todo.values())
    if workers > 1 and len(todo) > 1 and seconds > PARALLEL_MIN_SECONDS:
        made = _in_workers(todo, workers, on_take)
    else:
        made = {}
        for index, (job, _) in todo.items():
            made[index] = _speak_segment(index, job)
            on_take(index)
    for index, samples in made.items():
        job, key = todo[index]
        if cache:
            cache.put(key, samples)
        takes[index] = Audio(samples, job.rate_hz)
    if cache and todo:
        cache.prune()
    return takes


def _speak_segment(index: int, job: SpeechJob) -> np.ndarray:
    try:
        return speak(job)
    except BulletinError as error:
        raise BulletinError(f"segment {index}: {error}") from None


def _in_workers(
    todo: dict[int, tuple[SpeechJob, str]], workers: int, on_take: Callable[[int], None]
) -> dict[int, np.ndarray]:
    # spawn, never fork: an engine initialised in this process must not be copied into a child
    # (a forked espeak-ng or onnxruntime hangs)
    made: dict[int, np.ndarray] = {}
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_speak_segment, index, job): index for index, (job, _) in todo.items()}
        for future, index in futures.items():
            made[index] = future.result()
            on_take(index)
    return made


def sound_take(sound: Sound, rate_hz: int) -> Audio:
    """A sting or bed source at the output rate."""
    if sound.builtin:
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


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
