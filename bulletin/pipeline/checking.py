"""`check`: the report made from the plan, without rendering the bulletin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulletin.mix.timeline import Timeline, arrange
from bulletin.pipeline.estimate import sound_durations, speech_estimates
from bulletin.pipeline.fitting import Backtime, backtime, clock, post_seconds
from bulletin.pipeline.planning import Plan, plan
from bulletin.script.story import Segment


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
    sounds = sound_durations(p)
    timeline = arrange(p.story, sounds | speech_estimates(p))
    warnings = (*p.warnings, *voice_warnings(p))
    post_s = post_s if post_s is not None else p.story.master.duration_s
    timed = None if post_s is None else backtime(p.story, sounds, lambda pace: speech_estimates(p, pace), post_s,
                                                 p.story.master.pace_limit)
    return CheckResult(p, timeline, warnings, _report(p, timeline, warnings, timed), timed)


def check_report(story_path: Path, assets: tuple[Path, ...] = (), *, draft: bool = False,
                 duration: str | float | None = None) -> tuple[str, bool]:
    """`check`'s report and whether the story passed (it did when no InputError came)."""
    return check(story_path, assets, draft=draft, duration=duration).report, True


def _report(p: Plan, timeline: Timeline, warnings: tuple[str, ...], timed: Backtime | None) -> str:
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
    lines += ["", f"estimated total: {clock(timeline.duration_s)}"]
    if timed is not None:
        lines.append(timed.line())
    lines += [f"warning: {w}" for w in warnings]
    return "\n".join(lines)


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
    text = s.text or (s.sound.label if s.sound else "")
    return f"{who}: {text[:48]}{'...' if len(text) > 48 else ''}"


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
