"""The render pipeline, stage by stage: story -> cast -> takes -> timeline -> master -> files.

`render` makes the whole bulletin, `preview` the same over a few segments; `plan` is what
`check` shares with both (everything up to audio)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bulletin.base.audio import Audio, release_memory, with_channels
from bulletin.base.errors import InputError
from bulletin.export.files import Staged, audio_writers, text_files
from bulletin.export.names import output_stem
from bulletin.export.onair import air_window, on_air, stamp_loudness
from bulletin.export.single import audio_path, write_audio
from bulletin.mix.timeline import Timeline, arrange
from bulletin.pipeline.checking import estimated_durations
from bulletin.pipeline.estimate import estimate_error, roughly_timed, speech_estimates
from bulletin.pipeline.fitting import Fit, fit_to_post, fitted_timeline, fixed_length, post_seconds
from bulletin.pipeline.planning import Plan, cast_story, output_folder, plan
from bulletin.pipeline.progress import Progress, Tracker
from bulletin.pipeline.space import MoreSpace, check_preview_space, check_render_space
from bulletin.script.story import MAX_DURATION_S, Air, Story, load_story, parse_loudness
from bulletin.sound.cache import open_cache
from bulletin.sound.takes import (
    TAKE_LUFS,
    Take,
    TakeStore,
    default_workers,
    sound_takes,
    speech_jobs,
    synthesize_speech,
)
from bulletin.sound.words import written_words


@dataclass(frozen=True)
class RenderResult:
    files: dict[str, Path]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    cue: dict
    warnings: tuple[str, ...] = ()  # what the casting warned of (also passed to `on_warning`)


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
    pace: float = 1.0,
) -> tuple[dict[int, Take], dict[int, Take]]:
    """Takes for the segments in `indices`, levelled to TAKE_LUFS (clips then get their gain),
    and the beds (by story) when `sounds` (from `start_sounds`) includes them. Stings, clips and
    beds are made on a helper thread while the engine speaks."""
    with ThreadPoolExecutor(max_workers=HELPERS, thread_name_prefix="takes") if helpers is None else _kept(helpers) as pool:
        if sounds is None:
            sounds = start_sounds(p.story, indices, rate_hz, store, pool, beds=False)
        jobs = {i: j for i, j in speech_jobs(p.story, p.voices, rate_hz, pace).items() if i in indices}
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
    loudness_best_effort: bool = False,
    duration: str | float | None = None,
    duration_best_effort: bool = False,
    jobs: int | None = None,
    use_cache: bool = True,
    assets: tuple[Path, ...] | list[Path] = (),
    date: datetime.date | None = None,
    draft: bool = False,
    air: Air | None = None,
    now: datetime.datetime | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_warning: Callable[[str], None] = lambda line: None,
    on_stage: Callable[[str], None] = lambda stage: None,
    on_take: Callable[[int], None] = lambda index: None,
    on_total: Callable[[int], None] = lambda segments: None,
    more_space: MoreSpace | None = None,
) -> RenderResult:
    """Render the whole bulletin into `out_dir`; InputError before any audio for a bad story
    or an output folder that cannot be written (found right after the story loads: nothing is
    cast, loaded, cached or synthesized before), BulletinError before synthesis when the files
    cannot fit on its disk (`more_space`: what else the caller will write, to check with it).

    `draft` casts every member with espeak-ng presets (fast, for timing checks). Progress comes
    as `on_progress(Progress(stage, done, total, elapsed_s))` (stages in progress.STAGES;
    `done` of `total` takes while synthesizing); `on_stage`, `on_take` and `on_total` are the
    same news in the older form. Casting warnings (a neural engine that cannot load here) go to
    `on_warning`, one line each, and into the result, as do the WAV's chunks' (text made ASCII).

    `air` (a nightly job's `air:`) overrides the story's `air:` key by key; `now` is the render's
    time: the start of the air window where none is given (default: this moment).

    `duration` (seconds or "M:SS"; else the story's `master.duration`) fits the bulletin to
    exactly that length (see fitting.py): DoesNotFit before anything is written where it
    cannot, unless `duration_best_effort` (the nearest, said in a warning and the cue sheet)."""
    target = parse_loudness(loudness) if loudness is not None else None
    post_s = post_seconds(duration)
    workers = _workers(jobs)
    tracker = Tracker(on_progress, on_stage, on_take)
    tracker.stage("load")
    story = load_story(Path(story_path), tuple(Path(a) for a in assets))
    if date is not None:
        story = replace(story, date=date)
    if air is not None:
        story = replace(story, air=air.over(story.air))
    now = now or datetime.datetime.now().astimezone()
    air_window(story.air or Air(), story.date, now)  # a kill date before the start: refused before any audio
    on_total(len(story.segments))
    chosen = tuple(formats) if formats else story.master.formats
    rate_hz = story.master.sample_rate
    everything = {s.index for s in story.segments}
    with output_folder(Path(out_dir)):
        tracker.stage("cast")
        p = cast_story(story, draft=draft)
        check_render_space(p, Path(out_dir), chosen, more_space)
        with TakeStore(open_cache() if use_cache else None) as store, \
                ThreadPoolExecutor(max_workers=HELPERS, thread_name_prefix="takes") as helpers:
            sounds = start_sounds(story, everything, rate_hz, store, helpers, beds=True)
            for line in p.warnings:
                on_warning(line)
            tracker.stage("synthesize", sum(s.kind != "pause" for s in story.segments))
            post_s = post_s if post_s is not None else story.master.duration_s
            fit: Fit | None = None
            if post_s is None:
                takes, beds = make_takes(p, everything, rate_hz, workers=workers, store=store,
                                         on_take=tracker.take, helpers=helpers, sounds=sounds)
            else:
                takes, beds, fit = _fitted_takes(p, post_s, sounds, store, helpers, tracker, workers,
                                                 duration_best_effort)
                if fit.note:
                    on_warning(f"{story.path}: {fit.note}; rendered {fit.off_s:+.2f} s off the post (best effort)")
            release_memory()
            result = finish(p, takes, beds, Path(out_dir), chosen, target, tracker.stage,
                            loudness_best_effort, now, on_warning, fit)
            store.prune()
        return result


def finish(p: Plan, takes: dict[int, Take], beds: dict[int, Take], out_dir: Path, formats: tuple[str, ...],
           target_lufs: float | None, on_stage: Callable[[str], None] = lambda stage: None,
           best_effort: bool = False, now: datetime.datetime | None = None,
           on_warning: Callable[[str], None] = lambda line: None, fit: Fit | None = None) -> RenderResult:
    """Arrange, mix, master and write the files of a bulletin whose takes are made (`render`'s
    last stages; a cluster runs them on a worker, from takes made by other tasks). `now` is the
    render's time for the WAV's bext and cart chunks (default: this moment); what writing them
    changed (text made ASCII, cut) goes to `on_warning` and into the result. With `fit`, on the
    fitted timeline."""
    from bulletin.mix.master import master_to  # not needed by preview and check
    from bulletin.mix.mixdown import Mixdown

    story = p.story
    on_stage("arrange")
    said = {s.index: written_words(s, takes[s.index], story.pronounce) for s in story.segments if s.index in takes}
    durations = {i: t.duration_s for i, t in takes.items()}
    timeline = arrange(story, durations, said) if fit is None else fitted_timeline(story, durations, fit, said)
    if timeline.duration_s > MAX_DURATION_S:
        raise InputError(f"{story.path}: the bulletin would last {timeline.duration_s / 3600:.1f} h; the limit is 4 h")
    mixdown = Mixdown(timeline, takes, beds, story.master.sample_rate)
    air = on_air(story, timeline, mixdown.rate_hz, mixdown.channels, now, mixdown.frames)
    for line in air.warnings:
        on_warning(line)
    with Staged(out_dir, output_stem(story.title, story.date)) as staged:
        audio_files = {ext: staged.open(ext) for ext in ("wav", "mp3") if ext in formats}
        writers = audio_writers(audio_files, story, timeline, air.chunks())
        mastered = master_to(mixdown, target_lufs if target_lufs is not None else story.master.target_lufs,
                             writers, on_stage, best_effort)
        on_stage("write")
        texts = text_files(story, timeline, mastered, p.cast, stamp_loudness(writers, air, mastered),
                           fit.cue() if fit is not None else None)
        for ext, data in texts.items():
            staged.open(ext).write(data)
    cue = json.loads(texts["json"])
    return RenderResult(staged.paths, mastered.duration_s, mastered.integrated_lufs, mastered.true_peak_dbtp, cue,
                        (*p.warnings, *air.warnings))


def _fitted_takes(p: Plan, post_s: float, sounds: Future, store: TakeStore, helpers: ThreadPoolExecutor,
                  tracker: Tracker, workers: int, best_effort: bool) -> tuple[dict[int, Take], dict[int, Take], Fit]:
    """The takes of a bulletin fitted to `post_s` (see fitting.fit_to_post): speech at the
    fit's pace, stings and clips as they are, the beds."""
    rate_hz = p.story.master.sample_rate
    speech = {s.index for s in p.story.segments if s.kind == "speech"}
    spoken: dict[int, Take] = {}
    done: Future = Future()
    done.set_result(({}, {}))

    def speak_at(pace: float, indices: set[int] | None) -> dict[int, float]:
        if spoken:  # after the voices' first segments, or a pass at another pace: count again
            tracker.stage("synthesize", len(speech))
        spoken.clear()
        spoken.update(make_takes(p, speech if indices is None else indices, rate_hz, workers=workers, store=store,
                                 on_take=tracker.take, helpers=helpers, sounds=done, pace=pace)[0])
        return {i: t.duration_s for i, t in spoken.items()}

    def cached(pace: float) -> float:
        jobs = speech_jobs(p.story, p.voices, rate_hz, pace)
        return sum(store.cache.has(j.key) for j in jobs.values()) / max(len(jobs), 1) if store.cache else 0.0

    sounds_s = estimated_durations(p, fixed_length(p.story))
    fit, _ = fit_to_post(p.story, sounds_s, lambda pace: speech_estimates(p, pace), speak_at, post_s,
                         p.story.master.pace_limit, voice_of=roughly_timed(p),
                         cached=cached, best_effort=best_effort, error=estimate_error(p))
    sound, beds = sounds.result()
    for index in sound:
        tracker.take(index)
    return spoken | sound, beds, fit


def _workers(jobs: int | None) -> int:
    if jobs is not None and jobs < 1:
        raise InputError(f"--jobs: {jobs} is not a number of processes (at least 1)")
    return jobs or default_workers()


# what a preview may be written as: it is unmastered WAV data


def preview(
    story_path: Path,
    refs: list[str],
    out_file: Path,
    *,
    assets: tuple[Path, ...] = (),
    use_cache: bool = True,
    jobs: int | None = None,
    draft: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    on_warning: Callable[[str], None] = lambda line: None,
    on_words: Callable[[list[tuple[str, float, float]]], None] = lambda words: None,
) -> Path:
    """The named segments back to back in one WAV or MP3 (by `out_file`'s suffix), each with its
    voice, effect and level, scaled down where it would clip. Stages as `render`'s: load, cast,
    synthesize, then encode (an MP3) and write; the output's folder is checked as the story
    loads, the space on its disk before synthesis. `on_words` gets every written word said in
    it with its start and end in seconds from the file's start."""
    out_file = audio_path(Path(out_file), "a preview")
    workers = _workers(jobs)
    tracker = Tracker(on_progress)
    tracker.stage("load")
    story = load_story(Path(story_path), tuple(Path(a) for a in assets))
    chosen = [story.segment(ref) for ref in refs]
    with output_folder(out_file.parent):
        tracker.stage("cast")
        p = cast_story(story, draft=draft)
        check_preview_space(p, chosen, out_file)
        for line in p.warnings:
            on_warning(line)
        rate_hz = p.story.master.sample_rate
        tracker.stage("synthesize", sum(s.kind != "pause" for s in chosen))
        with TakeStore(open_cache() if use_cache else None) as store:
            takes, _ = make_takes(p, {s.index for s in chosen}, rate_hz, workers=workers, store=store,
                                  on_take=tracker.take)
            pieces = [takes[s.index].audio() if s.index in takes else Audio.silence(s.pause_s, rate_hz) for s in chosen]
            store.prune()
        gap = Audio.silence(p.story.master.gap_s, rate_hz)
        said, at = [], 0.0
        for s, piece in zip(chosen, pieces, strict=True):
            if s.index in takes:
                said += [(w, at + a, at + b) for w, a, b in written_words(s, takes[s.index], p.story.pronounce)]
            at += piece.duration_s + gap.duration_s
        on_words(said)
        pieces = [piece for audio in pieces for piece in (audio, gap)][:-1]
        channels = max(a.channels for a in pieces)
        samples = np.concatenate([with_channels(a, channels).samples for a in pieces])
        return write_audio(out_file, Audio(samples, rate_hz), "a preview", on_stage=tracker.stage)


__all__ = ["Plan", "RenderResult", "Timeline", "TAKE_LUFS", "plan", "render", "finish", "preview"]
