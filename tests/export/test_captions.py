"""Captions to broadcast rules on generated stories (long sentences, lists, numbers, names),
rendered for real with espeak-ng (--draft: the voice does not matter here, its word times do),
and the cutting itself on word times made up to the edge cases."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bulletin.export.captions import MAX_CHARS, Cue, segment_cues
from bulletin.mix.timeline import Word
from bulletin.pipeline.render import render
from tests.export.caption_rules import check_captions

TITLED = ["President Moon Jae-in", "Foreign Minister Kang Kyung-wha", "Dr. Ana Lopez", "Rep. Eliot Engel",
          "Secretary General Antonio Guterres", "Prime Minister Shinzo Abe"]
AMOUNTS = ["15 percent", "3 million dollars", "40 kilometres", "12 hours", "7 billion won", "2,500 troops"]
PLACES = ["Seoul", "Tokyo", "Busan", "Washington", "Osaka", "Incheon", "Daegu", "Kyoto"]
CLAUSES = ["officials said on Thursday", "according to a statement released late in the evening",
           "despite months of talks between the two governments", "which had been expected for weeks",
           "while markets in the region remained calm", "after a meeting that lasted well into the night"]


def generated_story(seed: int) -> tuple[str, list[str]]:
    """A story of long sentences, lists, numbers with units and titled names; and those names
    and amounts (which no caption may part)."""
    rng = random.Random(seed)
    protected: list[str] = []
    segments = []
    for n in range(4):
        who, amount = rng.choice(TITLED), rng.choice(AMOUNTS)
        protected += [who, amount]
        places = rng.sample(PLACES, 4)
        long = (f"{who} said on {rng.choice(['Monday', 'Friday'])} that the plan, {rng.choice(CLAUSES)}, would cost "
                f"{amount} and reach {', '.join(places[:3])} and {places[3]} before the end of the year, "
                f"{rng.choice(CLAUSES)}, and that the government would not change its mind on the matter "
                f"under any circumstances whatsoever")
        segments.append(f"      - {'anchor' if n % 2 == 0 else 'lee'}: \"{long}. Thank you.\"")
    segments.append("      - anchor: Yes.")  # shorter than a second on screen: held to one
    story = ("title: Caption Test\ndate: 2026-05-06\nmaster: {formats: [wav], loudness: -24}\n"
             "cast:\n  anchor: {role: anchor, voice: anchor-us}\n"
             "  lee: {role: reporter, voice: reporter-plain, name: Lee Ji-won}\n"
             "stories:\n  - headline: Test\n    segments:\n" + "\n".join(segments) + "\n")
    return story, protected


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], list[str]]:
    folder = tmp_path_factory.mktemp("captions")
    text, protected = generated_story(seed=26)
    (folder / "story.yaml").write_text(text)
    return render(folder / "story.yaml", folder / "out", jobs=1, draft=True).files, protected


def test_generated_stories_captions_meet_every_rule(generated):
    files, protected = generated
    cues = check_captions(files, protected)
    assert any(len(c.lines) == 2 for c in cues) and any(c.speaker == "Lee Ji-won" for c in cues)
    assert cues[-1].lines == ["Yes."] and cues[-1].end_s - cues[-1].start_s >= 1.0 - 0.0015


def _words(text: str, seconds_each: float, start_s: float = 0.0) -> list[Word]:
    return [Word(w, start_s + i * seconds_each, start_s + (i + 1) * seconds_each - 0.05)
            for i, w in enumerate(text.split())]


def test_a_long_run_without_punctuation_is_parted_between_phrases_within_the_limits():
    text = ("the committee voted to approve the budget for the coming year in a session that lasted "
            "until midnight with the support of every member of the ruling party and most of the opposition")
    cues = segment_cues(_words(text, 0.3), "Anchor", until_s=100.0)
    assert " ".join(c.text for c in cues) == text
    for cue in cues:
        assert len(cue.lines) <= 2 and all(len(line) <= MAX_CHARS for line in cue.lines)
        assert 1.0 <= cue.end_s - cue.start_s <= 7.0
    # parted before a phrase (a preposition or conjunction), never after "the" or "of"
    for cue in cues[:-1]:
        assert cue.text.split()[-1] not in ("the", "of", "a", "to", "in")


def test_a_short_sentence_is_held_a_second_but_never_over_the_next_cue():
    held = segment_cues(_words("Yes.", 0.3), "Anchor", until_s=5.0)
    assert held == [Cue("Anchor", 0.0, 1.0, ("Yes.",))]
    squeezed = segment_cues(_words("Yes.", 0.3, start_s=2.0), "Anchor", until_s=2.6, since_s=1.0)
    # the next speaker's cue comes first: up early instead, after the cue before
    assert (squeezed[0].start_s, squeezed[0].end_s) == (pytest.approx(1.6), pytest.approx(2.6))


def test_a_short_last_fragment_joins_its_neighbour():
    text = "The talks ended without a deal late on Friday in the capital. Sad."
    cues = segment_cues(_words(text, 0.08), "Anchor", until_s=1.3)
    assert [c.text for c in cues] == [text]  # "Sad." alone would be under a second
