"""Who sounds how: a preset for every cast member. Pure: no audio is made here.

`auto` casting gives every member a preset no one else in the bulletin has. Where the neural
engines load it casts neural presets first; `draft` casts only espeak-ng presets (fast, for
timing checks). Among those it prefers, in this order: a preset of the member's `gender:`, one
that does not sound like a member already cast, one that suits the member's role (earlier in
the preset's roles is better), a higher priority, then the name (so casting is stable).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from bulletin.base.errors import InputError, Problem
from bulletin.cast.clash import alike
from bulletin.cast.presets import Preset
from bulletin.script.story import Member, Story
from bulletin.script.yamlnodes import suggest

# what `--draft` casts: the bundled espeak-ng, fast and on every machine
DRAFT_ENGINES = ("espeak",)


def cast_voices(
    story: Story, presets: dict[str, Preset], usable: Callable[[Preset], bool], *, draft: bool = False
) -> dict[str, Preset]:
    """A preset per member id. Named presets must exist (with `draft`, a named preset on another
    engine is cast `auto` instead); `auto` members get presets that `usable` accepts (their
    engine and voice are on this machine), or any preset when none is usable."""
    chosen = _named_presets(story, presets, draft)
    if len(chosen) == len(story.cast):
        return chosen  # no `auto` member: no engine need be asked whether it loads
    pools = candidate_pools(presets.values(), usable, draft)
    if not any(pools):
        raise InputError(f"{story.path}: no voice presets found; the project's voices/ folder is missing")
    for member in story.cast.values():
        if member.id not in chosen:
            chosen[member.id] = _pick(member, pools, list(chosen.values()))
    return chosen


def _named_presets(story: Story, presets: dict[str, Preset], draft: bool) -> dict[str, Preset]:
    """The members whose `voice:` names a preset; every unknown name (members' and segments')
    is one positioned problem."""
    file = str(story.path)
    problems: list[Problem] = []
    named = [(m.voice, m.line, f"cast.{m.id}.voice") for m in story.cast.values()]
    named += [(s.voice, s.line, f"segment {s.index}.voice") for s in story.segments if s.voice]
    for name, line, where in named:
        if name != "auto" and name not in presets:
            hint = suggest(name, list(presets)) or "; see `bulletin voices`"
            problems.append(Problem(file, line, 1, where, f"no voice preset {name!r}{hint}"))
    if problems:
        raise InputError(problems)
    return {m.id: presets[m.voice] for m in story.cast.values()
            if m.voice != "auto" and (not draft or presets[m.voice].engine in DRAFT_ENGINES)}


def candidate_pools(presets: Iterable[Preset], usable: Callable[[Preset], bool], draft: bool) -> list[list[Preset]]:
    """The presets `auto` may cast, best pool first: neural then formant presets (only espeak-ng
    ones with `draft`), each holding those `usable` accepts; all presets when none is usable."""
    everything = list(presets)
    if draft:
        pools = [[p for p in everything if p.engine in DRAFT_ENGINES]]
    else:
        pools = [[p for p in everything if p.neural], [p for p in everything if not p.neural]]
    found = [[p for p in pool if usable(p)] for pool in pools]
    return found if any(found) else pools


def _pick(member: Member, pools: list[list[Preset]], taken: list[Preset]) -> Preset:
    names = {p.name for p in taken}
    ranked = [(p.name in names, _gender_miss(p, member.gender), tier, any(alike(p, t) for t in taken),
               _role_rank(p, member.role), -p.priority, p.name, p)
              for tier, pool in enumerate(pools) for p in pool]
    return min(ranked, key=lambda row: row[:-1])[-1]


def _gender_miss(preset: Preset, gender: str | None) -> int:
    """0 when the preset is of the asked gender (or none was asked), 1 when the preset says
    none, 2 when it is of the other."""
    if gender is None or preset.gender == gender:
        return 0
    return 1 if preset.gender is None else 2


def _role_rank(preset: Preset, role: str) -> int:
    return preset.roles.index(role) if role in preset.roles else len(preset.roles) + 10


def segment_preset(
    segment_voice: str | None, member_id: str, cast: dict[str, Preset], presets: dict[str, Preset],
    engines: Collection[str] = (),
) -> Preset:
    """The preset one speech segment is spoken with: its own `voice:` or its member's. With
    `engines` (a draft), a segment voice on another engine gives way to the member's."""
    if segment_voice and segment_voice != "auto" and (not engines or presets[segment_voice].engine in engines):
        return presets[segment_voice]
    return cast[member_id]
