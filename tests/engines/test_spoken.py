"""The spoken form the neural engines phonemize: full stops only where sentences end."""

from __future__ import annotations

import pytest

from bulletin.engines.kokoro import speakable
from bulletin.engines.spoken import sentences, spoken


@pytest.mark.parametrize(("text", "expected"), [
    ("The U.S. said so.", "The US said so."),
    ("Made in the U.S.", "Made in the US."),
    ("U.S.-led talks began at 9 a.m. Friday.", "US-led talks began at 9 AM Friday."),
    ("Rep. Eliot Engel met Sen. Kim and Gov. Lee.", "Representative Eliot Engel met Senator Kim and Governor Lee."),
    ("Mr. Moon and Dr. Lee of No. 10 met on Jan. 5.", "Mr Moon and Dr Lee of number 10 met on January 5."),
    ("John F. Kennedy grew 3.5 percent", "John F Kennedy grew 3 point 5 percent"),
    ('He said "the U.N." and left.', 'He said "the UN" and left.'),
    ("Well... we will see.", "Well... we will see."),
    ("  One line\n folded.  ", "One line folded."),
    ("after the labor cases,", "after the labor cases,"),
])
def test_spoken_form(text: str, expected: str):
    assert spoken(text) == expected


def test_every_inner_dot_of_a_sentence_goes():
    """What the renderer hands an engine is one sentence: no full stop is left inside it for a
    model to pause at."""
    said = spoken("Speaking before the meeting, Rep. Eliot Engel of the U.S. House, Lt. Gen. Kim and "
                  "Prof. Park met Cmdr. Choi at 5 p.m. in St. Louis vs. Seoul.")
    assert said.count(".") == 1 and said.endswith(".")


@pytest.mark.parametrize(("text", "expected"), [
    ("Talks go on", "Talks go on."),
    ("Talks go on!", "Talks go on!"),
    ('He said "go."', 'He said "go."'),
    ("after the labor cases,", "after the labor cases,"),  # a clause said on its own goes on
    ("the pact;", "the pact;"),
])
def test_kokoro_ends_every_sentence_but_not_a_clause(text: str, expected: str):
    assert speakable(text) == expected


def test_sentences_keep_abbreviations():
    assert sentences("No. That is all. Room No. 5 is open.") == ["No.", "That is all.", "Room No. 5 is open."]
    assert sentences("Dr. Kim arrived at 9 a.m. on Monday. Was it enough? Nobody knows!") == [
        "Dr. Kim arrived at 9 a.m. on Monday.", "Was it enough?", "Nobody knows!"]
    text = 'He said "Yes." Then Rep. Eliot Engel left the U.S. for Japan. Was it 3.5 percent? Done!'
    assert sentences(text) == ['He said "Yes."', "Then Rep. Eliot Engel left the U.S. for Japan.",
                               "Was it 3.5 percent?", "Done!"]
