"""Speech takes per sentence: the splitter, one engine call per changed sentence after an edit
(counted at the engine), the pause between sentences, and the jobs a cluster runner uses."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from bulletin.cast.presets import Preset, load_presets
from bulletin.pipeline.render import render
from bulletin.sound.cache import TakeCache
from bulletin.sound.sentences import (
    CLAUSE_SHARE,
    EDGE_S,
    MIN_CLAUSE_CHARS,
    PAUSE_RANGE_S,
    assemble_take,
    cached_sentence,
    sentence_jobs,
    sentence_pause_s,
    speech_job,
    split_clauses,
    split_sentences,
    synthesize_sentence,
)
from tests.conftest import count_calls, write_presets

SIX = ("The ministers met in Seoul on Friday. They spoke for three hours. Rep. Eliot Engel of the "
       "U.S. House joined them. Growth was 3.5 percent last year. \"We will see,\" he said. Talks go on.")


@pytest.mark.parametrize(("text", "expected"), [
    (SIX, ["The ministers met in Seoul on Friday.", "They spoke for three hours.",
           "Rep. Eliot Engel of the U.S. House joined them.", "Growth was 3.5 percent last year.",
           "\"We will see,\" he said.", "Talks go on."]),
    ("Dr. Kim arrived at 9 a.m. on Monday. Was it enough? Nobody knows!",
     ["Dr. Kim arrived at 9 a.m. on Monday.", "Was it enough?", "Nobody knows!"]),
    ("Mr. Moon said: \"We will see.\" Then he left.", ["Mr. Moon said: \"We will see.\"", "Then he left."]),
    ("Shares fell 2.4% to $13.50. The index closed at 4,512.3 points.",
     ["Shares fell 2.4% to $13.50.", "The index closed at 4,512.3 points."]),
    ("No full stop at the end", ["No full stop at the end"]),
    ("  One line\n  folded over two.  ", ["One line folded over two."]),
])
def test_split_sentences(text: str, expected: list[str]):
    assert split_sentences(text) == expected


LONG = ("After the court ruled last year that the companies must pay the victims of forced labor, "
        "the government in Tokyo tightened its control of exports; Seoul, in turn, said it would end the pact.")


@pytest.mark.parametrize(("sentence", "longest", "expected"), [
    (LONG, None, [LONG]),
    (LONG, len(LONG), [LONG]),
    # "Seoul," is too short to say on its own: it stays with the clause it opens
    (LONG, 100, ["After the court ruled last year that the companies must pay the victims of forced labor,",
                 "the government in Tokyo tightened its control of exports;",
                 "Seoul, in turn, said it would end the pact."]),
    # no break inside a number, after a closing quote the quote stays with its clause
    ('The index closed at 4,512.3 points, its highest in a decade, and traders spoke of what they called '
     '"a new era," which few had expected, not before the vote.', 60,
     ["The index closed at 4,512.3 points, its highest in a decade,",
      'and traders spoke of what they called "a new era,"', "which few had expected, not before the vote."]),
    ("A long sentence with no clause breaks at all that goes on and on past any limit there is", 20,
     ["A long sentence with no clause breaks at all that goes on and on past any limit there is"]),
])
def test_split_clauses(sentence: str, longest: int | None, expected: list[str]):
    clauses = split_clauses(sentence, longest)
    assert clauses == expected
    assert " ".join(clauses) == sentence
    assert len(clauses) == 1 or all(len(c) >= MIN_CLAUSE_CHARS for c in clauses[:-1])


def test_a_long_neural_sentence_is_voiced_and_cached_clause_by_clause(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch):
    """Kokoro says a long sentence clause by clause: an edit re-synthesizes one clause, and the
    clauses are joined with a shorter pause than sentences."""
    said = count_calls(monkeypatch, "kokoro")
    story = tmp_path / "story.yaml"
    story.write_text("title: Clauses\ndate: 2026-02-03\nmaster: {formats: [wav]}\n"
                     "cast:\n  anchor: {role: anchor, voice: anchor-clear}\n"
                     f"segments:\n  - anchor: '{LONG} Talks go on.'\n")
    render(story, tmp_path / "cold", jobs=1)
    assert said == [*split_clauses(LONG, 100), "Talks go on."]
    job = speech_job(f"{LONG} Talks go on.", load_presets()["anchor-clear"], 1.0, "none", 48000)
    pause_s = sentence_pause_s(job.preset, 1.0)
    assert job.gaps_s == (pause_s * CLAUSE_SHARE, pause_s * CLAUSE_SHARE, pause_s)
    said.clear()
    story.write_text(story.read_text().replace("tightened", "toughened"))
    render(story, tmp_path / "edited", jobs=1)
    assert said == ["the government in Tokyo toughened its control of exports;"]


def story_with(folder: Path, text: str) -> Path:
    write_presets(folder)
    path = folder / "story.yaml"
    # broadcast level (-23 LUFS): at -16 this phone-only espeak-ng story needs all of the
    # limiter's 10 LU, and espeak-ng's takes differ by a few samples from one call to the next,
    # so the render fell either side of the limit with the tests run before it
    path.write_text(f"title: Sentences\ndate: 2026-02-03\nmaster: {{formats: [wav], loudness: broadcast}}\n"
                    f"cast:\n  anchor: {{role: anchor, voice: test-one, effect: phone}}\n"
                    f"segments:\n  - anchor: '{text}'\n  - anchor: Talks go on.\n")
    return path


def test_one_word_edit_synthesizes_one_sentence(tmp_path: Path, engine_calls: list[str]):
    story = story_with(tmp_path, SIX.replace('"', ""))
    cold = render(story, tmp_path / "cold", jobs=1)
    # six sentences; the second segment says the sixth again and is made from it, not spoken
    assert len(engine_calls) == 6
    engine_calls.clear()
    render(story, tmp_path / "warm", jobs=1)
    assert engine_calls == []  # every take from the cache
    story.write_text(story.read_text().replace("three hours", "four hours"))
    edited = render(story, tmp_path / "edited", jobs=1)
    assert engine_calls == ["They spoke for four hours."]
    # the edit changes one sentence's length, and the cue sheet follows it
    spans = [(s["start"], s["end"]) for s in edited.cue["segments"] if s["kind"] == "speech"]
    before = [(s["start"], s["end"]) for s in cold.cue["segments"] if s["kind"] == "speech"]
    assert spans[0][0] == pytest.approx(before[0][0], abs=0.01)
    assert abs((spans[0][1] - spans[0][0]) - (before[0][1] - before[0][0])) < 0.5


def gaps_s(samples: np.ndarray, rate_hz: int, longer_than_s: float = 0.2) -> list[float]:
    """The runs inside `samples` quieter than 40 dB under its peak, longer than `longer_than_s`."""
    quiet = np.abs(samples[:, 0]) < np.abs(samples).max() * 10 ** (-40 / 20)
    runs, length = [], 0
    for is_quiet in quiet:
        if is_quiet:
            length += 1
        elif length:
            runs.append(length / rate_hz)
            length = 0
    return [r for r in runs if r > longer_than_s]


def test_sentences_are_joined_with_the_same_pause(tmp_path: Path):
    preset = load_presets()["anchor-us"]
    job = speech_job("The talks ended. Nobody spoke. Then the minister left the room.", preset, 1.0, "none", 22050)
    assert len(job.sentences) == 3
    pause_s = sentence_pause_s(preset, 1.0)
    assert job.gaps_s == (pause_s, pause_s) and PAUSE_RANGE_S[0] <= pause_s <= PAUSE_RANGE_S[1]
    sentences = [synthesize_sentence(s) for s in job.sentences]
    samples, profile, words = assemble_take(job, sentences)
    expected = sum(s.audio.samples.shape[0] for s in sentences) + 2 * round((pause_s - 2 * EDGE_S) * 22050)
    assert samples.shape == (expected, 1) and profile.shape[0] == 2
    # the words' times follow their sentences into the take: each starts after the one before
    assert words.shape == (len(job.text.split()), 2)
    assert np.all(np.diff(words[:, 0]) >= 0) and np.all(words[:, 1] >= words[:, 0]) and words[-1, 1] <= expected / 22050
    first_of_second = len(job.sentences[0].text.split())
    start_of_second = (sentences[0].audio.samples.shape[0] + round((pause_s - 2 * EDGE_S) * 22050)) / 22050
    assert words[first_of_second, 0] == pytest.approx(start_of_second + sentences[1].words[0, 0], abs=1e-6)
    gaps = gaps_s(samples, 22050)
    assert len(gaps) == 2
    # each sentence was trimmed to its sound: the pauses are the job's, not the engine's
    assert all(abs(g - pause_s) < 0.03 for g in gaps), gaps


def test_pause_follows_the_pace_within_a_newsreaders_range():
    preset = load_presets()["anchor-us"]
    slow, fast = sentence_pause_s(preset, 0.7), sentence_pause_s(preset, 1.4)
    assert PAUSE_RANGE_S[0] <= fast < slow <= PAUSE_RANGE_S[1]


def test_jobs_are_picklable_pure_and_shared(tmp_path: Path):
    preset = load_presets()["anchor-us"]
    national = "The national story is the same everywhere."
    jobs = [speech_job(f"{national} Here is the news for {region}.", preset, 1.0, "none", 22050)
            for region in ("Busan", "Daegu", "Gwangju")]
    unique = sentence_jobs(jobs)
    assert len(unique) == 4  # the national sentence once, and one per region
    copy = pickle.loads(pickle.dumps(unique[0]))
    assert copy == unique[0] and copy.key == unique[0].key
    cache = TakeCache(tmp_path / "cache")
    made = cached_sentence(copy, cache)
    assert made.audio.rate_hz == 22050 and made.audio.samples.ndim == 2 and made.audio.samples.dtype == np.float32
    again = cached_sentence(copy, cache)  # a read now: the same samples and word times
    assert np.array_equal(again.audio.samples, made.audio.samples) and np.array_equal(again.words, made.words)



def test_a_job_for_another_engine_version_is_refused():
    from bulletin.base.errors import BulletinError

    preset = load_presets()["anchor-us"]
    job = speech_job("Hello.", preset, 1.0, "none", 22050, engine_version="espeak-ng 0.1")
    with pytest.raises(BulletinError, match="the job was made for 'espeak-ng 0.1'"):
        synthesize_sentence(job.sentences[0])


def _own_story(folder: Path, top: str, *texts: str) -> Path:
    write_presets(folder)
    path = folder / "story.yaml"
    path.write_text(f"title: Own\n{top}master: {{formats: [wav], loudness: -24}}\ncast:\n  anchor: {{role: anchor, voice: test-one}}\n"
                    "segments:\n" + "".join(f"  - anchor: '{text}'\n" for text in texts))
    return path


def _jobs(folder: Path, *texts: str) -> tuple[dict, Preset]:
    """The speech jobs of an own story of `texts`, every segment said by test-one at 22.05 kHz."""
    from bulletin.script.story import load_story
    from bulletin.sound.takes import speech_jobs

    story = load_story(_own_story(folder, "", *texts))
    preset = load_presets(folder)["test-one"]
    return speech_jobs(story, {s.index: preset for s in story.segments}, 22050), preset


def test_a_sentence_the_engine_fails_on_names_the_first_segment_that_says_it(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch):
    from bulletin.base.errors import BulletinError
    from bulletin.engines import get_engine

    engine = get_engine("espeak")
    real = engine.synthesize

    def synthesize(text: str, *args: object, **kwargs: object) -> object:
        if "Kaboom" in text:  # a fault injected at the engine, for one sentence
            raise BulletinError("espeak-ng could not say it")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(engine, "synthesize", synthesize)
    # sentences no other test says: what this one caches changes no other test's engine calls
    story = _own_story(tmp_path, "language: en\n", "Hello from the faults desk.", "Kaboom, it said.", "Kaboom, it said.")
    with pytest.raises(BulletinError) as caught:
        render(story, tmp_path / "out", jobs=1)
    assert str(caught.value) == "segment 2: espeak-ng could not say it"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_default_workers_is_one_per_core(monkeypatch: pytest.MonkeyPatch):
    import os

    from bulletin.sound.takes import default_workers

    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_workers() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one
    assert default_workers() == 1


def test_respellings_are_whole_words_case_sensitive_longest_first():
    from bulletin.sound.takes import respell

    pronounce = {"GSOMIA": "jee-so-mee-ah", "Moon": "Mun", "Jae-in": "Jeh-in"}
    assert respell("GSOMIA, said Moon. (GSOMIA!)", pronounce) == "jee-so-mee-ah, said Mun. (jee-so-mee-ah!)"
    # not inside other words, nor in hyphenated ones, nor in another case
    assert respell("GSOMIAs Moonlight Honeymoon moon Moon-like", pronounce) == "GSOMIAs Moonlight Honeymoon moon Moon-like"
    assert respell("Moon Jae-in", pronounce) == "Mun Jeh-in"
    # where one respelled word begins another, the longer wins, in whichever order they are given
    assert respell("the U.S.A. and the U.S.", {"U.S": "you ess", "U.S.A": "you ess ay"}) == "the you ess ay. and the you ess."
    assert respell("Moon", {}) == "Moon"


def test_the_storys_language_sets_the_sentence_rules(tmp_path: Path, engine_calls: list[str]):
    # "3. Oktober" is a German date, not the end of a sentence; in English it would be
    text = "Er kam am 3. Oktober an. Dann ging er."
    assert split_sentences(text, "en") == ["Er kam am 3.", "Oktober an.", "Dann ging er."]
    story = _own_story(tmp_path, "language: de\n", text)
    render(story, tmp_path / "out", jobs=1)
    assert engine_calls[:2] == ["Er kam am 3. Oktober an.", "Dann ging er."]


def test_every_speech_take_is_made_and_reported_once_by_its_segment(tmp_path: Path):
    from bulletin.sound.store import TakeStore
    from bulletin.sound.takes import synthesize_speech

    jobs, _ = _jobs(tmp_path, "Reported once here.", "And once there.", "Reported once here.")
    reported: list[int] = []
    takes = synthesize_speech(jobs, TakeStore(None), workers=1, on_take=reported.append)
    assert sorted(reported) == sorted(takes) == [1, 2, 3]
    assert takes[1] is takes[3] and takes[1] is not takes[2]  # one take for a text said twice


@pytest.mark.parametrize("jobs", [1, 2])
def test_worker_processes_are_started_only_for_enough_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int):
    # a few short sentences: starting a worker (a third of a second) would cost more than it saves
    from bulletin.sound import synthesis

    def no_workers(*args: object, **kwargs: object) -> None:
        raise AssertionError("worker processes were started")

    monkeypatch.setattr(synthesis, "in_workers", no_workers)
    story = _own_story(tmp_path, "", f"Short, at {jobs} jobs. Also short.", f"Short again, at {jobs} jobs.")
    assert render(story, tmp_path / "out", jobs=jobs).duration_s > 0


def test_enough_work_goes_to_worker_processes_and_gives_the_same_takes(tmp_path: Path):
    from bulletin.sound.loudness import integrated_lufs
    from bulletin.sound.store import TAKE_LUFS, TakeStore
    from bulletin.sound.takes import synthesize_speech

    texts = [f"Item {n} of the news today runs for a few seconds. It has a second sentence." for n in range(4)]
    jobs, _ = _jobs(tmp_path, *texts)
    here = synthesize_speech(jobs, TakeStore(None), workers=1)
    there = synthesize_speech(jobs, TakeStore(None), workers=2)
    assert sorted(there) == sorted(here) == [1, 2, 3, 4]
    for index, take in here.items():
        # espeak-ng's en-us varies by a few samples from one process to another, never more
        assert there[index].frames == pytest.approx(take.frames, rel=0.002)
        assert integrated_lufs(there[index].audio()) == pytest.approx(TAKE_LUFS, abs=0.01)


def test_a_storys_speech_jobs_are_keyed_by_the_engines_version(tmp_path: Path):
    # an upgraded engine sounds different: its takes must not come from the old one's cache
    from bulletin.engines import get_engine

    jobs, preset = _jobs(tmp_path, "One sentence here.")
    job = jobs[1]
    version = get_engine(preset.engine).version()
    assert job.sentences[0].engine_version == version
    assert job.key == speech_job("One sentence here.", preset, 1.0, "none", 22050, engine_version=version).key
    assert job.key != speech_job("One sentence here.", preset, 1.0, "none", 22050, engine_version="0").key
