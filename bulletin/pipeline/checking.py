"""`check` and `voices`: reports made from the plan, without rendering the bulletin."""

from __future__ import annotations

from pathlib import Path

from bulletin.base.errors import BulletinError, InputError, Problem
from bulletin.mix.timeline import arrange
from bulletin.pipeline.render import Plan, estimate_duration_s, plan
from bulletin.script.story import Segment


def check_report(story_path: Path, assets: tuple[Path, ...] = ()) -> tuple[str, bool]:
    """The cast table, the numbered segments with estimated durations, and warnings."""
    p = plan(story_path, assets)
    durations = _estimates(p)
    timeline = arrange(p.story, durations)
    lines = [f"{p.story.title}, {p.story.date.isoformat()}: {len(p.story.segments)} segments, "
             f"{len(p.story.stories)} stories", "", "cast:"]
    rows = [("member", "role", "name", "preset", "engine voice")]
    rows += [(m.id, m.role, m.name, p.cast[m.id].name, f"{p.cast[m.id].engine} {p.cast[m.id].voice}")
             for m in p.story.cast.values()]
    lines += _table(rows)
    lines += ["", "segments:"]
    rows = [("#", "story", "kind", "who / what", "start", "est. s")]
    for placement in timeline.placements:
        s = placement.segment
        rows.append((str(s.index), str(s.story), s.kind, _describe(s), _clock(placement.start_s),
                     f"{placement.duration_s:.1f}"))
    lines += _table(rows)
    lines += ["", f"estimated total: {_clock(timeline.duration_s)}"]
    warnings = voice_warnings(p)
    lines += [f"warning: {w}" for w in warnings]
    return "\n".join(lines), True


def _estimates(p: Plan) -> dict[int, float]:
    """Estimated duration of every segment; reads audio file headers, makes no audio."""
    import soundfile as sf

    from bulletin.sound.builtin import builtin

    problems = []
    out: dict[int, float] = {}
    for s in p.story.segments:
        if s.kind == "speech":
            out[s.index] = estimate_duration_s(p, s.index)
        elif s.sound is not None and s.sound.builtin:
            out[s.index] = builtin(s.sound.builtin, 22050).duration_s
        elif s.sound is not None and s.sound.path is not None:
            try:
                length = sf.info(str(s.sound.path)).duration
            except Exception as error:  # libsndfile's errors and pydub's formats alike
                from bulletin.base.audio import read_audio

                try:
                    length = read_audio(s.sound.path).duration_s
                except BulletinError:
                    problems.append(Problem(str(p.story.path), s.line, 1, f"segment {s.index}", f"cannot read {s.sound.label!r}: {error}"))
                    continue
            if s.kind == "clip" and s.start_s >= length:
                problems.append(Problem(str(p.story.path), s.line, 1, f"segment {s.index}.start", f"{s.start_s:g} is past the end of {s.sound.label!r} ({length:.2f} s)"))
                continue
            end = min(s.end_s, length) if s.kind == "clip" and s.end_s is not None else length
            out[s.index] = end - (s.start_s if s.kind == "clip" else 0.0)
    if problems:
        raise InputError(problems)
    return out


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


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def voices_report(name: str | None = None) -> str:
    """The presets (or one) and the engine voices on this machine."""
    from bulletin.cast.presets import load_presets
    from bulletin.engines import ENGINES, engine_problem, get_engine

    presets = load_presets(Path.cwd(), ENGINES)
    if name is not None and name not in presets:
        from bulletin.script.yamlnodes import suggest

        raise InputError(f"no voice preset {name!r}" + (suggest(name, list(presets)) or "; run `bulletin voices`"))
    shown = [presets[name]] if name else list(presets.values())
    rows = [("preset", "engine", "voice", "roles", "description")]
    rows += [(v.name, v.engine, Path(v.voice).name, ",".join(v.roles), v.description) for v in shown]
    lines = ["presets:", *_table(rows), "", "engines:"]
    for engine in ENGINES:
        why = engine_problem(engine)
        if why:
            lines.append(f"  {engine}: not available ({why})")
        else:
            found = get_engine(engine).voices()
            lines.append(f"  {engine} ({get_engine(engine).version()}): {len(found)} voices: " + ", ".join(found[:40]) + (" ..." if len(found) > 40 else ""))
    return "\n".join(lines)


def audition(name: str | None, text: str, out: Path | None) -> Path:
    """Render `text` with preset `name` to a WAV, for listening."""
    import numpy as np

    from bulletin.base.audio import Audio
    from bulletin.cast.presets import load_presets
    from bulletin.engines import ENGINES, get_engine
    from bulletin.export.files import wav_bytes, write_all
    from bulletin.sound.loudness import level_to

    presets = load_presets(Path.cwd(), ENGINES)
    if name is None or name not in presets:
        raise InputError(f"voices --say needs a preset name; one of {', '.join(presets)}")
    preset = presets[name]
    if (why := get_engine(preset.engine).problem(preset)) is not None:
        raise BulletinError(why)
    take = level_to(get_engine(preset.engine).synthesize(text, preset, 1.0), -16.0)
    take = Audio(np.clip(take.samples, -0.89, 0.89), take.rate_hz)
    target = out or Path("output") / f"voice-{name}.wav"
    written = write_all(target.parent, target.stem, {"wav": lambda: wav_bytes(take)})
    return written["wav"]
