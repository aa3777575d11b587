"""Who sounds how: a preset for every cast member. Pure: no audio is made here."""

from __future__ import annotations

from collections.abc import Callable

from bulletin.base.errors import InputError, Problem
from bulletin.cast.presets import Preset
from bulletin.script.story import Story
from bulletin.script.yamlnodes import suggest


def cast_voices(
    story: Story, presets: dict[str, Preset], usable: Callable[[Preset], bool]
) -> dict[str, Preset]:
    """A preset per member id. Named presets must exist; `auto` gives every member a preset
    no one else in the bulletin has, preferring presets that suit the member's role and that
    `usable` accepts (its engine is installed)."""
    problems: list[Problem] = []
    chosen: dict[str, Preset] = {}
    file = str(story.path)

    def named(name: str, line: int, where: str) -> Preset | None:
        if name in presets:
            return presets[name]
        problems.append(Problem(file, line, 1, where, f"no voice preset {name!r}" + (suggest(name, list(presets)) or "; see `bulletin voices`")))
        return None

    for member in story.cast.values():
        if member.voice != "auto" and (preset := named(member.voice, member.line, f"cast.{member.id}.voice")):
            chosen[member.id] = preset
    for segment in story.segments:
        if segment.voice and segment.voice != "auto":
            named(segment.voice, segment.line, f"segment {segment.index}.voice")
    if problems:
        raise InputError(problems)

    taken = {p.name for p in chosen.values()}
    for member in story.cast.values():
        if member.id in chosen:
            continue
        candidates = [p for p in presets.values() if usable(p)] or list(presets.values())
        if not candidates:
            raise InputError(f"{file}: no voice presets found; the project's voices/ folder is missing")
        fresh = [p for p in candidates if p.name not in taken] or candidates
        best = min(fresh, key=lambda p: _fit(p, member.role))
        chosen[member.id] = best
        taken.add(best.name)
    return chosen


def _fit(preset: Preset, role: str) -> tuple[int, int, str]:
    """Lower is better: suits the role (earlier in its roles is better), then priority, name."""
    rank = preset.roles.index(role) if role in preset.roles else len(preset.roles) + 10
    return (rank, -preset.priority, preset.name)


def segment_preset(
    segment_voice: str | None, member_id: str, cast: dict[str, Preset], presets: dict[str, Preset]
) -> Preset:
    """The preset one speech segment is spoken with: its own `voice:` or its member's."""
    if segment_voice and segment_voice != "auto":
        return presets[segment_voice]
    return cast[member_id]
