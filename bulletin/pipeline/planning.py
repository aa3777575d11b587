"""Plan: load, validate and cast a story, everything a render needs to know before any audio
(`check` shares it with `render` and `preview`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from bulletin.base.errors import InputError, Problem
from bulletin.cast.casting import DRAFT_ENGINES, cast_voices, segment_preset
from bulletin.cast.presets import Preset, load_lexicon, load_presets
from bulletin.engines import ENGINES, engine_problem, get_engine
from bulletin.script.story import Story, load_story


@dataclass(frozen=True)
class Plan:
    story: Story
    presets: dict[str, Preset]
    cast: dict[str, Preset]  # member id -> preset
    voices: dict[int, Preset]  # speech segment index -> preset
    warnings: tuple[str, ...] = ()  # about the casting: a neural engine that cannot load here


def plan(story_path: Path, assets: tuple[Path, ...] = (), *, draft: bool = False) -> Plan:
    """Load, validate and cast: everything a render needs to know before making audio."""
    return cast_story(load_story(story_path, assets), draft=draft)


def cast_story(story: Story, *, draft: bool = False) -> Plan:
    """Cast a loaded story: a preset per member and per speech segment, checked on this machine.
    With `draft`, every member speaks with an espeak-ng preset (fast, for timing checks)."""
    # the default respellings (voices/lexicon.yaml, the project's then the story's); the story's own win
    story = replace(story, pronounce={**load_lexicon(story.folder), **story.pronounce})
    presets = load_presets(story.folder, ENGINES)
    problems_by_name: dict[str, str | None] = {}  # found out only when casting asks

    def problem(preset: Preset) -> str | None:
        # the engine must load and have the preset's voice (piper without its model: no)
        if preset.name not in problems_by_name:
            problems_by_name[preset.name] = preset_problem(preset)
        return problems_by_name[preset.name]

    cast = cast_voices(story, presets, lambda preset: problem(preset) is None, draft=draft)
    engines = DRAFT_ENGINES if draft else ()
    voices = {
        s.index: segment_preset(s.voice, s.speaker or "", cast, presets, engines)
        for s in story.segments
        if s.kind == "speech"
    }
    problems = [Problem(str(story.path), s.line, 1, f"segment {s.index}", why)
                for s in story.segments if s.kind == "speech" and (why := problem(voices[s.index]))]
    if problems:
        raise InputError(problems)
    warnings = () if draft else _fallback_warnings(story, cast, presets, problems_by_name)
    return Plan(story, presets, cast, voices, (*warnings, *_direction_warnings(story, voices)))


def _direction_warnings(story: Story, voices: dict[int, Preset]) -> list[str]:
    """One line per speech segment whose engine cannot honour all of its voice directions."""
    from bulletin.engines.directed import direction_warning

    lines = []
    for s in story.segments:
        if s.directions and (found := direction_warning(s.directions, voices[s.index])):
            direction, why = found
            lines.append(f"{story.path}:{direction.line}:{direction.column}: {s.speaker}: {why}")
    return lines


def preset_problem(preset: Preset) -> str | None:
    """Why `preset` cannot speak on this machine (its engine or its voice is missing), or None."""
    why = engine_problem(preset.engine)
    if why:
        return f"voice {preset.name!r} needs engine {preset.engine!r}: {why}"
    why = get_engine(preset.engine).problem(preset)
    return f"voice {preset.name!r}: {why}" if why else None


def _fallback_warnings(story: Story, cast: dict[str, Preset], presets: dict[str, Preset],
                       problems: dict[str, str | None]) -> tuple[str, ...]:
    """One line when `auto` cast formant voices because the neural engines cannot load here."""
    fallen = [m.id for m in story.cast.values() if m.voice == "auto" and not cast[m.id].neural]
    missing = sorted({p.engine for p in presets.values() if p.neural and problems.get(p.name)})
    if not fallen or not missing:
        return ()
    reasons = "; ".join(f"{engine}: {engine_problem(engine) or 'its voices are missing'}" for engine in missing)
    return (f"{story.path}: casting espeak-ng voices for {', '.join(fallen)}: "
            f"the neural voices cannot be used here ({reasons})",)


def check_output_folder(folder: Path) -> list[Path]:
    """Make the output folder, or refuse it in one line (a file, a read-only place, no
    permission), before any audio is made; called once the story has proved valid. Returns
    the folders it made, deepest last."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"-o/--output: {str(folder)!r} is a file, not a folder")
    made = [f for f in reversed([folder, *folder.parents]) if not f.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".bulletin-probe-"):
            pass
    except OSError as error:
        raise InputError(f"-o/--output: cannot write in {str(folder)!r}: {error.strerror or error}") from None
    return made


@contextmanager
def output_folder(folder: Path) -> Iterator[None]:
    """check_output_folder, and the folders it made removed again if what follows fails (and
    they are still empty): a refused or failed render leaves nothing behind."""
    made = check_output_folder(folder)
    try:
        yield
    except BaseException:
        for f in reversed(made):
            with suppress(OSError):
                f.rmdir()  # only an empty folder goes
        raise
