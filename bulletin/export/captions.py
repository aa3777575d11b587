"""Captions a viewer can read, cut to broadcast practice from the words' own times.

Each speech segment (and clip with text) is cut into cues (the BBC's subtitle guidelines and
Netflix's timed-text style guide agree on these): at most two lines of at most MAX_CHARS
characters, on screen MIN_CUE_S to MAX_CUE_S, each from its first word's start to its last
word's end (held to MIN_CUE_S where the next cue leaves room). Cues are parted where a reader
would pause: at sentence ends first, then at clause punctuation, then between phrases (before a
conjunction or preposition), and never between a title and a name, a number and its unit, or
inside a name; a cue never holds two speakers. The cheapest cutting of a segment is found by
dynamic programming over its words; the words of the cues, joined, are the written text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bulletin.mix.timeline import Timeline, Word

MAX_CHARS = 42
MIN_CUE_S = 1.0
MAX_CUE_S = 7.0
# what a break costs, by where it falls (a cue's end, or between its two lines)
SENTENCE, CLAUSE, PHRASE, OTHER, LOOSE, FORBIDDEN = 0.0, 1.0, 3.0, 8.0, 12.0, 1e6
CUE_COST = 4.0  # each cue costs this: fewer, fuller cues where the breaks allow
END_WEIGHT = 10.0  # where a cue ends matters more than where its lines part
TOO_SHORT = 1e4  # a cue that cannot stay MIN_CUE_S on screen: join it to its neighbour
CLOSING = "\"'”’)]"
OPENING = "\"'“‘([—–"
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "rep", "sen", "gov", "gen", "lt", "col", "prof", "no", "vs",
                 "jr", "sr", "u.s", "u.k", "a.m", "p.m", "e.g", "i.e"}
TITLES = {"mr.", "mrs.", "ms.", "dr.", "prof.", "rep.", "sen.", "gov.", "gen.", "lt.", "col.", "sgt.", "capt.",
          "president", "minister", "secretary", "ambassador", "chancellor", "governor", "senator", "mayor",
          "judge", "general", "colonel", "captain", "professor", "king", "queen", "prince", "princess", "pope",
          "sir", "dame", "lord", "lady", "chairman", "chairwoman", "director", "envoy", "representative",
          "premier", "councillor", "commissioner", "inspector", "sergeant", "officer", "chief", "spokesman",
          "spokeswoman", "spokesperson"}
UNITS = {"percent", "per", "%", "million", "billion", "trillion", "thousand", "hundred", "dollars", "dollar", "euros",
         "euro", "pounds", "won", "yen", "yuan", "people", "years", "year", "months", "month", "weeks", "week", "days",
         "day", "hours", "hour", "minutes", "minute", "seconds", "second", "km", "kilometres", "kilometers", "miles",
         "metres", "meters", "kg", "kilograms", "tonnes", "tons", "degrees", "a.m.", "p.m.", "am", "pm", "mph",
         "points", "point", "times", "troops", "soldiers", "votes", "seats", "cents"}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan.", "feb.", "mar.", "apr.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec."}
# a phrase may begin at these: a break before one reads well
PHRASE_STARTS = {"and", "but", "or", "nor", "so", "yet", "because", "although", "though", "while", "whereas",
                 "which", "who", "whom", "whose", "that", "where", "when", "after", "before", "since", "until",
                 "unless", "if", "as", "than", "to", "of", "in", "on", "at", "for", "with", "from", "by", "about",
                 "against", "between", "into", "over", "under", "through", "during", "without", "within", "amid",
                 "despite", "including", "according", "saying", "said", "says"}
# a line or cue should not end on these (they lean on the next word)
LEANING = {"the", "a", "an", "of", "to", "and", "or", "but", "in", "on", "at", "for", "with", "from", "by", "its",
           "their", "his", "her", "our", "my", "your", "this", "that", "these", "those", "is", "are", "was", "were"}
_SENTENCE_END = re.compile(r"[.!?…]$")


@dataclass(frozen=True)
class Cue:
    """One caption on screen: who speaks, from when to when, its lines."""

    speaker: str
    start_s: float
    end_s: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _bare(word: str) -> str:
    return word.strip(OPENING + CLOSING).lower()


def _is_name_word(word: str) -> bool:
    core = word.strip(OPENING + CLOSING)
    return bool(core) and core[0].isupper() and not core.isupper() or (len(core) > 1 and core.isupper() and core.isalpha())


def break_cost(before: str, after: str) -> float:
    """What parting `before` from `after` (two words in a row) costs a reader."""
    core = before.rstrip(CLOSING)
    bare, next_bare = _bare(before), _bare(after)
    if _SENTENCE_END.search(core) and bare.rstrip(".") not in ABBREVIATIONS:
        return SENTENCE
    if core.endswith((",", ";", ":", "—", "–")) or after.startswith(("—", "–")):
        return CLAUSE
    if bare in TITLES and _is_name_word(after):
        return FORBIDDEN  # a title and its name
    if any(c.isdigit() for c in before) and (next_bare in UNITS or after.startswith("%")):
        return FORBIDDEN  # a number and its unit
    if (bare in MONTHS or bare in ("no.", "number", "$")) and any(c.isdigit() for c in after):
        return FORBIDDEN  # a date, a number
    if _is_name_word(before) and _is_name_word(after):
        return FORBIDDEN  # inside a name
    if bare in LEANING:
        return LOOSE
    if next_bare in PHRASE_STARTS:
        return PHRASE
    return OTHER


def _lines(words: Sequence[str]) -> tuple[float, tuple[str, ...]] | None:
    """The best way to set `words` in at most two lines of MAX_CHARS: (cost, lines), or
    None when they do not fit."""
    text = " ".join(words)
    if len(text) <= MAX_CHARS:
        return 0.0, (text,)
    best: tuple[float, tuple[str, ...]] | None = None
    for k in range(1, len(words)):
        top, bottom = " ".join(words[:k]), " ".join(words[k:])
        if len(top) > MAX_CHARS or len(bottom) > MAX_CHARS:
            continue
        # a break where a reader pauses, and lines of about one length (the top one shorter)
        cost = break_cost(words[k - 1], words[k]) + abs(len(top) - len(bottom)) / 10 + (len(top) > len(bottom)) * 0.5
        if best is None or cost < best[0]:
            best = cost, (top, bottom)
    return best


def segment_cues(words: Sequence[Word], speaker: str, until_s: float, since_s: float = 0.0) -> list[Cue]:
    """One speaker's words cut into cues; the cues may be on screen from `since_s` (the end of
    the cue before) until `until_s` (when the next cue, of anyone, starts)."""
    cues: list[Cue] = []
    previous_end = since_s
    for i, j, lines in _cutting(words, until_s, since_s):
        latest = words[j].start_s if j < len(words) else until_s
        start, end = _shown(words[i].start_s, words[j - 1].end_s, previous_end, latest)
        cues.append(Cue(speaker, start, end, lines))
        previous_end = end
    return cues


def _shown(first_s: float, last_s: float, earliest_s: float, latest_s: float) -> tuple[float, float]:
    """When a cue is on screen: from its first word to its last, held to MIN_CUE_S where the
    next cue leaves room, else put up early (after the cue before) to make it up."""
    end = max(last_s, min(first_s + MIN_CUE_S, latest_s))
    start = first_s if end - first_s >= MIN_CUE_S else max(earliest_s, min(first_s, end - MIN_CUE_S))
    return start, end


def _cutting(words: Sequence[Word], until_s: float, since_s: float) -> list[tuple[int, int, tuple[str, ...]]]:
    """The cheapest cutting of `words` into cues, as (first, past-the-last word, lines) each:
    dynamic programming over where each cue ends."""
    n = len(words)
    texts = [w.text for w in words]
    best: list[tuple[float, int, tuple[str, ...]]] = [(0.0, 0, ())] + [(float("inf"), 0, ())] * n
    for j in range(1, n + 1):
        end_cost = END_WEIGHT * (break_cost(texts[j - 1], texts[j]) if j < n else SENTENCE)
        latest = words[j].start_s if j < n else until_s
        for i in range(j - 1, -1, -1):
            if words[j - 1].end_s - words[i].start_s > MAX_CUE_S and i < j - 1:
                break
            fitted = _lines(texts[i:j])
            if fitted is None and i < j - 1:
                break
            line_cost, lines = fitted or (FORBIDDEN, (texts[i],))  # one word too long for a line: alone
            start, end = _shown(words[i].start_s, words[j - 1].end_s, words[i - 1].end_s if i else since_s, latest)
            cost = best[i][0] + CUE_COST + end_cost + line_cost + (TOO_SHORT if end - start < MIN_CUE_S - 1e-6 else 0.0)
            if cost < best[j][0]:
                best[j] = (cost, i, lines)
    spans = []
    j = n
    while j > 0:
        spans.append((best[j][1], j, best[j][2]))
        j = best[j][1]
    return spans[::-1]


def timeline_cues(timeline: Timeline, speakers: dict[str, str]) -> list[Cue]:
    """Every cue of the bulletin in order: each placement with words, cut into cues, its
    speaker's name from `speakers` (member id -> name)."""
    said = [p for p in timeline.placements if p.words]
    cues: list[Cue] = []
    since = 0.0  # the earliest the cue before may end: after its last word, a second after its start
    for n, placement in enumerate(said):
        # the last cue may stay past the end of the sound (a player shows it to the end)
        until = said[n + 1].words[0].start_s if n + 1 < len(said) else timeline.duration_s + MIN_CUE_S

        name = speakers.get(placement.segment.speaker or "", "")
        made = segment_cues(placement.words, name, max(until, placement.words[-1].end_s), since)
        if cues and cues[-1].end_s > made[0].start_s:  # held over this one's early start: let go
            cues[-1] = replace(cues[-1], end_s=made[0].start_s)
        cues += made
        since = max(placement.words[-1].end_s, made[-1].start_s + MIN_CUE_S)
    return cues


def _clock(seconds: float, mark: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{mark}{ms % 1000:03d}"


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(cues: Sequence[Cue], note: str) -> str:
    """WebVTT: each cue with its speaker's voice tag (`<v Name>`), its lines below it."""
    out = ["WEBVTT", f"NOTE {note.replace('-->', '->')}", ""]
    for n, cue in enumerate(cues, 1):
        voice = f"<v {cue.speaker.replace('>', '')}>" if cue.speaker else ""
        out += [str(n), f"{_clock(cue.start_s, '.')} --> {_clock(cue.end_s, '.')}",
                voice + "\n".join(_escaped(line) for line in cue.lines), ""]
    return "\n".join(out)


def subrip(cues: Sequence[Cue]) -> str:
    """SubRip (.srt): the same cues and lines, numbered, times with a decimal comma."""
    out = []
    for n, cue in enumerate(cues, 1):
        out += [str(n), f"{_clock(cue.start_s, ',')} --> {_clock(cue.end_s, ',')}", *cue.lines, ""]
    return "\n".join(out)


def transcript(timeline: Timeline, speakers: dict[str, str]) -> dict:
    """The Podcasting 2.0 JSON transcript: one segment per word, with its speaker and times."""
    segments = []
    for placement in timeline.placements:
        name = speakers.get(placement.segment.speaker or "", "")
        for word in placement.words:
            entry: dict[str, object] = {"speaker": name} if name else {}
            entry.update(startTime=round(word.start_s, 3), endTime=round(word.end_s, 3), body=word.text)
            segments.append(entry)
    return {"version": "1.0.0", "segments": segments}
