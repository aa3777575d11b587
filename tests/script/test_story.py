"""The story loader: the whole family of malformed stories is refused with a positioned,
actionable line per problem (exit status 2, no traceback, nothing written), and the valid
variants the format allows load as written."""

from __future__ import annotations

import datetime
import importlib.util
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bulletin.base.errors import InputError, Problem
from bulletin.script.story import (
    LOUDNESS_PRESETS,
    MAX_SEGMENTS,
    MAX_TEXT_CHARS,
    Master,
    load_story,
    parse_loudness,
    slugify,
)
from bulletin.script.yamlnodes import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "gsomia" / "story.yaml"
FIXTURES = ROOT / "tests" / "data" / "stories"

# Lines 1-6; `segments:` follows on line 7, so the first segment is on line 8.
HEAD = """\
title: Test News
cast:
  anchor: {role: anchor}
  kim: {role: reporter, name: Kim Bum-soo}
stings:
  open: builtin:open
"""


def segs(*items: str) -> str:
    """HEAD with a top-level segment list: item i (0-based) starts on line 8 + i."""
    return HEAD + "segments:\n" + "".join(f"  - {item}\n" for item in items)


def write_wav(path: Path, seconds: float = 1.0, rate_hz: int = 8000) -> Path:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate_hz)
    return path


def _billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    # the bomb is reached from keys the loader walks, too
    return "\n".join(lines) + "\n" + HEAD + "stories: *i\n"


def _too_many_segments() -> str:
    return segs(*["pause: 1"] * (MAX_SEGMENTS + 5))


def _alias_text_flood() -> str:
    # 200 aliases to one 9,000-character text: 1.8 million characters of speech from ~10 kB
    return segs("anchor: &t " + "word " * 1800, *["kim: *t"] * 199)


@dataclass(frozen=True)
class Bad:
    """One malformed story: its text, and where the (first) problem must be reported."""

    name: str
    text: str | bytes | Callable[[], str | bytes]
    line: int
    column: int | None  # None: any column
    needle: str  # a piece of the message: what is wrong or how to fix it
    count: int | None = 1  # how many problems; None: at least one

    def content(self) -> str | bytes:
        return self.text() if callable(self.text) else self.text


BAD = [
    # -- YAML itself ------------------------------------------------------------------------
    Bad("bad-indentation", segs("anchor: One.") + "   - kim: Two.\n", 9, 4, "indentation"),
    Bad("unclosed-quote", segs('anchor: "Good morning.', "kim: Two."), 8, 13, "never closed"),
    Bad("tab-indentation", HEAD + "segments:\n\t- anchor: One.\n", 8, 1, "tab"),
    Bad("colon-in-plain-text", segs("anchor: Breaking: news"), 8, 21, "quotes"),
    Bad("unclosed-flow-list", HEAD + "segments: [{pause: 1}\n", 8, 1, "add ']'"),
    # found by the fuzzer: the hint itself holds braces
    Bad("unclosed-flow-mapping", "title: T\ncast:\n  anchor: {role: a", 3, 19, "add '}'"),
    # found by the fuzzer: a key holding a line separator must not break the line in two
    Bad("line-separator-in-key", HEAD.replace("title:", '"ti\\Ltle":') + "segments:\n  - pause: 1\n", 1, 1,
        "did you mean 'title'?"),
    Bad("two-documents", HEAD + "segments:\n  - pause: 1\n---\ntitle: x\n", 9, 1, "---"),
    Bad("undefined-alias", segs("anchor: *intro"), 8, 13, "no anchor &intro"),
    Bad("escape-past-unicode", HEAD + 'segments:\n  - anchor: "Hi \\U0019A23E"\n', 8, 19, "names no Unicode character"),
    Bad("control-character", segs("anchor: Bell\x07 here"), 8, 17, "U+0007"),
    Bad("not-utf8", HEAD.encode() + b"segments:\n  - anchor: caf\xe9\n", 8, 16, "UTF-8"),
    Bad("python-tag", segs("anchor: !!python/object/apply:os.system [ls]"), 8, 13, "refused"),
    Bad("custom-tag", segs("anchor: !shout Hello"), 8, 13, "remove the tag"),
    Bad("billion-laughs", _billion_laughs, 1, 1, "must be a mapping", None),
    Bad("deep-nesting", lambda: "title: " + "[" * 100_000 + "\n", 1, None, "nested more than"),
    Bad("oversized", lambda: HEAD + "#" * MAX_FILE_BYTES + "\n", 1, 1, "limit"),
    # -- the file's shape -------------------------------------------------------------------
    Bad("empty", "", 1, 1, "is empty"),
    Bad("comments-only", "# nothing here yet\n", 1, 1, "is empty"),
    Bad("list-not-mapping", "- title: x\n- cast: y\n", 1, 1, "must be a mapping"),
    Bad("scalar-not-mapping", "just some words\n", 1, 1, "must be a mapping"),
    Bad("duplicate-key", HEAD + "title: Again\nsegments:\n  - pause: 1\n", 7, 1, "first on line 1"),
    Bad("unknown-top-key", HEAD.replace("title:", "titel:") + "segments:\n  - pause: 1\n",
        1, 1, "did you mean 'title'?"),
    Bad("misspelt-segments-key", HEAD + "segmnts:\n  - pause: 1\n", 7, 1, "did you mean 'segments'?"),
    Bad("misspelt-text-key", segs("{speaker: kim, txt: Hi.}"), 8, 20, "did you mean 'text'?"),
    Bad("missing-title", HEAD.replace("title: Test News\n", "") + "segments:\n  - pause: 1\n",
        1, 1, "is required: add `title:`"),
    Bad("missing-cast", "title: T\nsegments:\n  - pause: 1\n", 1, 1, "is required: add `cast:`"),
    Bad("missing-stories", HEAD, 1, 1, "is required: add `stories:`"),
    Bad("stories-and-segments", HEAD + "stories: []\nsegments:\n  - pause: 1\n", 8, 1, "not both"),
    Bad("stories-mapping", HEAD + "stories:\n  headline: x\n  segments: []\n", 8, 3, "must be a list"),
    Bad("stories-empty", HEAD + "stories: []\n", 7, 10, "add a story"),
    Bad("story-without-headline", HEAD + "stories:\n  - segments:\n      - pause: 1\n",
        8, 5, "add `headline:`"),
    Bad("story-without-segments", HEAD + "stories:\n  - headline: One\n", 8, 5,
        "add `segments:`"),
    Bad("segments-empty", HEAD + "segments: []\n", 7, 11, "is empty"),
    Bad("too-many-segments", _too_many_segments, 8 + MAX_SEGMENTS, 5, "at most 2,000"),
    # -- cast -------------------------------------------------------------------------------
    Bad("unknown-role", HEAD.replace("role: reporter", "role: reportr") + "segments:\n  - pause: 1\n",
        4, 15, "did you mean 'reporter'?"),
    Bad("missing-role", HEAD.replace("role: reporter, ", "") + "segments:\n  - pause: 1\n",
        4, 8, "add `role:` with one of"),
    Bad("bad-effect", HEAD.replace("name: Kim", "effect: radio, name: Kim") + "segments:\n  - pause: 1\n",
        4, 33, "not one of none, phone, field"),
    Bad("gender-typo", HEAD.replace("name: Kim", "gender: mael, name: Kim") + "segments:\n  - pause: 1\n",
        4, 33, "did you mean 'male'?"),
    Bad("gender-not-text", HEAD.replace("name: Kim", "gender: [male], name: Kim") + "segments:\n  - pause: 1\n",
        4, 33, "must be text"),
    Bad("voice-not-text", HEAD.replace("name: Kim", "voice: [a, b], name: Kim") + "segments:\n  - pause: 1\n",
        4, 32, "must be text"),
    Bad("member-is-string", HEAD.replace("{role: reporter, name: Kim Bum-soo}", "reporter")
        + "segments:\n  - kim: Hello.\n", 4, 8, "{role: reporter}"),
    Bad("cast-id-with-space", HEAD.replace("  kim:", "  kim bum:") + "segments:\n  - anchor: Hi.\n",
        4, 3, "try 'kim-bum'"),
    Bad("cast-id-reserved", HEAD.replace("  kim:", "  text:") + "segments:\n  - anchor: Hi.\n",
        4, 3, "cannot be a cast id"),
    Bad("cast-empty", "title: T\ncast: {}\nsegments:\n  - pause: 1\n", 2, 7, "name at least one speaker"),
    Bad("recursive-merge", "title: T\ncast: &c {<<: *c}\nsegments:\n  - pause: 1\n", 2, 7,
        "includes the mapping itself", None),
    Bad("pronounce-phrase", HEAD + "pronounce:\n  Moon Jae-in: moon jeh-in\nsegments:\n  - pause: 1\n",
        8, 3, "single word"),
    Bad("pronounce-list", HEAD + "pronounce: [GSOMIA]\nsegments:\n  - pause: 1\n", 7, 12, "must be a mapping"),
    Bad("pronounce-each-entry", HEAD + "pronounce: {GSOMIA: [a], Moon Jae: x, Kim Jong: y, Seoul: soul}\n"
        "segments:\n  - pause: 1\n", 7, 21, "must be a single word; give each word of a phrase its own entry", 3),
    # -- master -----------------------------------------------------------------------------
    Bad("loudness-word", HEAD + "master: {loudness: loud}\nsegments:\n  - pause: 1\n", 7, 20,
        "podcast"),
    Bad("loudness-out-of-range", HEAD + "master: {loudness: -3}\nsegments:\n  - pause: 1\n", 7, 20,
        "out of range"),
    Bad("loudness-typo", HEAD + "master: {loudness: podcats}\nsegments:\n  - pause: 1\n", 7, 20,
        "'podcats' must be podcast (-16 LUFS), broadcast (-23 LUFS) or a LUFS number from -40 to -5; "
        "did you mean 'podcast'?"),
    Bad("loudness-list", HEAD + "master: {loudness: [podcast]}\nsegments:\n  - pause: 1\n", 7, 20,
        "must be podcast (-16 LUFS)"),
    Bad("sample-rate-8000", HEAD + "master: {sample_rate: 8000}\nsegments:\n  - pause: 1\n", 7, 23,
        "at least 22050"),
    Bad("format-ogg", HEAD + "master: {formats: [ogg]}\nsegments:\n  - pause: 1\n", 7, 20,
        "not one of wav, mp3"),
    Bad("formats-not-list", HEAD + "master: {formats: wav}\nsegments:\n  - pause: 1\n", 7, 19,
        "must be a list like [wav, mp3], not 'wav'"),
    Bad("formats-empty", HEAD + "master: {formats: []}\nsegments:\n  - pause: 1\n", 7, 19,
        "is empty; name at least one of wav, mp3"),
    Bad("mp3-bitrate-100", HEAD + "master: {mp3_bitrate: 100}\nsegments:\n  - pause: 1\n", 7, 23,
        "100 is not an MP3 bitrate; use one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 "
        "(nearest: 96)"),
    Bad("mp3-bitrate-500", HEAD + "master: {mp3_bitrate: 500}\nsegments:\n  - pause: 1\n", 7, 23, "at most 320"),
    Bad("bad-date", HEAD + "date: 2019-13-45\nsegments:\n  - pause: 1\n", 7, 7, "2019-11-22"),
    # -- segments ---------------------------------------------------------------------------
    Bad("misspelt-cast-id", segs("anchor: One.", "kin: Two."), 9, 5, "did you mean 'kim'?"),
    Bad("misspelt-pause", segs("paus: 1"), 8, 5, "did you mean 'pause'?"),
    Bad("long-form-unknown-speaker", segs("{speaker: kimm, text: Hi.}"), 8, 15, "did you mean 'kim'?"),
    Bad("pause-and-sting", segs("pause: 1", "sting: open") .replace("- sting", "  sting"), 9, 5,
        "exactly one thing"),
    Bad("pause-zero", segs("pause: 0"), 8, 12, "more than 0"),
    Bad("pause-negative", segs("pause: -1"), 8, 12, "more than 0"),
    Bad("pause-61", segs("pause: 61"), 8, 12, "at most 60"),
    Bad("pause-word", segs("pause: abc"), 8, 12, "must be a number"),
    Bad("pause-with-gap", segs("{pause: 1, gap: 2}"), 8, 16, "a pause takes no other keys"),
    Bad("rate-3", segs("{speaker: kim, text: Hi., rate: 3.0}"), 8, 37, "at most 2"),
    Bad("gap-negative", segs("{speaker: kim, text: Hi., gap: -1}"), 8, 36, "at least 0"),
    Bad("text-too-long", lambda: segs("anchor: " + "x" * (MAX_TEXT_CHARS + 1)), 8, 13, "split it"),
    Bad("text-null", segs("{speaker: kim, text: null}"), 8, 26, "must be text"),
    Bad("text-missing", segs("{speaker: kim, id: a}"), 8, 5, "add `text:`"),
    Bad("speech-list-value", segs("anchor: [One, Two]"), 8, 13, "must be text, not a list"),
    Bad("short-form-extra-key", segs("anchor: Hi.") + "    gap: 2\n", 9, 5, "long form"),
    Bad("text-without-speaker", segs("text: Hi."), 8, 5, "speaker: CAST_ID"),
    Bad("segment-is-string", segs("Good morning."), 8, 5, "is not a segment"),
    Bad("duplicate-segment-id", segs("{speaker: kim, text: A., id: x}", "{speaker: kim, text: B., id: x}"),
        9, 34, "line 8"),
    Bad("numeric-segment-id", segs("{speaker: kim, text: A., id: 7}"), 8, 34, "not plain numbers"),
    Bad("unknown-sting", segs("sting: opening"), 8, 12, "did you mean 'open'?"),
    Bad("sting-not-declared", segs("sting: close"), 8, 12, "did you mean 'builtin:close'?"),
    Bad("unknown-builtin", segs("sting: builtin:opne"), 8, 12, "did you mean 'builtin:open'?"),
    Bad("bad-builtin-under-stings", HEAD.replace("builtin:open", "builtin:jingle")
        + "segments:\n  - sting: open\n", 6, 9, "no builtin sound"),
    Bad("clip-builtin", segs("clip: builtin:open"), 8, 11, "not 'builtin:open'"),
    Bad("clip-parent", segs("clip: ../x.wav"), 8, 11, "outside the story's folder"),
    Bad("clip-absolute", segs("clip: /etc/passwd"), 8, 11, "outside the story's folder"),
    Bad("clip-missing", segs("clip: clips/moon.wav"), 8, 11, "not found"),
    Bad("clip-folder", segs("clip: sub"), 8, 11, "is a folder"),
    Bad("clip-not-audio", segs("clip: notes.wav"), 8, 11, "'notes.wav' is not an audio file"),
    # other formats go to ffmpeg where it is installed: it must refuse text at load too
    Bad("clip-text-file", segs("pause: 1", "sting: open", "clip: notes.txt"), 10, 11,
        "'notes.txt' is not an audio file ("),
    Bad("clip-empty-m4a", segs("clip: empty.m4a"), 8, 11, "'empty.m4a' is not an audio file ("),
    Bad("comma-in-flow-title", HEAD.replace("{role: reporter, name: Kim Bum-soo}",
        "{role: official, name: X, title: Spokesman, Ministry of National Defense}")
        + "segments:\n  - pause: 1\n", 4, 52,
        'a comma inside {...} starts a new key: put the title in quotes (title: "Spokesman, Ministry'),
    Bad("comma-in-flow-speech", segs("{anchor: Hello, world}"), 8, 21,
        'a comma inside {...} starts a new key: put the anchor in quotes (anchor: "Hello, world")'),
    Bad("comma-in-flow-clip", segs("{clip: clip.wav, text: One, two}"), 8, 33,
        "a comma inside {...} starts a new key: put the text in quotes"),
    Bad("clip-symlink-loop", segs("clip: loop.wav"), 8, 11, "a loop of symbolic links"),
    Bad("clip-nul-byte", segs('clip: "a\\0.wav"'), 8, 11, "not a usable file name"),
    Bad("clip-end-before-start", segs("{clip: clip.wav, start: 0.5, end: 0.5}"), 8, 39, "after start"),
    Bad("clip-start-past-end", segs("{clip: clip.wav, start: 3}"), 8, 29, "past the end"),
    Bad("clip-unknown-speaker", segs("{clip: clip.wav, speaker: mon}"), 8, 31, "unknown cast id 'mon'"),
    Bad("alias-text-flood", _alias_text_flood, 8 + 111, 5, "aliases"),
    Bad("master-list", HEAD + "master: [1]\nsegments:\n  - pause: 1\n", 7, 9, "must be a mapping"),
    Bad("clip-text-list", segs("{clip: clip.wav, text: [a]}"), 8, 28, "must be text"),
]

# where each case"s first problem says it is (the `where` of FILE:LINE:COLUMN: where: what)
WHERE = {
    "bad-indentation": "YAML", "unclosed-quote": "YAML", "tab-indentation": "YAML",
    "colon-in-plain-text": "YAML", "unclosed-flow-list": "YAML", "unclosed-flow-mapping": "YAML",
    "line-separator-in-key": "ti\u2028tle", "two-documents": "YAML", "undefined-alias": "YAML",
    "escape-past-unicode": "YAML", "control-character": "YAML", "not-utf8": "file", "python-tag": "YAML",
    "custom-tag": "YAML", "billion-laughs": "a", "deep-nesting": "YAML", "oversized": "file", "empty": "file",
    "comments-only": "file", "list-not-mapping": "file", "scalar-not-mapping": "file",
    "duplicate-key": "title", "unknown-top-key": "titel", "misspelt-segments-key": "segmnts",
    "misspelt-text-key": "segment 1.txt", "missing-title": "title", "missing-cast": "cast",
    "missing-stories": "stories", "stories-and-segments": "segments", "stories-mapping": "stories",
    "stories-empty": "stories", "story-without-headline": "stories[1].headline",
    "story-without-segments": "stories[1].segments", "segments-empty": "segments",
    "too-many-segments": "segment 2001", "unknown-role": "cast.kim.role", "missing-role": "cast.kim.role",
    "bad-effect": "cast.kim.effect", "gender-typo": "cast.kim.gender", "gender-not-text": "cast.kim.gender",
    "voice-not-text": "cast.kim.voice", "member-is-string": "cast.kim", "cast-id-with-space": "cast.kim bum",
    "cast-id-reserved": "cast.text", "cast-empty": "cast", "recursive-merge": "cast",
    "pronounce-phrase": "pronounce.Moon Jae-in", "pronounce-list": "pronounce", "pronounce-each-entry": ["pronounce.GSOMIA", "pronounce.Moon Jae", "pronounce.Kim Jong"], "loudness-word": "master.loudness",
    "loudness-out-of-range": "master.loudness", "loudness-typo": "master.loudness",
    "loudness-list": "master.loudness", "sample-rate-8000": "master.sample_rate",
    "format-ogg": "master.formats[1]", "formats-not-list": "master.formats", "formats-empty": "master.formats",
    "mp3-bitrate-100": "master.mp3_bitrate", "mp3-bitrate-500": "master.mp3_bitrate", "bad-date": "date", "misspelt-cast-id": "segment 2",
    "misspelt-pause": "segment 1", "long-form-unknown-speaker": "segment 1.speaker",
    "pause-and-sting": "segment 1", "pause-zero": "segment 1.pause", "pause-negative": "segment 1.pause",
    "pause-61": "segment 1.pause", "pause-word": "segment 1.pause", "pause-with-gap": "segment 1.gap",
    "rate-3": "segment 1.rate", "gap-negative": "segment 1.gap", "text-too-long": "segment 1.anchor",
    "text-null": "segment 1.text", "text-missing": "segment 1.text", "speech-list-value": "segment 1.anchor",
    "short-form-extra-key": "segment 1", "text-without-speaker": "segment 1",
    "segment-is-string": "segment 1", "duplicate-segment-id": "segment 2.id",
    "numeric-segment-id": "segment 1.id", "unknown-sting": "segment 1.sting",
    "sting-not-declared": "segment 1.sting", "unknown-builtin": "segment 1.sting",
    "bad-builtin-under-stings": "stings.open", "clip-builtin": "segment 1.clip",
    "clip-parent": "segment 1.clip", "clip-absolute": "segment 1.clip", "clip-missing": "segment 1.clip",
    "clip-folder": "segment 1.clip", "clip-not-audio": "segment 1.clip", "clip-text-file": "segment 3.clip",
    "clip-empty-m4a": "segment 1.clip", "comma-in-flow-title": "cast.kim.Ministry of National Defense",
    "comma-in-flow-speech": "segment 1", "comma-in-flow-clip": "segment 1.two",
    "clip-symlink-loop": "segment 1.clip", "clip-nul-byte": "segment 1.clip",
    "clip-end-before-start": "segment 1.end", "clip-start-past-end": "segment 1.start",
    "clip-unknown-speaker": "segment 1.speaker", "alias-text-flood": "segment 112.kim",
    "master-list": "master", "clip-text-list": "segment 1.text",
}


def _problems(tmp_path: Path, case: Bad) -> tuple[Path, list[Problem]]:
    path = _write_case(tmp_path, case)
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        load_story(path)
    # hostile input (alias bombs, deep nesting, huge files) must fail fast, not just fail: an
    # alias bomb that got through would take minutes; the bound is loose because the machine is
    # shared (loads are ~10 ms on a quiet one)
    assert time.perf_counter() - started < 10.0, case.name
    return path, caught.value.problems


def _write_case(tmp_path: Path, case: Bad) -> Path:
    write_wav(tmp_path / "clip.wav")
    (tmp_path / "notes.wav").write_text("not audio at all\n")
    (tmp_path / "notes.txt").write_text("Interview notes: not audio at all\n")
    (tmp_path / "empty.m4a").write_bytes(b"")
    (tmp_path / "sub").mkdir(exist_ok=True)
    for a, b in (("loop.wav", "loop2.wav"), ("loop2.wav", "loop.wav")):
        if not (tmp_path / a).is_symlink():
            (tmp_path / a).symlink_to(b)
    path = tmp_path / "story.yaml"
    content = case.content()
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_there_are_enough_cases() -> None:
    assert len(BAD) >= 40
    assert len({case.name for case in BAD}) == len(BAD)


@pytest.mark.parametrize("case", BAD, ids=lambda case: case.name)
def test_malformed_story_is_refused_with_its_place(tmp_path: Path, case: Bad) -> None:
    path, problems = _problems(tmp_path, case)
    assert problems, "an InputError must carry positioned problems"
    lines = [str(p) for p in problems]
    pattern = re.compile(rf"^{re.escape(str(path))}:\d+:\d+: .+: .+")
    for line in lines:
        assert pattern.match(line), line
        assert "Traceback" not in line
        assert line.splitlines() == [line] and line.isprintable(), repr(line)  # one line, shown as it is
    if case.count is not None:
        assert len(problems) == case.count, "\n".join(lines)
    first = problems[0]
    assert (first.line, first.column if case.column is not None else None) == (case.line, case.column), "\n".join(lines)
    where = WHERE[case.name]  # the first problem's, or every problem's
    assert (first.where if isinstance(where, str) else [p.where for p in problems]) == where, "\n".join(lines)
    assert any(case.needle in p.what for p in problems), "\n".join(lines)
    # problems come in file order
    assert [(p.line, p.column) for p in problems] == sorted((p.line, p.column) for p in problems)


# -- the command line: a few representative cases, end to end ------------------------------
# Each run costs a second or two of imports, so they all start at once and run side by side.

CHECK_CASES = ["unclosed-quote", "not-utf8", "billion-laughs", "python-tag", "clip-text-file"]
RENDER_CASES = ["misspelt-cast-id", "clip-parent", "clip-text-file"]
HAS_CHECK = importlib.util.find_spec("bulletin.pipeline.checking") is not None


@dataclass(frozen=True)
class Run:
    case: Bad
    given: str  # the story path as passed on the command line
    out: Path | None  # render's output folder
    returncode: int
    stderr: str


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    # `check` once it is wired; `render` always, to see that nothing is written
    jobs = [("check", name) for name in CHECK_CASES] if HAS_CHECK else []
    jobs += [("render", name) for name in (RENDER_CASES if HAS_CHECK else CHECK_CASES + RENDER_CASES)]
    started = []
    for command, name in jobs:
        folder = tmp_path_factory.mktemp(f"{command}-{name}")
        case = next(c for c in BAD if c.name == name)
        path = _write_case(folder, case)
        if command == "check":
            # the path as given (relative here) must start every line
            given, out, args = "story.yaml", None, ["check", "story.yaml"]
        else:
            given, out = str(path), folder / "out"
            args = ["render", given, "-o", str(out)]
        env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache")}
        process = subprocess.Popen([sys.executable, "-m", "bulletin", *args], cwd=folder, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append((f"{command}:{name}", case, given, out, process))
    runs = {}
    for key, case, given, out, process in started:
        _, stderr = process.communicate(timeout=120)
        runs[key] = Run(case, given, out, process.returncode, stderr)
    return runs


def _assert_refused(run: Run) -> None:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert lines
    for line in lines:
        assert re.match(rf"^{re.escape(run.given)}:\d+:\d+: .+: .+", line), line
    assert lines[0].startswith(f"{run.given}:{run.case.line}:")


@pytest.mark.skipif(not HAS_CHECK, reason="`bulletin check` is not wired yet")
@pytest.mark.parametrize("name", CHECK_CASES)
def test_check_command_refuses(cli_runs: dict[str, Run], name: str) -> None:
    _assert_refused(cli_runs[f"check:{name}"])


@pytest.mark.parametrize("name", RENDER_CASES if HAS_CHECK else CHECK_CASES + RENDER_CASES)
def test_render_writes_nothing_for_a_bad_story(cli_runs: dict[str, Run], name: str) -> None:
    run = cli_runs[f"render:{name}"]
    _assert_refused(run)
    assert run.out is not None
    assert not run.out.exists() or not any(run.out.iterdir())


# -- valid variants -----------------------------------------------------------------------


def test_example_story_loads() -> None:
    story = load_story(EXAMPLE)
    assert story.title == "KBS World Radio News"
    assert story.date == datetime.date(2019, 11, 22)
    assert story.master.target_lufs == LOUDNESS_PRESETS["podcast"]
    assert [s.index for s in story.segments] == list(range(1, len(story.segments) + 1))
    signoff = story.segment("signoff")
    assert (signoff.speaker, signoff.rate, signoff.gap_s) == ("kim", 0.95, 0.8)
    assert story.segment("moon-bite").effect == "phone"
    assert story.pronounce["GSOMIA"] == "jee-so-mee-ah"
    # the men of the transcript say so, for casting; the anchor leaves it to casting
    assert {m.id: m.gender for m in story.cast.values()} == {
        "anchor": None, "kim": "male", "engel": "male", "moon": "male"}


def test_single_story_file_with_top_level_segments(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(segs("sting: open", "anchor: Good morning.", "pause: 1.5", "kim: Thanks."))
    story = load_story(path)
    assert len(story.stories) == 1
    part = story.stories[0]
    assert part.headline == "Test News"
    assert [s.kind for s in part.segments] == ["sting", "speech", "pause", "speech"]
    assert part.segments[0].sound is not None and part.segments[0].sound.builtin == "open"
    assert part.segments[2].pause_s == 1.5
    assert [s.line for s in part.segments] == [8, 9, 10, 11]
    # defaults: today's date, English, the podcast master
    assert story.date == datetime.date.today()
    assert story.language == "en"
    assert story.master == Master()
    assert story.cast["anchor"].role == "anchor" and story.cast["anchor"].effect == "none"
    assert story.slug == "test-news" and slugify("!!!") == "bulletin"


def test_long_form_speech_and_its_options(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(HEAD + """\
segments:
  - speaker: kim
    text: >-
      Kim Bum-soo,
      KBS World Radio News.
    voice: reporter-uk
    rate: 0.95
    effect: phone
    gap: 0.8
    id: signoff
""")
    (segment,) = load_story(path).segments
    assert segment.text == "Kim Bum-soo, KBS World Radio News."
    assert (segment.voice, segment.rate, segment.effect, segment.gap_s, segment.id) == (
        "reporter-uk", 0.95, "phone", 0.8, "signoff")


def test_clips_stings_and_beds_from_files_and_assets(tmp_path: Path) -> None:
    story_dir, assets = tmp_path / "story", tmp_path / "library"
    (story_dir / "clips").mkdir(parents=True)
    (assets / "jingles").mkdir(parents=True)
    write_wav(story_dir / "clips" / "moon.wav", seconds=3.0)
    write_wav(assets / "jingles" / "close.wav")
    write_wav(assets / "bed.wav")
    path = story_dir / "story.yaml"
    path.write_text("""\
title: Files
cast:
  anchor: {role: anchor}
  moon: {role: official, name: President Moon Jae-in, effect: phone}
stings:
  close: jingles/close.wav
stories:
  - headline: One
    bed: bed.wav
    segments:
      - clip: clips/moon.wav
        speaker: moon
        start: 0.5
        end: 2.5
        gain: -3
        text: However, while tightening its export control measures.
        gap: 0.2
        id: moon-bite
      - sting: close
  - headline: Two
    bed: builtin:bed
    segments:
      - anchor: And finally.
      - sting: builtin:transition
""")
    story = load_story(path, assets=(assets,))
    clip, close, speech, transition = story.segments
    assert clip.kind == "clip" and clip.sound is not None
    assert clip.sound.path == (story_dir / "clips" / "moon.wav").resolve()
    assert (clip.speaker, clip.start_s, clip.end_s, clip.gain_db, clip.id) == ("moon", 0.5, 2.5, -3.0, "moon-bite")
    assert clip.text and clip.text.startswith("However")
    assert close.sound is not None and close.sound.path == (assets / "jingles" / "close.wav").resolve()
    assert close.sting == "close"
    assert story.stories[0].bed is not None and story.stories[0].bed.path == (assets / "bed.wav").resolve()
    assert story.stories[1].bed is not None and story.stories[1].bed.builtin == "bed"
    assert (speech.index, speech.story) == (3, 2)
    assert transition.sound is not None and transition.sound.builtin == "transition"
    assert story.cast["moon"].effect == "phone"
    # without --assets the same files are missing: the story's own folder is the only root
    with pytest.raises(InputError, match="not found"):
        load_story(path)


def test_master_settings_and_numbers_as_written(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(HEAD + """\
date: 2026-11-27
language: ko
master: {loudness: -18.5, sample_rate: 48000, formats: [mp3], mp3_bitrate: 192, gap: 0, story_gap: 2}
segments:
  - anchor: 1984
  - kim: yes
  - pause: 0x3
""")
    story = load_story(path)
    assert story.date == datetime.date(2026, 11, 27) and story.language == "ko"
    assert story.master == Master(target_lufs=-18.5, sample_rate=48000, formats=("mp3",),
                                  mp3_bitrate=192, gap_s=0.0, story_gap_s=2.0)
    first, second, pause = story.segments
    assert first.text == "1984"  # read as written, not as a number
    assert second.text == "yes"  # not a boolean
    assert pause.pause_s == 3.0  # YAML's own number forms count
    path.write_text(HEAD + "master: {loudness: broadcast}\nsegments:\n  - pause: 1\n")
    assert load_story(path).master.target_lufs == LOUDNESS_PRESETS["broadcast"]
    path.write_text(HEAD + "master: {formats: [mp3, wav, mp3]}\nsegments:\n  - pause: 1\n")
    assert load_story(path).master.formats == ("mp3", "wav")  # each once, in the order given
    # every range includes its ends, as the spec writes them
    ends = {"loudness": (-40, -5, "target_lufs"), "sample_rate": (22050, 96000, "sample_rate"),
            "mp3_bitrate": (32, 320, "mp3_bitrate"), "gap": (0, 10, "gap_s"), "story_gap": (0, 30, "story_gap_s")}
    for end in (0, 1):
        master = ", ".join(f"{key}: {values[end]}" for key, values in ends.items())
        path.write_text(HEAD + f"master: {{{master}}}\nsegments:\n  - pause: 1\n")
        loaded = load_story(path).master
        assert {key: getattr(loaded, v[2]) for key, v in ends.items()} == {key: v[end] for key, v in ends.items()}


def test_anchors_aliases_and_merge_keys_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text("""\
title: Reuse
cast:
  anchor: {role: anchor}
  kim: &reporter {role: reporter, effect: field}
  lee: {<<: *reporter, name: Lee Ji-won}
segments:
  - anchor: &headline Seoul stays firm on GSOMIA.
  - kim: Details follow.
  - anchor: *headline
""")
    story = load_story(path)
    assert story.cast["lee"].role == "reporter" and story.cast["lee"].effect == "field"
    assert story.cast["lee"].name == "Lee Ji-won"
    assert story.cast["kim"].name == "Kim"
    texts = [s.text for s in story.segments]
    assert texts[0] == texts[2] == "Seoul stays firm on GSOMIA."


def test_crlf_and_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + segs("anchor: Hello.").replace("\n", "\r\n").encode())
    assert load_story(path).segments[0].text == "Hello."


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixture_stories_load(fixture: Path) -> None:
    story = load_story(fixture)
    assert story.segments


def test_problems_are_all_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(segs("kin: One.", "pause: 0", "sting: opne"))
    with pytest.raises(InputError) as caught:
        load_story(path)
    assert [p.line for p in caught.value.problems] == [8, 9, 10]


def test_a_broken_member_is_reported_once_not_at_every_line(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(HEAD.replace("role: reporter", "role: reportr") + "segments:\n" + "  - kim: Hi.\n" * 5)
    with pytest.raises(InputError) as caught:
        load_story(path)
    assert [p.line for p in caught.value.problems] == [4]


def test_problem_flood_is_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(segs(*["pause: 0"] * 500))
    with pytest.raises(InputError) as caught:
        load_story(path)
    assert 100 <= len(caught.value.problems) <= 102
    assert "fix these" in caught.value.problems[-1].what


def test_parse_loudness() -> None:
    assert parse_loudness("podcast") == -16.0
    assert parse_loudness("broadcast") == -23.0
    assert parse_loudness("-14") == -14.0
    with pytest.raises(InputError, match="did you mean 'podcast'"):
        parse_loudness("podcst")
    with pytest.raises(InputError, match="out of range"):
        parse_loudness("0")


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = write_wav(tmp_path / "outside.wav")
    story_dir = tmp_path / "story"
    story_dir.mkdir()
    (story_dir / "link.wav").symlink_to(outside)
    path = story_dir / "story.yaml"
    path.write_text(segs("clip: link.wav"))
    with pytest.raises(InputError) as caught:
        load_story(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (8, 11) and "outside the story's folder" in problem.what
    # the same file is fine when its real folder is an assets folder
    assert load_story(path, assets=(tmp_path,)).segments[0].sound is not None


def test_segment_lookup_by_number_or_id() -> None:
    story = load_story(EXAMPLE)
    assert story.segment("1").index == 1
    assert story.segment("signoff").id == "signoff"
    with pytest.raises(InputError, match="did you mean 'signoff'"):
        story.segment("sigoff")


def test_alias_expansion_is_cut_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a lower limit keeps the file (and the test) small; the mechanism is the same
    monkeypatch.setattr("bulletin.script.yamlnodes.MAX_NODE_VISITS", 3_000)
    path = tmp_path / "story.yaml"
    members = "".join(f"  m{i}: *member\n" for i in range(1_000))
    path.write_text("title: T\ncast:\n  anchor: &member {role: anchor}\n" + members + "segments:\n  - pause: 1\n")
    with pytest.raises(InputError) as caught:
        load_story(path)
    last = caught.value.problems[-1]
    assert last.line == 3 and "aliases repeat" in last.what


def test_segment_limit_stops_the_walk(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(HEAD + "stories:\n  - &s {headline: A, segments: [{pause: 1}]}\n" + "  - *s\n" * 5_000)
    with pytest.raises(InputError) as caught:
        load_story(path)
    (problem,) = caught.value.problems
    assert problem.where == "segment 2001" and problem.line == 8


def test_members_defaults_and_their_effect_on_their_segments(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text("""\
title: Defaults
cast:
  anchor: {}
  kim_bum-soo: {role: reporter}
  moon: {role: official, name: President Moon, title: President of Korea}
  lee: {role: guest}
  park: {role: reporter, effect: phone, voice: anchor-us, gender: female}
segments:
  - anchor: One.
  - kim_bum-soo: Two.
  - moon: Three.
  - lee: Four.
  - park: Five.
  - {speaker: moon, text: Six., effect: none}
""")
    story = load_story(path)
    cast = story.cast
    assert [(m.role, m.effect, m.voice, m.gender) for m in cast.values()] == [
        ("anchor", "none", "auto", None), ("reporter", "none", "auto", None), ("official", "field", "auto", None),
        ("guest", "field", "auto", None), ("reporter", "phone", "anchor-us", "female")]
    assert (cast["anchor"].name, cast["kim_bum-soo"].name) == ("Anchor", "Kim Bum Soo")  # from the id
    assert (cast["moon"].name, cast["moon"].title, cast["anchor"].title) == ("President Moon", "President of Korea", None)
    assert [m.line for m in cast.values()] == [3, 4, 5, 6, 7]
    # a segment takes its speaker's effect unless it names its own
    assert [s.effect for s in story.segments] == ["none", "none", "field", "field", "phone", "none"]
