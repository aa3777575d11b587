"""The story model's own rules: finding a segment by number or id, the loudness range at its
ends, and where a clip may start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletin.base.errors import InputError
from bulletin.script.model import LOUDNESS_RANGE, clip_start_past_end, parse_loudness, slugify
from bulletin.script.story import load_story
from tests.conftest import EXAMPLE


def test_a_segment_is_found_by_number_or_id_and_a_wrong_one_lists_what_there_is(tmp_path: Path):
    story = load_story(EXAMPLE)
    assert story.segment("2").index == 2 and story.segment("signoff").id == "signoff"
    with pytest.raises(InputError) as caught:
        story.segment("signof")
    assert str(caught.value) == (f"{EXAMPLE}: no segment 'signof'; segments are numbered 1 to 17, "
                                 "ids: moon-bite, signoff; did you mean 'signoff'?")
    plain = tmp_path / "story.yaml"
    plain.write_text("title: T\ncast: {anchor: {role: anchor}}\nsegments:\n  - anchor: Hi.\n")
    with pytest.raises(InputError) as caught:
        load_story(plain).segment("x")
    assert str(caught.value) == f"{plain}: no segment 'x'; segments are numbered 1 to 1"


def test_the_loudness_range_includes_its_ends():
    low, high = LOUDNESS_RANGE
    assert (parse_loudness(low), parse_loudness(str(high))) == (low, high)
    assert parse_loudness("podcast") == -16.0 and parse_loudness("broadcast") == -23.0
    for outside in (low - 0.01, high + 0.01):
        with pytest.raises(InputError, match="out of range"):
            parse_loudness(outside)


def test_a_clip_may_start_anywhere_before_its_end():
    assert clip_start_past_end(1.99, 2.0, "a.wav") is None
    assert clip_start_past_end(2.0, 2.0, "a.wav") == "2 is past the end of 'a.wav' (2.00 s long)"


def test_a_title_slug_is_its_words_joined_by_hyphens():
    assert slugify("-- KBS World: Radio News! --") == "kbs-world-radio-news"
    assert slugify("???") == "bulletin"
