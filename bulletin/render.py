"""The render pipeline, stage by stage: story -> cast -> takes -> timeline -> master -> files.

`render` makes the whole bulletin, `preview` the same over a few segments; `plan` is what
`check` shares with both (everything up to audio)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bulletin.audio import Audio
from bulletin.cache import TakeCache
from bulletin.casting import cast_voices, segment_preset
from bulletin.engines import engine_problem, get_engine
from bulletin.errors import BulletinError, InputError, Problem
from bulletin.export import output_files, wav_bytes, write_all
from bulletin.mix import master, mix
from bulletin.story import MAX_DURATION_S, Story, load_story, parse_loudness
from bulletin.takes import clip_take, default_workers, sound_take, speech_jobs, synthesize_speech
from bulletin.timeline import Timeline, arrange
from bulletin.voices import Preset, load_presets

# the level every take is made at before mixing, so voices, clips and stings match
TAKE_LUFS = -20.0
# characters per word, to estimate a speech segment's duration from its preset's pace
CHARS_PER_WORD = 5.7


@dataclass(frozen=True)
class Plan:
    story: Story
    presets: dict[str, Preset]
    cast: dict[str, Preset]  # member id -> preset
    voices: dict[int, Preset]  # speech segment index -> preset


@dataclass(frozen=True)
class RenderResult:
    files: dict[str, Path]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    cue: dict


def plan(story_path: Path, assets: tuple[Path, ...] = ()) -> Plan:
    """Load, validate and cast: everything a render needs to know before making audio."""
    story = load_story(story_path, assets)
    presets = load_presets(story.folder)
    usable = {p.name: engine_problem(p.engine) is None for p in presets.values()}
    cast = cast_voices(story, presets, lambda p: usable[p.name])
    voices = {
        s.index: segment_preset(s.voice, s.speaker or "", cast, presets)
        for s in story.segments
        if s.kind == "speech"
    }
    problems = []
    for s in story.segments:
        if s.kind == "speech" and (why := _preset_problem(voices[s.index])):
            problems.append(Problem(str(story.path), s.line, 1, f"segment {s.index}", why))
    if problems:
        raise InputError(problems)
    return Plan(story, presets, cast, voices)


def _preset_problem(preset: Preset) -> str | None:
    why = engine_problem(preset.engine)
    if why:
        return f"voice {preset.name!r} needs engine {preset.engine!r}: {why}"
    why = get_engine(preset.engine).problem(preset)
    return f"voice {preset.name!r}: {why}" if why else None


def estimate_duration_s(plan: Plan, index: int) -> float:
    """A speech segment's duration from its text and its preset's pace (for `check`)."""
    segment = next(s for s in plan.story.segments if s.index == index)
    preset = plan.voices[index]
    words = len(segment.text or "") / CHARS_PER_WORD
    pauses = len(re.findall(r"[.!?;:,]\s", segment.text or "")) * 0.12
    return words / (preset.rate_wpm * segment.rate / 60) + pauses


def make_takes(
    p: Plan,
    indices: set[int],
    rate_hz: int,
    *,
    workers: int,
    cache: TakeCache | None,
    on_take: Callable[[int], None] = lambda index: None,
) -> dict[int, Audio]:
    """Takes for the segments in `indices`, levelled to TAKE_LUFS (clips then get their gain)."""
    from bulletin.loudness import level_to

    jobs = {i: j for i, j in speech_jobs(p.story, p.voices, rate_hz).items() if i in indices}
    takes = {i: level_to(t, TAKE_LUFS) for i, t in synthesize_speech(jobs, cache, workers, on_take).items()}
    for s in p.story.segments:
        if s.index not in indices or s.kind in ("speech", "pause"):
            continue
        try:
            if s.kind == "clip":
                plain = replace(s, gain_db=0.0)
                take = level_to(clip_take(plain, rate_hz), TAKE_LUFS)
                takes[s.index] = Audio(take.samples * np.float32(10 ** (s.gain_db / 20)), rate_hz)
            else:
                assert s.sound is not None
                takes[s.index] = level_to(sound_take(s.sound, rate_hz), TAKE_LUFS)
        except BulletinError as error:
            message = str(error)
            raise BulletinError(message if message.startswith("segment") else f"segment {s.index}: {message}") from None
        on_take(s.index)
    return takes


def render(
    story_path: Path,
    out_dir: Path,
    *,
    formats: list[str] | None = None,
    loudness: str | float | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    assets: tuple[Path, ...] | list[Path] = (),
    date: datetime.date | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
    on_take: Callable[[int], None] = lambda index: None,
) -> RenderResult:
    """Render the whole bulletin into `out_dir`; InputError before any audio for a bad story."""
    target = parse_loudness(loudness) if loudness is not None else None
    on_stage("load")
    p = plan(Path(story_path), tuple(Path(a) for a in assets))
    story = p.story
    if date is not None:
        story = replace(story, date=date)
        p = replace(p, story=story)
    chosen = tuple(formats) if formats else story.master.formats
    rate_hz = story.master.sample_rate
    on_stage("synthesize")
    cache = TakeCache() if use_cache else None
    takes = make_takes(p, {s.index for s in story.segments}, rate_hz,
                       workers=jobs or default_workers(), cache=cache, on_take=on_take)
    beds = {part.index: sound_take(part.bed, rate_hz) for part in story.stories if part.bed}
    on_stage("arrange")
    timeline = arrange(story, {i: t.duration_s for i, t in takes.items()})
    if timeline.duration_s > MAX_DURATION_S:
        raise InputError(f"{story.path}: the bulletin would last {timeline.duration_s / 3600:.1f} h; the limit is 4 h")
    on_stage("mix")
    mixed = mix(timeline, takes, _levelled_beds(beds), rate_hz)
    on_stage("master")
    mastered = master(mixed, target if target is not None else story.master.target_lufs)
    on_stage("encode")
    makers = output_files(story, timeline, mastered, p.cast, chosen)
    files = write_all(Path(out_dir), f"{story.slug}-{story.date.isoformat()}", makers)
    import json

    cue = json.loads(files["json"].read_text())
    return RenderResult(files, mastered.audio.duration_s, mastered.integrated_lufs, mastered.true_peak_dbtp, cue)


def _levelled_beds(beds: dict[int, Audio]) -> dict[int, Audio]:
    from bulletin.loudness import level_to

    return {i: level_to(b, TAKE_LUFS) for i, b in beds.items()}


def preview(
    story_path: Path,
    refs: list[str],
    out_file: Path,
    *,
    assets: tuple[Path, ...] = (),
    use_cache: bool = True,
    jobs: int | None = None,
) -> Path:
    """The named segments back to back in one WAV, each with its voice, effect and level."""
    p = plan(Path(story_path), assets)
    chosen = [p.story.segment(ref) for ref in refs]
    rate_hz = p.story.master.sample_rate
    takes = make_takes(p, {s.index for s in chosen}, rate_hz, workers=jobs or default_workers(),
                       cache=TakeCache() if use_cache else None)
    gap = Audio.silence(p.story.master.gap_s, rate_hz)
    pieces = []
    for s in chosen:
        pieces.append(takes[s.index] if s.index in takes else Audio.silence(s.pause_s, rate_hz))
        pieces.append(gap)
    channels = max(a.channels for a in pieces)
    from bulletin.audio import with_channels

    samples = np.concatenate([with_channels(a, channels).samples for a in pieces[:-1]])
    audio = Audio(samples, rate_hz)
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > 0.89:  # keep a preview out of clipping without mastering it
        audio = Audio(samples * np.float32(0.89 / peak), rate_hz)
    out_file = Path(out_file)
    written = write_all(out_file.parent, out_file.stem, {out_file.suffix.lstrip(".") or "wav": lambda: wav_bytes(audio)})
    return next(iter(written.values()))


__all__ = ["Plan", "RenderResult", "Timeline", "plan", "render", "preview", "estimate_duration_s"]
