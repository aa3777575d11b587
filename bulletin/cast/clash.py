"""Voice clash check: two cast members whose presets would sound alike.

Rule: presets on the same engine voice and variant (same formants, same accent) sound like one
person unless their pitch differs by at least 3 semitones (espeak-ng's `pitch` and each
preset's `shift_semitones` counted together) or their pace by at least 15%. Measured on
espeak-ng 1.52 (en-us+m3, median f0 of one sentence): pitch 25, 40, 45, 60, 70 give 84, 93, 98,
114, 125 Hz, one semitone per 6.5 steps; 3 semitones (20 steps) is the smallest change of mean
pitch alone that listeners reliably hear as another speaker rather than the same one speaking
up. A shift moves the formants too, so it separates Piper's and Kokoro's presets as well
(measured with Resemblyzer: kumo 2 semitones down against 2 up, 0.71).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bulletin.cast.presets import Preset
    from bulletin.script.story import Story

MIN_SEMITONES = 3.0
STEPS_PER_SEMITONE = 6.5  # espeak-ng's pitch scale, measured
MIN_PACE_RATIO = 1.15


# engines whose presets cannot change pitch (Piper and Kokoro ignore it): only the pace tells
# two presets on one of their voices apart
PITCHLESS_ENGINES = ("piper", "kokoro")


def alike(a: Preset, b: Preset) -> bool:
    if a.engine != b.engine or a.voice != b.voice or a.speaker != b.speaker:
        return False
    pace = max(a.rate_wpm, b.rate_wpm) / min(a.rate_wpm, b.rate_wpm)
    return abs(_semitones(a) - _semitones(b)) < MIN_SEMITONES and pace < MIN_PACE_RATIO


def _semitones(preset: Preset) -> float:
    """Where a preset's pitch sits, in semitones above the engine voice's own."""
    base = 0.0 if preset.engine in PITCHLESS_ENGINES else preset.pitch / STEPS_PER_SEMITONE
    return base + preset.shift_semitones


def clashes(story: Story, cast: dict[str, Preset], presets: dict[str, Preset]) -> list[str]:
    """One warning per pair of members who would sound alike, with a suggestion.

    `cast` maps member id to its preset; `presets` are all the presets a suggestion may name.
    """
    warnings = []
    members = list(story.cast.values())
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            pa, pb = cast[a.id], cast[b.id]
            if alike(pa, pb):
                spare = _spare(b.role, pb, cast, presets)
                hint = f"; try voice: {spare.name}" if spare else ""
                warnings.append(f"{story.path}:{b.line}: cast.{b.id}: sounds like {a.id} "
                                f"({pb.name} and {pa.name} are both {pa.engine} {pa.engine_voice}){hint}")
    return warnings


def _spare(role: str, instead: Preset, cast: dict[str, Preset], presets: dict[str, Preset]) -> Preset | None:
    """A preset no member has and none sounds like, of the same kind (neural or not) as the
    one it would replace where possible, suiting `role` where possible."""
    used = {preset.name for preset in cast.values()}
    spare = [q for q in presets.values() if q.name not in used and not any(alike(q, p) for p in cast.values())]
    return min(spare, key=lambda q: (q.neural != instead.neural, role not in q.roles), default=None)
