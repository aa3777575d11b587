"""`auto` casting: neural presets first where they load, a different one per member, gender
hints respected, the role preferred; `draft` casts espeak-ng presets only; presets that would
sound alike are passed over while another is free."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletin.base.errors import InputError
from bulletin.cast.casting import cast_voices, segment_preset
from bulletin.cast.presets import Preset, load_presets
from bulletin.script.story import load_story

PRESETS = {p.name: p for p in [
    Preset("n-anchor-m", "kokoro", "jm_kumo", roles=("anchor",), gender="male", priority=5),
    Preset("n-anchor-f", "kokoro", "jf_alpha", roles=("anchor",), gender="female", priority=4),
    Preset("n-reporter-f", "kokoro", "jf_nezumi", roles=("reporter",), gender="female"),
    Preset("n-reporter-m", "piper", "en_US-joe-medium", roles=("reporter",), gender="male"),
    Preset("n-official-m", "kokoro", "0.7*jm_kumo+0.3*jf_alpha", roles=("official",), gender="male"),
    Preset("e-anchor-m", "espeak", "en-us+m3", pitch=35, roles=("anchor",), gender="male", priority=5),
    Preset("e-reporter-f", "espeak", "en-us-nyc+f4", roles=("reporter",), gender="female", priority=5),
    Preset("e-reporter-m", "espeak", "en-us+klatt3", roles=("reporter",), gender="male"),
    Preset("e-official-m", "espeak", "en-gb-scotland+benjamin", roles=("official",), gender="male"),
]}


def story(tmp_path: Path, cast: str, segments: str = "") -> object:
    path = tmp_path / "story.yaml"
    path.write_text(f"title: Casting\ncast:\n{cast}segments:\n  - anchor: Good morning.\n{segments}")
    return load_story(path)


def everything(preset: Preset) -> bool:
    return True


def test_auto_casts_neural_presets_by_role_and_distinct(tmp_path):
    s = story(tmp_path, "  anchor: {role: anchor}\n  kim: {role: reporter}\n  moon: {role: official}\n")
    cast = cast_voices(s, PRESETS, everything)
    assert {k: v.name for k, v in cast.items()} == {"anchor": "n-anchor-m", "kim": "n-reporter-f", "moon": "n-official-m"}


def test_gender_hints_win_over_the_role_and_the_priority(tmp_path):
    s = story(tmp_path, "  anchor: {role: anchor, gender: female}\n  kim: {role: reporter, gender: male}\n"
                        "  moon: {role: official, gender: female}\n")
    cast = cast_voices(s, PRESETS, everything)
    assert cast["anchor"].name == "n-anchor-f"
    assert cast["kim"].name == "n-reporter-m"
    assert cast["moon"].gender == "female" and cast["moon"].neural  # the one female voice left
    draft = cast_voices(s, PRESETS, everything, draft=True)
    assert [draft[m].gender for m in ("anchor", "kim")] == ["female", "male"]
    assert all(p.engine == "espeak" for p in draft.values())


def test_neural_presets_come_first_and_formant_ones_only_when_they_run_out(tmp_path):
    members = "".join(f"  m{i}: {{role: official}}\n" for i in range(6))
    s = story(tmp_path, "  anchor: {role: anchor}\n" + members)
    cast = cast_voices(s, PRESETS, everything)
    names = [p.name for p in cast.values()]
    assert len(set(names)) == 7
    assert all(p.neural for p in cast.values() if p.name.startswith("n-")) and sum(p.neural for p in cast.values()) == 5


def test_neural_engines_that_cannot_load_fall_back_to_espeak(tmp_path):
    s = story(tmp_path, "  anchor: {role: anchor}\n  kim: {role: reporter, gender: male}\n")
    cast = cast_voices(s, PRESETS, lambda p: not p.neural)
    assert cast["anchor"].name == "e-anchor-m" and cast["kim"].name == "e-reporter-m"


def test_draft_recasts_named_neural_voices_and_keeps_espeak_ones(tmp_path):
    s = story(tmp_path, "  anchor: {role: anchor, voice: n-anchor-f}\n  kim: {role: reporter, voice: e-reporter-m}\n",
              "  - {speaker: kim, text: Hello., voice: n-reporter-f}\n")
    draft = cast_voices(s, PRESETS, everything, draft=True)
    assert draft["kim"].name == "e-reporter-m"
    assert draft["anchor"].engine == "espeak" and draft["anchor"].name != "e-reporter-m"
    segment = s.segments[1]
    assert segment_preset(segment.voice, "kim", draft, PRESETS, ("espeak",)).name == "e-reporter-m"
    assert segment_preset(segment.voice, "kim", draft, PRESETS).name == "n-reporter-f"
    full = cast_voices(s, PRESETS, everything)
    assert full["anchor"].name == "n-anchor-f"


def test_a_preset_that_sounds_like_one_cast_already_is_passed_over(tmp_path):
    # espeak only: twin is anchor-m at a close pitch and suits the reporter role best
    twin = Preset("e-twin", "espeak", "en-us+m3", pitch=40, roles=("reporter",), gender="male", priority=9)
    presets = {**PRESETS, "e-twin": twin}
    s = story(tmp_path, "  anchor: {role: anchor, voice: e-anchor-m}\n  kim: {role: reporter, gender: male}\n")
    cast = cast_voices(s, presets, lambda p: not p.neural)
    assert cast["kim"].name == "e-reporter-m"


def test_unknown_names_are_positioned_problems(tmp_path):
    s = story(tmp_path, "  anchor: {role: anchor, voice: n-anchor-x}\n", "  - {speaker: anchor, text: Hi., voice: nope}\n")
    with pytest.raises(InputError) as raised:
        cast_voices(s, PRESETS, everything)
    lines = raised.value.lines()
    assert len(lines) == 2
    assert "story.yaml:3:1: cast.anchor.voice: no voice preset 'n-anchor-x'" in lines[0] and "n-anchor-m" in lines[0]
    assert "segment 2.voice: no voice preset 'nope'" in lines[1]


def test_a_cast_that_names_every_voice_asks_no_engine(tmp_path):
    s = story(tmp_path, "  anchor: {role: anchor, voice: n-anchor-m}\n")
    asked = []
    cast = cast_voices(s, PRESETS, lambda p: asked.append(p) or True)
    assert cast["anchor"].name == "n-anchor-m" and asked == []


def test_a_preset_that_says_no_gender_comes_before_one_of_the_other(tmp_path):
    presets = {p.name: p for p in [
        Preset("best-role-male", "kokoro", "jm_kumo", roles=("anchor",), gender="male", priority=9),
        Preset("no-gender", "kokoro", "jf_alpha", roles=("guest",)),
        Preset("z-female", "kokoro", "jf_nezumi", roles=("guest",), gender="female"),  # last by name
    ]}
    s = story(tmp_path, "  anchor: {role: anchor, gender: female}\n")
    assert cast_voices(s, presets, everything)["anchor"].name == "z-female"  # the gender asked, first
    del presets["z-female"]
    assert cast_voices(s, presets, everything)["anchor"].name == "no-gender"  # then one that says none
    s = story(tmp_path, "  anchor: {role: anchor}\n")
    assert cast_voices(s, presets, everything)["anchor"].name == "best-role-male"  # none asked: the role


def test_presets_alike_but_for_their_names_are_cast_by_name(tmp_path):
    twins = {n: Preset(n, "kokoro", "jm_kumo", roles=("anchor",)) for n in ("b-twin", "a-twin", "c-twin")}
    s = story(tmp_path, "  anchor: {role: anchor}\n")
    assert cast_voices(s, twins, everything)["anchor"].name == "a-twin"


def test_with_no_usable_preset_any_preset_is_cast(tmp_path):
    s = story(tmp_path, "  anchor: {role: anchor}\n  kim: {role: reporter}\n")
    cast = cast_voices(s, PRESETS, lambda p: False)
    assert {k: v.name for k, v in cast.items()} == {"anchor": "n-anchor-m", "kim": "n-reporter-f"}


@pytest.mark.parametrize("gender, count", [("female", 5), ("male", 6)])
def test_the_shipped_presets_give_every_hinted_member_a_neural_voice_of_that_gender(tmp_path, gender, count):
    roles = ["anchor", "reporter", "official", "guest", "guest", "official"]
    members = "".join(f"  m{i}: {{role: {roles[i]}, gender: {gender}}}\n" for i in range(1, count))
    s = story(tmp_path, f"  anchor: {{role: anchor, gender: {gender}}}\n" + members)
    cast = cast_voices(s, load_presets(), everything)
    assert all(p.neural and p.gender == gender for p in cast.values()), {m: p.name for m, p in cast.items()}
    assert len({p.name for p in cast.values()}) == count
