"""Voice directions through the take jobs: a text without markup gives the jobs and keys it
always did; a marked-up text is cut into sentences that carry their own markup, so an edit
of a break re-makes that sentence only; breaks at a cut lengthen the pause there."""

from __future__ import annotations

from pathlib import Path

from bulletin.cast.presets import load_presets
from bulletin.pipeline.render import render
from bulletin.script.markup import written
from bulletin.sound.cache import content_key
from bulletin.sound.directed import directed_pieces
from bulletin.sound.sentences import sentence_pause_s, speech_job, split_pieces
from bulletin.sound.store import CACHE_VERSION
from bulletin.sound.takes import respell, spoken_text
from tests.conftest import write_presets

PLAIN = "The ministers met in Seoul on Friday. They spoke for three hours, and then, as the sun set, left."


def _split(text: str) -> list[tuple[str, bool]]:
    return split_pieces(text, 40)


def _pause(new_sentence: bool) -> float:
    return 0.4 if new_sentence else 0.1


def test_a_text_without_markup_gives_the_jobs_and_keys_it_always_did(tmp_path: Path):
    write_presets(tmp_path)
    preset = load_presets(tmp_path)["test-one"]
    for text in (PLAIN, "AT&T rose 3 < 4 points. R&D; Q&A.", "Kim > Lee."):
        assert spoken_text(text, {"Seoul": "Sole"}, {}) == respell(text, {"Seoul": "Sole"})
        job = speech_job(text, preset, 1.0, "none", 22050, engine_version="v1")
        pieces = [piece for piece, _ in split_pieces(text, None)]
        assert [s.text for s in job.sentences] == pieces
        pause = sentence_pause_s(preset, 1.0)
        assert list(job.gaps_s) == [pause] * (len(pieces) - 1)
        for sentence in job.sentences:  # the key holds what it always held, nothing more
            assert sentence.key == content_key({"engine": "espeak", "version": "v1", "preset": preset.sound_settings(),
                                                "text": sentence.text, "rate": 1.0, "rate_hz": 22050, "v": CACHE_VERSION})


def test_marked_up_text_is_cut_where_its_plain_form_is():
    text = ('Good morning. The winner is <break time="800ms"/> Kim Bum-soo. <break time="1s"/>'
            '<prosody rate="70%">One sentence here. And <emphasis>another</emphasis> one.</prosody> '
            'The <say-as interpret-as="characters">KBS</say-as> report, said Dr. <sub alias="the boss">Lee</sub> today.')
    pieces, gaps = directed_pieces(text, lambda t: split_pieces(t, None), _pause)
    assert pieces == ["Good morning.", 'The winner is <break time="800ms"/> Kim Bum-soo.',
                      '<prosody rate="70%">One sentence here.</prosody>',
                      '<prosody rate="70%">And <emphasis>another</emphasis> one.</prosody>',
                      'The <say-as interpret-as="characters">KBS</say-as> report, said Dr. <sub alias="the boss">Lee</sub> today.']
    assert gaps == [0.4, 0.4 + 1.0, 0.4, 0.4]  # the break between two sentences lengthens that pause
    assert " ".join(written(p) for p in pieces) == written(text)


def test_clauses_of_a_long_sentence_are_cut_too_and_whole_elements_never():
    text = ('They spoke for <say-as interpret-as="cardinal">3</say-as> hours in the hall of the ministry, '
            '<break time="300ms"/> and then, as the <sub alias="evening sun">sun</sub> set over the river, '
            'they left the room in silence without a word to anyone.')
    pieces, gaps = directed_pieces(text, _split, _pause)
    assert len(pieces) > 1 and all(written(p) for p in pieces)
    assert gaps[0] == 0.1 + 0.3
    assert " ".join(written(p) for p in pieces) == " ".join(written(text).split())


def test_ipa_pronunciations_wrap_the_word_and_respellings_skip_the_tags():
    said = spoken_text('GSOMIA and <sub alias="Kim">Seoul</sub> in Seoul.', {"Seoul": "Sole"}, {"GSOMIA": "dʒiː.soʊ"})
    assert said == ('<phoneme alphabet="ipa" ph="dʒiːsoʊ">GSOMIA</phoneme> and <sub alias="Kim">Seoul</sub> in Sole.')
    # a respelling of the same word (the default lexicon's) gives way to the story's IPA
    assert spoken_text("GSOMIA.", {"GSOMIA": "jee-so"}, {"GSOMIA": "dʒiː"}) == '<phoneme alphabet="ipa" ph="dʒiː">GSOMIA</phoneme>.'



def test_editing_a_break_remakes_only_its_sentence(tmp_path: Path, engine_calls: list[str]):
    write_presets(tmp_path)
    path = tmp_path / "story.yaml"
    text = 'The talks ended. Then <break time="500ms"/> the minister left. Nobody spoke.'
    path.write_text("title: Breaks\ndate: 2026-02-03\nmaster: {formats: [wav], loudness: broadcast}\n"
                    f"cast:\n  anchor: {{role: anchor, voice: test-one}}\nsegments:\n  - anchor: '{text}'\n")
    render(path, tmp_path / "cold", jobs=1)
    assert sorted(engine_calls) == sorted(["The talks ended.", "Then,", "the minister left.", "Nobody spoke."])
    engine_calls.clear()
    path.write_text(path.read_text().replace("500ms", "900ms"))
    render(path, tmp_path / "edited", jobs=1)
    assert engine_calls == ["Then,", "the minister left."]
