"""Importing broadcast transcripts: the seed and hand-written variants of its family."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
import yaml

from bulletin.base.errors import InputError
from bulletin.script.transcript import ImportResult, import_transcript
from bulletin.script.transcript.bites import cast_id as _cast_id
from bulletin.script.transcript.bites import parse_speaker as _parse_speaker

DATA = Path(__file__).parents[1] / "data" / "transcripts"
SHARED_SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "kbs-gsomia-2019-11-22.txt"
SEED = DATA / "kbs-gsomia-2019-11-22.txt"
ASEAN = DATA / "kbs-asean-veterans-2019-11-25.txt"  # [Anchor Lead]/[Pkg], numbered, CRLF
COLD = DATA / "kbs-cold-wave-2019-12-03.txt"  # curly quotes, no sign-off, "X reports."
JOBS = DATA / "kbs-youth-jobs-2019-11-28.txt"  # messy: every kind of warning
TWO = DATA / "kbs-two-articles-2019-11-29.txt"  # two pages run together, no numbers

WORD = re.compile(r"[A-Za-z0-9]+")
CAST_ID = re.compile(r"^[A-Za-z0-9_-]+$")
ROLES = {"anchor", "reporter", "official", "guest"}
SEGMENT_KINDS = {"sting", "pause", "clip", "speaker"}


def load(path: Path) -> tuple[dict, ImportResult]:
    result = import_transcript(path)
    return yaml.safe_load(result.story_yaml), result


def speeches(story: dict) -> list[tuple[str, str]]:
    """(speaker, text) of every speech segment, in file order across stories."""
    found = []
    for entry in story["stories"]:
        for segment in entry["segments"]:
            if "speaker" in segment:
                found.append((segment["speaker"], segment["text"]))
            elif not SEGMENT_KINDS & set(segment):
                ((speaker, text),) = segment.items()
                found.append((speaker, text))
    return found


def kinds(segments: list[dict]) -> list[str]:
    """Each segment as its speaker id, or `sting:NAME`."""
    return [
        f"sting:{s['sting']}" if "sting" in s else s.get("speaker") or next(iter(s))
        for s in segments
    ]


def news_words(path: Path, first: int, last: int, skip: set[int]) -> list[str]:
    """The words a listener should hear: the lines of the news text, less the labels
    (`Anchor:`, `[Pkg]`, `[Sound bite: ...]`) and an inline `NAME (TITLE) :`."""
    words: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if first <= number <= last and number not in skip:
            line = re.sub(r"^(\[[^\]]*\]|Anchor:|Report:)", "", line.strip())
            line = re.sub(r"^[^\"“:]*\(.*?\)\s*:", "", line)
            words += WORD.findall(line)
    return words


def check_story_format(story: dict) -> None:
    """The story-format rules (shared/spec/story-format.md) that an import can break."""
    assert set(story) <= {
        "title",
        "date",
        "language",
        "master",
        "pronounce",
        "cast",
        "stings",
        "stories",
    }
    assert isinstance(story["title"], str) and story["title"].strip()
    assert isinstance(story.get("date", datetime.date.today()), datetime.date)
    cast, stings = story["cast"], story["stings"]
    for member_id, member in cast.items():
        assert CAST_ID.match(member_id), member_id
        assert set(member) <= {"role", "name", "title", "voice", "effect"}
        assert member.get("role", member_id) in ROLES
        assert all(isinstance(v, str) and v for v in member.values())
    assert all(isinstance(v, str) and v.startswith("builtin:") for v in stings.values())
    used, ids = set(), []
    for entry in story["stories"]:
        assert set(entry) <= {"headline", "segments", "bed"}
        assert isinstance(entry["headline"], str) and entry["headline"].strip()
        assert 0 < len(entry["segments"]) <= 2000
        for segment in entry["segments"]:
            if "sting" in segment:
                assert segment == {"sting": segment["sting"]} and segment["sting"] in stings
                continue
            if "speaker" in segment:
                assert set(segment) <= {"speaker", "text", "voice", "rate", "effect", "gap", "id"}
                speaker, text = segment["speaker"], segment["text"]
                ids.append(segment.get("id"))
            else:
                assert len(segment) == 1
                ((speaker, text),) = segment.items()
            assert speaker in cast, speaker
            assert isinstance(text, str) and 0 < len(text) <= 10_000
            used.add(speaker)
    assert used == set(cast), "every cast member speaks, and only cast members speak"
    assert len(ids) == len(set(ids)), "segment ids are unique"


ALL_FIXTURES = [SEED, ASEAN, COLD, JOBS, TWO]


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_imports_to_a_valid_story(path: Path) -> None:
    story, result = load(path)
    check_story_format(story)
    first, second = result.story_yaml.splitlines()[:2]
    assert first == "# yaml-language-server: $schema=https://bulletin.invalid/story.schema.json"
    assert second == f"# imported from {path.name}"
    segments = [s for entry in story["stories"] for s in entry["segments"]]
    assert segments[0] == {"sting": "open"} and segments[-1] == {"sting": "close"}
    assert all(w.startswith(f"{path}:") for w in result.warnings)


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.stem)
def test_every_import_loads_with_the_story_loader(path: Path, tmp_path: Path) -> None:
    from bulletin.script.story import load_story

    story_file = tmp_path / "story.yaml"
    story_file.write_text(import_transcript(path).story_yaml, encoding="utf-8")
    loaded = load_story(story_file)
    assert loaded.title and loaded.stories and loaded.segments[0].kind == "sting"


@pytest.mark.parametrize(
    ("path", "first", "last", "skip"),
    [
        (SEED, 13, 40, set()),
        (ASEAN, 14, 49, {27, 30, 35}),  # a speaker line, a photo credit, a heading
        (COLD, 11, 25, set()),
        (JOBS, 8, 27, set()),  # line 28 comes after the sign-off
        (TWO, 9, 25, {13, 18, 20, 22}),  # a speaker line, furniture, the second title
    ],
    ids=lambda v: v.stem if isinstance(v, Path) else "",
)
def test_every_spoken_word_is_kept_in_order(
    path: Path, first: int, last: int, skip: set[int]
) -> None:
    story, _ = load(path)
    heard = [w for _, text in speeches(story) for w in WORD.findall(text)]
    assert heard == news_words(path, first, last, skip)


def test_shared_seed_is_the_fixture() -> None:
    if not SHARED_SEED.exists():
        pytest.skip(f"no shared seed at {SHARED_SEED} (only in the full workspace)")
    assert SHARED_SEED.read_bytes() == SEED.read_bytes()


def test_seed_story() -> None:
    story, _ = load(SEED)
    assert story["title"] == "KBS World Radio News"
    assert story["date"] == datetime.date(2019, 11, 22)
    assert story["stings"] == {"open": "builtin:open", "close": "builtin:close"}
    (entry,) = story["stories"]
    assert entry["headline"] == "Seoul Remains Adamant against Renewing GSOMIA with Tokyo"
    assert kinds(entry["segments"]) == [
        "sting:open",
        "anchor",
        "anchor",
        "kim",
        "kim",
        "engel",
        "kim",
        "engel",
        "kim",
        "kim",
        "kim",
        "moon",
        "kim",
        "kim",
        "kim",
        "sting:close",
    ]
    assert entry["segments"][-2] == {
        "speaker": "kim",
        "text": "Kim Bum-soo, KBS World Radio News.",
        "id": "signoff",
    }
    assert entry["segments"][2] == {"anchor": "Kim Bum-soo has more."}


def test_seed_cast() -> None:
    story, _ = load(SEED)
    assert story["cast"] == {
        "anchor": {"role": "anchor"},
        "kim": {"role": "reporter", "name": "Kim Bum-soo"},
        "engel": {
            "role": "official",
            "name": "Rep. Eliot Engel",
            "title": "U.S. House Foreign Affairs Committee Chair",
        },
        "moon": {"role": "official", "name": "President Moon Jae-in"},
    }


def test_seed_quotes_lose_their_marks_and_brackets() -> None:
    story, _ = load(SEED)
    bites = dict((speaker, text) for speaker, text in speeches(story) if speaker == "moon")
    assert bites["moon"].startswith("However, while tightening")
    assert "Japan says it cannot trust" in bites["moon"]
    assert "[" not in bites["moon"] and '"' not in bites["moon"]
    engel = [text for speaker, text in speeches(story) if speaker == "engel"]
    assert engel[1].endswith("people from the Republic of Korea, and also from people in Japan.")
    assert engel[0].startswith("I don't think we have a choice.")


def test_seed_furniture_is_dropped() -> None:
    _, result = load(SEED)
    for furniture in (
        "Menu Content",
        "Go Top",
        "Written",
        "Updated",
        "Photo",
        "YONHAP",
        "Related News",
        "Editor's Pick",
        "cookies",
        "\xa0",
    ):
        assert furniture not in result.story_yaml


def test_seed_warns_only_about_the_untitled_speaker() -> None:
    _, result = load(SEED)
    assert result.warnings == [
        f"{SEED}:34: sound bite of 'President Moon Jae-in' gives no title; the cast member has none"
    ]


def test_numbered_stories_with_crlf_and_bracket_labels() -> None:
    assert b"\r\n" in ASEAN.read_bytes()
    story, result = load(ASEAN)
    assert story["title"] == "KBS World Radio News"
    assert story["date"] == datetime.date(2019, 11, 25)
    assert story["stings"]["transition"] == "builtin:transition"
    first, second = story["stories"]
    assert first["headline"] == "Moon, ASEAN Leaders Open Busan Summit"
    assert second["headline"] == "U.S. Veterans"
    assert kinds(first["segments"]) == [
        "sting:open",
        "anchor",
        "choi",
        "choi",
        "moon",
        "choi",
        "kim",
        "choi",
        "choi",
    ]
    assert kinds(second["segments"]) == [
        "sting:transition",
        "anchor",
        "lee",
        "miller",
        "lee",
        "moon",
        "lee",
        "sting:close",
    ]
    assert [s.get("id") for s in (first["segments"][-1], second["segments"][-2])] == [
        "signoff",
        "signoff-2",
    ]
    cast = story["cast"]
    # One member for Moon, titled by his second bite; the first bite's "(Korean)" is no title.
    assert cast["moon"] == {
        "role": "official",
        "name": "President Moon Jae-in",
        "title": "President",
    }
    assert cast["kim"] == {
        "role": "official",
        "name": "Kim Hyun-chong",
        "title": "Deputy Director of National Security Office",
    }
    assert cast["miller"] == {"role": "guest", "name": "John Miller", "title": "Korean War Veteran"}
    assert cast["choi"] == {"role": "reporter", "name": "Choi Min-jung"}
    assert cast["lee"] == {"role": "reporter", "name": "Lee Jae-won"}
    assert dict(speeches(story))["miller"] == (
        "I never thought I would come back here. It is a different country now."
    )
    moon = [text for speaker, text in speeches(story) if speaker == "moon"]
    assert moon == [
        "ASEAN is a partner with whom we will grow together. Our peace is also ASEAN's peace.",
        "We will never forget your sacrifice.",
    ]
    assert result.warnings == []
    assert "Malaysian PM" not in result.story_yaml and "Copyright" not in result.story_yaml


def test_curly_quotes_no_signoff_and_reporter_from_the_lead() -> None:
    story, result = load(COLD)
    said = speeches(story)
    assert said[0] == ("anchor", said[0][1]) and said[0][1].endswith("Park Ji-won reports.")
    assert said[1][0] == "park"
    assert story["cast"]["park"] == {"role": "reporter", "name": "Park Ji-won"}
    assert story["cast"]["resident"] == {"role": "guest", "name": "Seoul Resident"}
    assert story["cast"]["yoon"] == {
        "role": "official",
        "name": "Yoon Ki-han",
        "title": "Forecaster, Korea Meteorological Administration",
        "effect": "phone",
    }
    bites = dict(said)
    assert bites["resident"] == (
        "I wasn’t ready for this. I had to dig my winter coat out of the closet last night."
    )
    # A quote and a paragraph wrapped over two lines are each one segment.
    assert bites["yoon"] == (
        "Strong winds will make it feel even colder, so we urge the "
        "elderly and children to stay indoors where possible."
    )
    assert said[-1] == (
        "park",
        "Health authorities advised residents to check on elderly "
        "neighbors living alone, and local governments opened heated shelters "
        "in subway stations.",
    )
    assert not any(s.get("id") == "signoff" for e in story["stories"] for s in e["segments"])
    assert story["title"] == "News Bulletin"
    assert result.warnings == [
        f"{COLD}:1: no sign-off names the station; title set to 'News Bulletin'",
        f"{COLD}:15: sound bite of 'Seoul Resident' gives no title; the cast member has none",
    ]
    assert "Fine Dust" not in result.story_yaml and "cookies" not in result.story_yaml


def test_messy_transcript_warns_with_line_numbers() -> None:
    story, result = load(JOBS)
    assert result.warnings == [
        f"{JOBS}:12: sound bite of 'Lee In-young' has no quote; left out",
        f"{JOBS}:14: sound bite of 'Unidentified Job Seeker' gives no title; "
        "the cast member has none",
        f"{JOBS}:18: short line 'Jobs Report' kept as reporter text; delete it if it is not spoken",
        f"{JOBS}:23: took this unquoted line after a blank line as the sound bite of "
        "'Choo Kyung-ho' (line 21)",
        f"{JOBS}:25: unknown label '[Graphic]' left out",
        f"{JOBS}:28: left out text after the sign-off",
    ]
    assert "lee" not in story["cast"]  # no quote, so nothing to say
    assert story["cast"]["seeker"]["role"] == "guest"
    assert story["cast"]["choo"] == {
        "role": "official",
        "name": "Choo Kyung-ho",
        "title": "Liberty Korea Party Lawmaker",
    }
    # The sign-off run on at the end of the last paragraph is split off.
    segments = story["stories"][0]["segments"]
    assert segments[-3] == {
        "kim": "The measures will be submitted to parliament next month, "
        "where they face a tough vote."
    }
    assert segments[-2] == {
        "speaker": "kim",
        "text": "Kim Soo-yeon, KBS World Radio News.",
        "id": "signoff",
    }


def test_two_pages_run_together_make_two_stories() -> None:
    story, result = load(TWO)
    first, second = story["stories"]
    assert first["headline"] == "North Korea Fires Two Projectiles into East Sea"
    assert second["headline"] == "Seoul Stocks Close Higher"
    assert kinds(first["segments"]) == ["sting:open", "anchor", "kang", "spokesperson", "kang"]
    assert kinds(second["segments"]) == ["sting:transition", "anchor", "anchor", "sting:close"]
    assert story["cast"]["spokesperson"] == {
        "role": "official",
        "name": "Joint Chiefs of Staff spokesperson",
    }
    assert story["cast"]["kang"] == {"role": "reporter", "name": "Kang Min-seok"}
    assert len(result.warnings) == 1 and result.warnings[0].startswith(f"{TWO}:13: ")


def write(tmp_path: Path, text: str, name: str = "t.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_same_family_name_gets_a_suffix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            "Anchor: North Korea's leader has inspected a fishing village. Kim Bum-soo has more.\n"
            "Report: State media said the visit lasted two days.\n"
            "[Sound bite: Kim Jong-un - North Korean Leader]\n"
            '"We must build more houses."\n'
            "Kim Bum-soo, KBS World Radio News.\n"
        ),
    )
    story, _ = load(path)
    assert story["cast"]["kim"]["name"] == "Kim Bum-soo"
    assert story["cast"]["kim-2"] == {
        "role": "official",
        "name": "Kim Jong-un",
        "title": "North Korean Leader",
    }


def test_anchor_tag_after_the_signoff_stays_in_the_story(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            "Anchor: Exports fell for a twelfth month. Lee Ji-eun reports.\n"
            "Report: Shipments of chips dropped by a third.\n"
            "Lee Ji-eun, KBS World Radio News.\n"
            "[Closing] The trade ministry expects a rebound next year.\n"
        ),
    )
    story, result = load(path)
    (entry,) = story["stories"]
    assert kinds(entry["segments"]) == [
        "sting:open",
        "anchor",
        "lee",
        "lee",
        "anchor",
        "sting:close",
    ]
    assert result.warnings == [
        f"{path}:1: no title for this story; headline made from its "
        "first words: 'Exports fell for a twelfth month'"
    ]


def test_quote_over_several_paragraphs_is_one_bite(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            "Anchor: The minister spoke at length.\n\n"
            "[Soundbite] Hong Nam-ki (Finance Minister)\n"
            "“The economy will recover in the second half.\n\n"
            "“Exports are already turning around.”\n\n"
            "The minister did not give figures.\n"
        ),
    )
    story, result = load(path)
    assert dict(speeches(story))["hong"] == (
        "The economy will recover in the second half. Exports are already turning around."
    )
    assert speeches(story)[-1] == ("anchor", "The minister did not give figures.")
    assert story["cast"]["hong"]["title"] == "Finance Minister"
    assert not any("sound bite" in w[len(str(path)) :] for w in result.warnings)


def test_long_paragraph_is_split_within_the_segment_limit(tmp_path: Path) -> None:
    sentence = "The committee met again today to discuss the budget. "
    path = write(tmp_path, "Anchor: " + sentence * 400 + "\n")
    story, _ = load(path)
    texts = [text for _, text in speeches(story)]
    assert len(texts) > 1 and all(len(t) <= 10_000 for t in texts)
    assert " ".join(texts).split() == (sentence * 400).split()


def test_headline_made_up_when_the_page_has_none(tmp_path: Path) -> None:
    path = write(tmp_path, "Anchor: Rain is expected across the country tomorrow.\n")
    story, result = load(path)
    assert story["stories"][0]["headline"] == "Rain is expected across the country tomorrow"
    assert any(w.startswith(f"{path}:1: no title for this story") for w in result.warnings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no news found"),
        (b"Menu Content\nGo Top\nRelated News\n", "no news found"),
        (
            b"# Notes\n\nThis is a plain text file about how to install the program.\n",
            "no news found",
        ),
        (b"Anchor:\n\n[Soundbite]\n", "no news found"),
        (b"Anchor: fine\nline two \xff\xfe here\n", "2:10: transcript: not UTF-8 text"),
        (b"\xff\xfeA\x00n\x00", "1:1: transcript: not UTF-8 text"),
        (b"Anchor: text\x00\x01\x02", "a NUL character"),
    ],
    ids=["empty", "furniture-only", "prose", "labels-only", "latin-1", "utf-16", "binary"],
)
def test_garbage_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        import_transcript(path)
    (line,) = caught.value.lines()
    assert line.startswith(f"{path}:") and message in line


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the transcript"):
        import_transcript(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    ("name", "cast_id"),
    [
        ("Rep. Eliot Engel", "engel"),
        ("President Moon Jae-in", "moon"),
        ("Kim Bum-soo", "kim"),
        ("Anne Smith-Jones", "smith-jones"),
        ("Martin Luther King Jr.", "king"),
        ("José Núñez", "nunez"),
        ("김정은", ""),
    ],
)
def test_cast_id_is_the_family_name(name: str, cast_id: str) -> None:
    assert _cast_id(name) == cast_id


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "Rep. Eliot Engel - U.S. House Foreign Affairs Committee Chair",
            ("Rep. Eliot Engel", "U.S. House Foreign Affairs Committee Chair", []),
        ),
        (
            "President Moon Jae-in (Korean/Nov. 19)",
            ("President Moon Jae-in", "", ["Korean/Nov. 19"]),
        ),
        (
            "Kim Hyun-chong (Deputy Director of National Security Office) :",
            ("Kim Hyun-chong", "Deputy Director of National Security Office", []),
        ),
        ("Lee Jae-myung, Gyeonggi Governor", ("Lee Jae-myung", "Gyeonggi Governor", [])),
    ],
)
def test_speaker_specs(spec: str, expected: tuple[str, str, list[str]]) -> None:
    assert _parse_speaker(spec) == expected
