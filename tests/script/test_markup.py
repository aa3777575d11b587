"""Voice directions in speech text: the parser's tree and written form, positions of bad
tags in the file (block scalars, folded, quoted and plain ones), and malformed texts refused
through the real command line in one positioned line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bulletin.__main__ import main
from bulletin.base.errors import InputError
from bulletin.script.directions import breaks_s, spoken_plan
from bulletin.script.markup import has_markup, parse, serialize, written
from bulletin.script.markuptree import Element, MarkupError
from bulletin.script.story import load_story
from tests.conftest import write_presets

HEAD = """title: Markup
cast:
  kim: {role: anchor, voice: test-one}
segments:
"""


def story(tmp_path: Path, segments: str) -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(HEAD + segments)
    return path


def test_plain_text_is_no_markup_and_reads_as_written():
    for text in ("Good morning.", "AT&T rose 3 < 4 points & more", "a > b", "R&D; Q&A"):
        assert not has_markup(text)
        assert parse(text) == (text,)
        assert written(text) == text


def test_the_tree_its_written_form_and_entities():
    text = ('The <say-as interpret-as="characters">KBS</say-as> &amp; <sub alias="the minister">Kang</sub>'
            ' <break time="500ms"/>said <phoneme alphabet="ipa" ph="kɪm">Kim</phoneme>&#33; '
            '<prosody rate="85%">Slow <emphasis level="strong">now</emphasis>.</prosody>')
    nodes = parse(text)
    names = [n.name for n in nodes if isinstance(n, Element)]
    assert names == ["say-as", "sub", "break", "phoneme", "prosody"]
    assert nodes[2] == " & "
    assert written(text) == "The KBS & Kang said Kim! Slow now."
    assert serialize(parse(serialize(nodes))) == serialize(nodes)  # the canonical form reads back the same
    assert written(serialize(nodes)) == written(text)
    kinds = [(run.kind, run.value, run.rate, run.emphasis) for run in spoken_plan(text) if run.value.strip() or run.kind == "pause"]
    assert ("words", "K, B, S", 1.0, "none") in kinds
    assert ("words", "the minister", 1.0, "none") in kinds
    assert ("ipa", "kɪm", 1.0, "none") in kinds
    assert ("words", "now", 0.85, "strong") in kinds
    assert [r.seconds for r in spoken_plan(text) if r.kind == "pause"] == [0.5]


@pytest.mark.parametrize(("text", "seconds"), [
    ('Prices rose <break time="500ms"/> again.', 0.5),
    ('<break time="1s"/>Prices rose. <break time="700ms"/> Again. <break time="2s"/>', 0.7),
    ('<break time="1s"/> <emphasis>Prices</emphasis>', 0.0),
    ('<break time="1s"/>', 0.0),
])
def test_the_estimate_counts_only_the_breaks_that_add_silence(text, seconds):
    """A break before the first word or after the last adds nothing to the take (the gaps
    around it are the segment's), so `check` does not count it."""
    assert breaks_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("content", "kind", "said"), [
    ("4,512", "cardinal", "four thousand, five hundred and twelve"),
    ("21st", "ordinal", "twenty-first"),
    ("2024", "digits", "two zero two four"),
    ("+82 2-555", "telephone", "plus eight two, two, five five five"),
    ("cat", "characters", "C, A, T"),
])
def test_say_as_reads_its_kind_as_words(content, kind, said):
    runs = spoken_plan(f'<say-as interpret-as="{kind}">{content}</say-as>')
    assert [r.value for r in runs] == [said]


def test_say_as_dates_follow_their_format():
    for text, form in (("2024-03-05", "ymd"), ("05/03/2024", "dmy"), ("03.05.2024", "mdy")):
        runs = spoken_plan(f'<say-as interpret-as="date" format="{form}">{text}</say-as>')
        assert runs[0].value == "March fifth, twenty twenty-four"


# twenty malformed texts: (text, what the one line must say)
MALFORMED = [
    ('Wait <break time="500">now.', 'did you mean <break time="500ms"/>?'),
    ('Wait <break time="11s"/> now.', "longer than 10 s"),
    ('Wait <break time="500ms">now.', "did you mean <break time=\"500ms\"/>?"),
    ('Wait <brake time="1s"/> now.', "did you mean 'break'?"),
    ('Wait <break strength="loud"/> now.', "strength"),
    ('Wait <break tme="1s"/> now.', "did you mean 'time'?"),
    ('The <emphasis>news is here.', "<emphasis> is never closed"),
    ('The <emphasis>news</prosody> is here.', "</prosody> does not close <emphasis>"),
    ('The news</emphasis> is here.', "closes no open element"),
    ('<say-as interpret-as="letters">KBS</say-as> here.', "did you mean 'characters'?"),
    ('<say-as interpret-as="cardinal">many</say-as> here.', "cannot read 'many'"),
    ('<sub>GSOMIA</sub> here.', 'needs alias="..."'),
    ('<phoneme ph="kɪm"><phoneme ph="x">Kim</phoneme></phoneme> here.', "cannot be inside <phoneme>"),
    ('<phoneme alphabet="ipa" ph="kɪʙ">Kim</phoneme> here.', "'ʙ' (U+0299"),
    ('<phoneme alphabet="x-sampa" ph="kIm">Kim</phoneme> here.', 'only alphabet="ipa"'),
    ('<prosody rate="0.8">Slow</prosody> here.', 'did you mean rate="80%"?'),
    ('<prosody rate="900%">Fast</prosody> here.', "out of range"),
    ('<prosody pitch="high">Up</prosody> here.', "only rate is taken"),
    ('<speak>Hello there.</speak>', "leave out <speak>"),
    ('Fish &nbsp; chips.', "unknown entity &nbsp;"),
    ('<emphasis level="strong"><emphasis>Very</emphasis></emphasis> much.', "<emphasis> inside <emphasis>"),
    ('Deep ' + '<prosody rate="90%">' * 9 + 'x' + '</prosody>' * 9, "nested more than 8"),
    (f'Huge <sub alias="{"a" * 5000}">x</sub> here.', "the limit is 200"),
    ('<break time="1s"/>', "has no words"),
]


@pytest.mark.parametrize(("text", "says"), MALFORMED)
def test_malformed_markup_is_one_positioned_line_and_exit_2(tmp_path, capsys, text, says):
    write_presets(tmp_path)
    quoted = text.replace("'", "''")
    path = story(tmp_path, f"  - kim: '{quoted}'\n")
    status = main(["check", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert says in err[0], err[0]
    match = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): segment 1\.kim: ", err[0])
    assert match, err[0]
    line, column = int(match.group(1)), int(match.group(2))
    assert line == 5
    source = path.read_text().splitlines()[line - 1]
    # at a tag, an entity, an attribute, or the text itself (where it holds no words)
    assert re.match(r"[<&']|[a-z-]+=", source[column - 1:]), (source, column)


def _place(tmp_path: Path, segments: str) -> tuple[int, int, str]:
    path = story(tmp_path, segments)
    with pytest.raises(InputError) as caught:
        load_story(path)
    problem = caught.value.problems[0]
    line = path.read_text().splitlines()[problem.line - 1]
    return problem.line, problem.column, line[problem.column - 1:]


def test_positions_in_block_folded_quoted_and_plain_scalars(tmp_path):
    bad = '<break time="20s"/>'
    assert _place(tmp_path, f"  - kim: |\n      First line.\n      Then {bad} x.\n") == (7, 12, bad + " x.")
    assert _place(tmp_path, f"  - kim: >\n      Folded line\n      and {bad} x.\n") == (7, 11, bad + " x.")
    assert _place(tmp_path, f"  - kim: Plain line\n      goes on {bad} x.\n") == (6, 15, bad + " x.")
    assert _place(tmp_path, f'  - speaker: kim\n    text: "Say \\"it\\" {bad.replace(chr(34), chr(39))} x."\n')[:2] == (6, 23)
    assert _place(tmp_path, f"  - speaker: kim\n    text: 'It''s {bad} x.'\n") == (6, 18, bad + " x.'")


def test_pronounce_takes_ipa_beside_respellings(tmp_path):
    write_presets(tmp_path)
    path = story(tmp_path, "  - kim: GSOMIA and Kim.\n")
    path.write_text(path.read_text().replace("cast:", 'pronounce:\n  GSOMIA: {ipa: "dʒiː.soʊ.miː.ə"}\n  Kim: Keem\ncast:'))
    loaded = load_story(path)
    assert loaded.phonemes == {"GSOMIA": "dʒiː.soʊ.miː.ə"} and loaded.pronounce == {"Kim": "Keem"}
    path.write_text(path.read_text().replace("dʒiː.soʊ.miː.ə", "dʒiː.ʙ"))
    with pytest.raises(InputError, match=r"story.yaml:3:\d+: pronounce.GSOMIA.ipa: .*'ʙ'"):
        load_story(path)


def test_markup_errors_carry_their_offset():
    with pytest.raises(MarkupError) as caught:
        parse('abc <break time="x"/>')
    assert caught.value.offset == 4
