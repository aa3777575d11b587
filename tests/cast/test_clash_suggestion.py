"""The suggestion with a clash warning: a free preset that sounds like no member, of the same kind
(neural or not) as the one it would replace, suiting the member's role."""

from __future__ import annotations

from pathlib import Path

from tests.cast.test_clash import STORY


def test_the_suggestion_is_a_free_unlike_preset_of_the_same_kind_suiting_the_role(tmp_path: Path):
    from bulletin.cast.clash import clashes
    from bulletin.cast.presets import Preset
    from bulletin.script.story import load_story

    kumo = Preset("n-one", "kokoro", "jm_kumo", rate_wpm=150, roles=("anchor",))
    twin = Preset("n-two", "kokoro", "jm_kumo", rate_wpm=160, roles=("reporter",))
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    loaded = load_story(story)
    # in the order a worse choice comes first: each is passed over for the reason named
    spares = [
        Preset("n-echo", "kokoro", "jm_kumo", rate_wpm=155, roles=("reporter",)),  # sounds like both
        Preset("n-anchor", "kokoro", "jf_beta", roles=("anchor",)),  # neural, but not a reporter's
        Preset("e-reporter", "espeak", "en-us", roles=("reporter",)),  # a reporter's, but formant
        Preset("n-reporter", "kokoro", "jf_alpha", roles=("reporter",)),
    ]
    presets = {p.name: p for p in (kumo, twin, *spares)}
    [warning] = clashes(loaded, {"anchor": kumo, "kim": twin}, presets)
    assert warning.endswith("; try voice: n-reporter")
    # with every other preset taken or alike, the warning suggests nothing
    [bare] = clashes(loaded, {"anchor": kumo, "kim": twin}, {p.name: p for p in (kumo, twin, spares[0])})
    assert bare.endswith("(n-two and n-one are both kokoro jm_kumo)")


def test_the_clash_rule_at_its_edges():
    import math
    from dataclasses import replace

    from bulletin.cast.clash import MIN_PACE_RATIO, MIN_SEMITONES, STEPS_PER_SEMITONE, alike
    from bulletin.cast.presets import Preset

    step = math.ceil(MIN_SEMITONES * STEPS_PER_SEMITONE)  # espeak-ng pitch steps in 3 semitones

    base = Preset("a", "espeak", "en-us+m3", pitch=40, rate_wpm=160)
    # "differs by at least": the step and the ratio themselves make another speaker
    assert not alike(base, replace(base, name="b", pitch=40 + step))
    assert alike(base, replace(base, name="b", pitch=40 + step - 1))
    assert not alike(base, replace(base, name="b", rate_wpm=round(160 * MIN_PACE_RATIO)))
    assert alike(base, replace(base, name="b", rate_wpm=round(160 * MIN_PACE_RATIO) - 1))
    # an engine that ignores espeak-ng's pitch: any two pitches are one
    kumo = Preset("k", "kokoro", "jm_kumo", pitch=0, rate_wpm=160)
    assert alike(kumo, replace(kumo, name="k2", pitch=100))
