"""The render pipeline, stage by stage: story -> cast -> takes -> timeline -> master -> files.

`render` makes the whole bulletin, `preview` the same over a few segments; `plan` is what
`check` shares with both (everything up to audio)."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bulletin.base.audio import Audio, release_memory, with_channels
from bulletin.base.errors import InputError, Problem
from bulletin.cast.casting import cast_voices, segment_preset
from bulletin.cast.presets import Preset, load_lexicon, load_presets
from bulletin.engines import ENGINES, engine_problem, get_engine
from bulletin.export.files import Staged, audio_writers, text_files, wav_bytes, write_all
from bulletin.mix.timeline import Timeline, arrange
from bulletin.script.story import MAX_DURATION_S, Story, load_story, parse_loudness
from bulletin.sound.cache import TakeCache
from bulletin.sound.takes import (
    TAKE_LUFS,
    Take,
    TakeStore,
    default_workers,
    sound_takes,
    speech_jobs,
    synthesize_speech,
)

# characters per word, to estimate a speech segment's duration from its preset's pace
CHARS_PER_WORD = 6.4
# and the pause at each punctuation mark inside a text (both fitted to the example's takes)
PAUSE_S = 0.11


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
    return cast_story(load_story(story_path, assets))


def cast_story(story: Story) -> Plan:
    """Cast a loaded story: a preset per member and per speech segment, checked on this machine."""
    # the default respellings (voices/lexicon.yaml, the project's then the story's); the story's own win
    story = replace(story, pronounce={**load_lexicon(story.folder), **story.pronounce})
    presets = load_presets(story.folder, ENGINES)
    usable: dict[str, bool] = {}  # by preset, found out only when `auto` casting asks

    def preset_usable(preset: Preset) -> bool:
        # the engine must load and have the preset's voice (piper without its model: no)
        if preset.name not in usable:
            usable[preset.name] = _preset_problem(preset) is None
        return usable[preset.name]

    cast = cast_voices(story, presets, preset_usable)
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
    pauses = len(re.findall(r"[.!?;:,]\s", segment.text or "")) * PAUSE_S
    return words / (preset.rate_wpm * segment.rate / 60) + pauses


def make_takes(
    p: Plan,
    indices: set[int],
    rate_hz: int,
    *,
    workers: int,
    store: TakeStore,
    on_take: Callable[[int], None] = lambda index: None,
    helpers: ThreadPoolExecutor | None = None,
    sounds: Future | None = None,
) -> tuple[dict[int, Take], dict[int, Take]]:
    """Takes for the segments in `indices`, levelled to TAKE_LUFS (clips then get their gain),
    and the beds (by story) when `sounds` (from `start_sounds`) includes them. Stings, clips and
    beds are made on a helper thread while the engine speaks."""
    with ThreadPoolExecutor(max_workers=HELPERS, thread_name_prefix="takes") if helpers is None else _kept(helpers) as pool:
        if sounds is None:
            sounds = start_sounds(p.story, indices, rate_hz, store, pool, beds=False)
        jobs = {i: j for i, j in speech_jobs(p.story, p.voices, rate_hz).items() if i in indices}
        takes = synthesize_speech(jobs, store, workers, on_take, pool)
        sound, bed = sounds.result()
    for index in sound:
        on_take(index)
    return takes | sound, bed


# threads that make takes beside the engine: stings, clips and beds on one, the effect,
# resampling and levelling of the engine's takes on the others
HELPERS = 3


class _kept:
    """A pool used as a context without shutting it down at the end."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool

    def __enter__(self) -> ThreadPoolExecutor:
        return self.pool

    def __exit__(self, *exc: object) -> None:
        pass


def start_sounds(story: Story, indices: set[int], rate_hz: int, store: TakeStore, pool: ThreadPoolExecutor,
                 beds: bool) -> Future:
    """Start making the sting and clip takes among `indices` (and the beds) on `pool`: they
    need no casting, so a render starts them right after loading the story."""
    segments = [s for s in story.segments if s.index in indices and s.kind in ("sting", "clip")]
    bed_sounds = {part.index: part.bed for part in story.stories if part.bed} if beds else {}
    if not segments and not bed_sounds:
        nothing: Future = Future()
        nothing.set_result(({}, {}))
        return nothing
    return pool.submit(sound_takes, segments, bed_sounds, store, rate_hz)


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
    on_total: Callable[[int], None] = lambda segments: None,
) -> RenderResult:
    """Render the whole bulletin into `out_dir`; InputError before any audio for a bad story."""
    from bulletin.mix.mixdown import Mixdown, master_to  # not needed by preview and check

    target = parse_loudness(loudness) if loudness is not None else None
    on_stage("load")
    story = load_story(Path(story_path), tuple(Path(a) for a in assets))
    if date is not None:
        story = replace(story, date=date)
    on_total(len(story.segments))
    chosen = tuple(formats) if formats else story.master.formats
    rate_hz = story.master.sample_rate
    everything = {s.index for s in story.segments}
    with TakeStore(TakeCache() if use_cache else None) as store, \
            ThreadPoolExecutor(max_workers=HELPERS, thread_name_prefix="takes") as helpers:
        sounds = start_sounds(story, everything, rate_hz, store, helpers, beds=True)
        on_stage("cast")
        p = cast_story(story)
        on_stage("synthesize")
        takes, beds = make_takes(p, everything, rate_hz, workers=jobs or default_workers(), store=store,
                                 on_take=on_take, helpers=helpers, sounds=sounds)
        release_memory()
        on_stage("arrange")
        timeline = arrange(story, {i: t.duration_s for i, t in takes.items()})
        if timeline.duration_s > MAX_DURATION_S:
            raise InputError(f"{story.path}: the bulletin would last {timeline.duration_s / 3600:.1f} h; the limit is 4 h")
        mixdown = Mixdown(timeline, takes, beds, rate_hz)
        with Staged(Path(out_dir), f"{story.slug}-{story.date.isoformat()}") as staged:
            audio_files = {ext: staged.open(ext) for ext in ("wav", "mp3") if ext in chosen}
            mastered = master_to(mixdown, target if target is not None else story.master.target_lufs,
                                 audio_writers(audio_files, story, timeline), on_stage)
            texts = text_files(story, timeline, mastered, p.cast)
            for ext, data in texts.items():
                staged.open(ext).write(data)
        store.prune()
    cue = json.loads(texts["json"])
    return RenderResult(staged.paths, mastered.duration_s, mastered.integrated_lufs, mastered.true_peak_dbtp, cue)


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
    with TakeStore(TakeCache() if use_cache else None) as store:
        takes, _ = make_takes(p, {s.index for s in chosen}, rate_hz, workers=jobs or default_workers(), store=store)
        pieces = [takes[s.index].audio() if s.index in takes else Audio.silence(s.pause_s, rate_hz) for s in chosen]
        store.prune()
    gap = Audio.silence(p.story.master.gap_s, rate_hz)
    pieces = [piece for audio in pieces for piece in (audio, gap)][:-1]
    channels = max(a.channels for a in pieces)
    samples = np.concatenate([with_channels(a, channels).samples for a in pieces])
    audio = Audio(samples, rate_hz)
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > 0.89:  # keep a preview out of clipping without mastering it
        audio = Audio(samples * np.float32(0.89 / peak), rate_hz)
    out_file = Path(out_file)
    written = write_all(out_file.parent, out_file.stem, {out_file.suffix.lstrip(".") or "wav": lambda: wav_bytes(audio)})
    return next(iter(written.values()))


__all__ = ["Plan", "RenderResult", "Timeline", "TAKE_LUFS", "plan", "render", "preview", "estimate_duration_s"]
