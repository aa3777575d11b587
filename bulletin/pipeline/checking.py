"""`check`: the report made from the plan, without rendering the bulletin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulletin.base.errors import BulletinError, InputError, Problem
from bulletin.export.onair import OnAir, on_air
from bulletin.mix.timeline import Timeline, arrange
from bulletin.pipeline.estimate import estimate_error, segment_speech_s, speech_estimates
from bulletin.pipeline.fitting import Backtime, backtime, clock, fixed_length, post_seconds
from bulletin.pipeline.planning import Plan, plan
from bulletin.script.story import Segment, clip_start_past_end


@dataclass(frozen=True)
class CheckResult:
    """What `check` finds: the plan, the timeline of estimated durations, warnings, the report."""

    plan: Plan
    timeline: Timeline  # placements with estimated durations (no audio was made)
    warnings: tuple[str, ...]  # the casting's and the voice clash check's
    report: str  # what `bulletin check` prints
    backtime: Backtime | None = None  # the estimate against the post, when there is one


def check(story_path: Path, assets: tuple[Path, ...] = (), *, draft: bool = False,
          duration: str | float | None = None) -> CheckResult:
    """Validate a story as a render would (InputError with positioned problems where it is
    bad), cast it, and estimate every segment's duration; with a post (`duration`, else the
    story's `master.duration`), the estimate against it. `draft`: the cast `--draft` makes."""
    post_s = post_seconds(duration)
    p = plan(Path(story_path), tuple(Path(a) for a in assets), draft=draft)
    durations = estimated_durations(p)
    timeline = arrange(p.story, durations)
    air = on_air(p.story, timeline, p.story.master.sample_rate, 1)
    warnings = (*p.warnings, *voice_warnings(p), *air.warnings)
    post_s = post_s if post_s is not None else p.story.master.duration_s
    sounds = {i: durations[i] for i in fixed_length(p.story)}
    timed = None if post_s is None else backtime(p.story, sounds, lambda pace: speech_estimates(p, pace), post_s,
                                                 p.story.master.pace_limit, estimate_error(p))
    return CheckResult(p, timeline, warnings, _report(p, timeline, warnings, air, timed), timed)


def check_report(story_path: Path, assets: tuple[Path, ...] = (), *, draft: bool = False,
                 duration: str | float | None = None) -> tuple[str, bool]:
    """`check`'s report and whether the story passed (it did when no InputError came)."""
    return check(story_path, assets, draft=draft, duration=duration).report, True


def _report(p: Plan, timeline: Timeline, warnings: tuple[str, ...], air: OnAir, timed: Backtime | None) -> str:
    """The cast table (each member's preset, engine and engine voice), the numbered segments
    with estimated durations, and the warnings."""
    lines = [f"{p.story.title}, {p.story.date.isoformat()}: {len(p.story.segments)} segments, "
             f"{len(p.story.stories)} stories", "", "cast:"]
    rows = [("member", "role", "gender", "name", "preset", "engine", "engine voice")]
    rows += [(m.id, m.role, p.cast[m.id].gender or "-", m.name, p.cast[m.id].name, p.cast[m.id].engine,
              p.cast[m.id].engine_voice) for m in p.story.cast.values()]
    lines += table(rows)
    lines += ["", "segments:"]
    rows = [("#", "story", "kind", "who / what", "start", "est. s")]
    for placement in timeline.placements:
        s = placement.segment
        rows.append((str(s.index), str(s.story), s.kind, _describe(s), clock(placement.start_s),
                     f"{placement.duration_s:.1f}"))
    lines += table(rows)
    lines += ["", f"estimated total: {clock(timeline.duration_s)}", air_line(air)]
    if timed is not None:
        lines.append(timed.line())
    lines += [f"warning: {w}" for w in warnings]
    return "\n".join(lines)


def air_line(air: OnAir) -> str:
    """The air window and the cut, as the WAV's cart chunk will hold them."""
    cart = air.cart
    until = f"until {cart.end:%Y-%m-%d %H:%M:%S} (kill date)" if cart.end else "no kill date"
    starts = f"{cart.start:%Y-%m-%d %H:%M:%S}" + ("" if air.starts_given else " (the render's time)")
    return (f"air: cut {cart.cut_id or '(none)'}, category {cart.category}, from {starts}, {until}; "
            f"outcue {cart.out_cue!r}")


def estimated_durations(p: Plan, indices: set[int] | None = None, *, strict: bool = True,
                        rough: bool = False) -> dict[int, float]:
    """Estimated duration of every segment (or of those in `indices`); reads audio file
    headers, makes no audio. Not `strict` (a render's check of the room it needs): a sound
    file whose header cannot be read is not decoded, and it or a clip starting past its end
    counts 0 s, left for the render itself to report. `rough`: speech from the text's features
    alone, not from an engine's duration model (enough for the room the files need)."""
    problems = []
    out: dict[int, float] = {}
    for s in p.story.segments:
        if indices is not None and s.index not in indices:
            continue
        found = _estimate(p, s, strict, rough)
        if isinstance(found, Problem):
            problems.append(found)
            out[s.index] = 0.0
        elif found is not None:
            out[s.index] = found
    if problems and strict:
        raise InputError(problems)
    return out


def _estimate(p: Plan, s: Segment, strict: bool, rough: bool) -> float | Problem | None:
    """One segment's estimated duration, the problem that keeps it unknown, or None (a pause)."""
    if s.kind == "speech":
        return segment_speech_s(p, s, rough=rough)
    if s.sound is not None and s.sound.builtin:
        from bulletin.sound.builtin import builtin

        return builtin(s.sound.builtin, 22050).duration_s
    if s.sound is None or s.sound.path is None:
        return None
    import soundfile as sf

    try:
        length = sf.info(str(s.sound.path)).duration
    except Exception as error:  # libsndfile's errors and pydub's formats alike
        decoded = _decoded_length(s.sound.path) if strict else None
        if decoded is None:
            return Problem(str(p.story.path), s.line, 1, f"segment {s.index}", f"cannot read {s.sound.label!r}: {error}")
        length = decoded
    if s.kind == "clip" and (why := clip_start_past_end(s.start_s, length, s.sound.label)):
        return Problem(str(p.story.path), s.line, 1, f"segment {s.index}.start", why)
    end = min(s.end_s, length) if s.kind == "clip" and s.end_s is not None else length
    return end - (s.start_s if s.kind == "clip" else 0.0)


def _decoded_length(path: Path) -> float | None:
    """Seconds of a file only a decoder reads (pydub, through ffmpeg), None where it cannot."""
    from bulletin.base.audio import read_audio

    try:
        return read_audio(path).duration_s
    except BulletinError:
        return None


def voice_warnings(p: Plan) -> list[str]:
    """Cast members who would sound alike, with a preset that would not."""
    from bulletin.cast.clash import clashes

    return clashes(p.story, p.cast, p.presets)


def _describe(s: Segment) -> str:
    if s.kind == "pause":
        return f"{s.pause_s:g} s"
    if s.kind == "sting":
        return s.sting or ""
    who = s.speaker or ""
    text = " ".join((s.written or (s.sound.label if s.sound else "")).split())
    return f"{who}: {text[:48]}{'...' if len(text) > 48 else ''}"


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
