"""Round-trip edits: untouched files come back byte for byte, an edit changes only its scalar."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from bulletin.script.story import load_story
from bulletin.studio.yamledit import Edits, apply_edits, round_trip, segment_lines

ROOT = Path(__file__).resolve().parents[2]
STORIES = sorted([*ROOT.glob("examples/*/*.yaml"), *ROOT.glob("tests/data/stories/*.yaml")])


def _changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("path", STORIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_load_and_dump_leave_our_stories_byte_for_byte(path):
    source = path.read_text(encoding="utf-8")
    assert round_trip(source) == source


@pytest.mark.parametrize("path", STORIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_editing_each_speech_text_changes_only_that_scalar(path, tmp_path):
    source = path.read_text(encoding="utf-8")
    story = load_story(path)
    lines = segment_lines(source)
    for segment in (s for s in story.segments if s.kind == "speech"):
        edited = apply_edits(source, Edits(texts={segment.index: "A new line for the studio test."}))
        copy = path.parent / f".{path.name}.edit-test.yaml"
        try:
            copy.write_text(edited, encoding="utf-8")
            reloaded = load_story(copy)
        finally:
            copy.unlink()
        assert [s.text for s in reloaded.segments] == [
            "A new line for the studio test." if s.index == segment.index else s.text for s in story.segments]
        removed = [line for line in _changed(source, edited) if line.startswith("-")]
        assert removed, segment.index
        first_changed = next(i for i, (a, b) in enumerate(zip(source.splitlines(), edited.splitlines(), strict=False)) if a != b)
        assert lines[segment.index] <= first_changed + 1 <= lines.get(segment.index + 1, 10**9)


def test_a_folded_text_stays_folded_at_the_files_width():
    source = (ROOT / "examples/gsomia/story.yaml").read_text()
    longer = ("Washington is making last-ditch efforts, once again, to persuade Seoul not to let its "
              "bilateral military intelligence sharing pact with Japan expire on Friday at midnight.")
    edited = apply_edits(source, Edits(texts={5: longer}))
    assert _changed(source, edited) == [
        "-          Washington is making last-ditch efforts to persuade Seoul not to let its bilateral",
        "-          military intelligence sharing pact with Japan expire on Friday.",
        "+          Washington is making last-ditch efforts, once again, to persuade Seoul not to let",
        "+          its bilateral military intelligence sharing pact with Japan expire on Friday at",
        "+          midnight.",
    ]


def test_a_voice_is_written_into_a_flow_mapping_and_a_block_mapping():
    source = (ROOT / "examples/gsomia/story.yaml").read_text()
    edited = apply_edits(source, Edits(voices={"kim": "reporter-plain", "engel": "official-us"}))
    kim = next(line for line in source.splitlines() if line.startswith("  kim: {"))
    assert _changed(source, edited) == [f"-{kim}", f"+{kim[:-1]}, voice: reporter-plain}}", "+    voice: official-us"]
    assert edited.index("voice: official-us") > edited.index("title: U.S. House Foreign Affairs")
    # a voice the story already names is no change at all
    assert apply_edits(edited, Edits(voices={"kim": "reporter-plain", "engel": "official-us"})) == edited


def test_lines_ruamel_would_rewrite_are_kept_unless_edited():
    source = ("# top\ntitle: T\ncast:\n  a: {role: anchor}\nsegments:\n"
              "- a: This plain text is folded\n    over two lines\n"
              "- a: 'single quoted'   # spaced comment\n"
              "- a: Also folded\n    by hand\n")
    edited = apply_edits(source, Edits(texts={2: "Changed."}))
    # an end-of-line comment keeps its column
    assert edited == source.replace("'single quoted'   #", "'Changed.'        #")
    edited = apply_edits(source, Edits(texts={1: "One line now."}))
    assert edited == source.replace("This plain text is folded\n    over two lines", "One line now.")
    edited = apply_edits(source, Edits(texts={3: "Last."}))
    assert edited == source.replace("Also folded\n    by hand", "Last.")
