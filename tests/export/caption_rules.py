"""The broadcast rules for captions, checked on a render's files (VTT, SRT, JSON transcript and
cue sheet) without the code that cut them: shared by the example's and generated stories' tests."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS, MAX_LINES, MIN_S, MAX_S = 42, 2, 1.0, 7.0
MS = 0.0015  # times are written to the millisecond
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")
_CLAUSE_END = re.compile(r"[,;:][\"'”’)]*$")
_ABBREVIATED = re.compile(r"^(?:[A-Z]\.)+$|^(?:Mr|Mrs|Ms|Dr|St|Rep|Sen|Gov|Gen|No|Prof)\.$")


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    speaker: str
    lines: list[str]

    @property
    def words(self) -> list[str]:
        return " ".join(self.lines).split()


def _seconds(stamp: str) -> float:
    h, m, s = stamp.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def vtt_cues(text: str) -> list[Cue]:
    assert text.startswith("WEBVTT\n")
    cues = []
    for block in text.split("\n\n")[1:]:
        lines = block.strip("\n").split("\n")
        if len(lines) < 3 or "-->" not in lines[1]:
            continue
        start, end = lines[1].split(" --> ")
        voice = re.match(r"<v ([^>]+)>", lines[2])
        assert voice, f"a cue without its speaker's voice tag: {lines}"  # one speaker per cue, named
        body = [lines[2][voice.end():], *lines[3:]]
        cues.append(Cue(_seconds(start), _seconds(end), voice[1], [html.unescape(line) for line in body]))
    return cues


def srt_cues(text: str) -> list[Cue]:
    cues = []
    for n, block in enumerate(text.strip().split("\n\n"), 1):
        lines = block.split("\n")
        assert lines[0] == str(n)
        start, end = lines[1].split(" --> ")
        cues.append(Cue(_seconds(start), _seconds(end), "", lines[2:]))
    return cues


def _sentence_end(word: str) -> bool:
    return bool(_SENTENCE_END.search(word)) and not _ABBREVIATED.match(word.rstrip("\"'”’)"))


def check_captions(files: dict[str, Path], protected: list[str]) -> list[Cue]:
    """Every rule, on one render: `protected` are runs of words (a title and a name, a number
    and its unit, a name) that no cue or line may part. Returns the VTT's cues."""
    cue_sheet = json.loads(files["json"].read_text())
    cues = vtt_cues(files["vtt"].read_text())
    names = {m["name"]: member for member, m in cue_sheet["cast"].items()}
    said = [s for s in cue_sheet["segments"] if s.get("words")]
    # the words of the cues, joined, are exactly the written text of the segments
    assert [w for c in cues for w in c.words] == [w for s in said for w in s["text"].split()]
    at = 0  # cue by cue through the segments' words: each cue is one speaker's, in one segment
    for n, cue in enumerate(cues):
        assert len(cue.lines) <= MAX_LINES and all(0 < len(line) <= MAX_CHARS for line in cue.lines), cue
        assert MIN_S - MS <= cue.end_s - cue.start_s <= MAX_S + MS, cue
        if n:
            assert cues[n - 1].end_s <= cue.start_s + MS, (cues[n - 1], cue)
        segment = next(s for s in said if at < sum(len(x["words"]) for x in said[:said.index(s) + 1]))
        first = at - sum(len(x["words"]) for x in said[:said.index(segment)])
        words = segment["words"][first:first + len(cue.words)]
        assert [w["word"] for w in words] == cue.words, (cue, "crosses a segment")
        assert names[cue.speaker] == segment["speaker"]
        # timed to its words: on from the first word's start (or up early by what it lacks of a
        # second, where the next cue leaves no room), to the last one's end at least
        assert words[0]["start"] - MIN_S - MS <= cue.start_s <= words[0]["start"] + MS, cue
        assert cue.end_s >= words[-1]["end"] - MS, cue
        assert cue.start_s >= words[0]["start"] - MS or cue.end_s - cue.start_s <= MIN_S + MS, cue
        _check_break(cue, segment, first, words)
        at += len(cue.words)
    _check_protected(cues, protected)
    _same_cues(cues, srt_cues(files["srt"].read_text()))
    transcript = json.loads(files["transcript.json"].read_text())
    assert transcript["version"] == "1.0.0"
    expected = [(names_of(cue_sheet, s["speaker"]), w["word"], w["start"], w["end"]) for s in said for w in s["words"]]
    assert [(x["speaker"], x["body"], x["startTime"], x["endTime"]) for x in transcript["segments"]] == expected
    return cues


def names_of(cue_sheet: dict, member: str) -> str:
    return cue_sheet["cast"][member]["name"]


def _check_protected(cues: list[Cue], protected: list[str]) -> None:
    """No line and no cue ends inside a protected run of words (each run is found in the text)."""
    flat = [w for c in cues for w in c.words]
    breaks, at = set(), 0
    for cue in cues:
        for line in cue.lines:
            at += len(line.split())
            breaks.add(at)  # a line or cue ends before word `at`
    for run in protected:
        words = run.split()
        found = [i for i in range(len(flat)) if flat[i:i + len(words)] == words]
        assert found, f"{run!r} is not in the captions"
        for i in found:
            assert not breaks & set(range(i + 1, i + len(words))), f"{run!r} is parted"


def _check_break(cue: Cue, segment: dict, first: int, words: list[dict]) -> None:
    """Sentence ends first: a cue that ends inside a sentence could not have held the rest of it
    (too long or too long on screen); one that ends between phrases, not at a clause mark, could
    not have reached the next clause mark either."""
    rest = segment["words"][first + len(words):]
    if not rest or _sentence_end(words[-1]["word"]):
        return
    for ends in (_sentence_end, lambda w: _sentence_end(w) or bool(_CLAUSE_END.search(w))):
        if ends is not _sentence_end and _CLAUSE_END.search(words[-1]["word"]):
            return
        upto = next((k for k, w in enumerate(rest) if ends(w["word"])), len(rest) - 1)
        longer = [w["word"] for w in words + rest[:upto + 1]]
        assert (rest[upto]["end"] - words[0]["start"] > MAX_S
                or not _fits(longer)), (cue, "broken early", longer)


def _fits(words: list[str]) -> bool:
    text = " ".join(words)
    return len(text) <= MAX_CHARS or any(
        len(" ".join(words[:k])) <= MAX_CHARS and len(" ".join(words[k:])) <= MAX_CHARS for k in range(1, len(words)))


def _same_cues(vtt: list[Cue], srt: list[Cue]) -> None:
    """The SRT has the VTT's cues: times and lines."""
    assert [(c.start_s, c.end_s, c.lines) for c in srt] == [(c.start_s, c.end_s, c.lines) for c in vtt]
