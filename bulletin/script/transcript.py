"""Import a broadcast transcript (the text of a news web page) into a story file.

The transcripts are one family, KBS World Radio's news pages, written in a few
conventions that this module reads line by line:

- labels: ``Anchor:`` / ``[Anchor Lead]`` for the lead, ``Report:`` / ``[Pkg]``
  for the package, with the text on the same line or on the lines after it;
- sound bites: ``[Sound bite: NAME - TITLE]`` or ``[Soundbite] NAME (TITLE) : "quote"``,
  with the speaker and the quote on that line or on the next ones, quoted or not;
- ``NAME, STATION News.`` as the reporter's sign-off, and "NAME has more." or
  "NAME reports." at the end of the lead;
- numbered headings (``2. U.S. Veterans``) when one page carries several stories;
- page furniture around all of it (menus, dates, photo credits, share buttons,
  related news, cookie notices, copyright lines), which is dropped.

Nothing here is certain, so the importer never stops on an odd line: whatever it
cannot place becomes a warning naming the line, and the producer reads the
warnings before rendering. Only a file with no news in it at all is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from bulletin.base.errors import InputError, Problem

__all__ = ["ImportResult", "import_transcript"]

SCHEMA_COMMENT = "# yaml-language-server: $schema=https://bulletin.invalid/story.schema.json"
DEFAULT_TITLE = "News Bulletin"
MAX_TRANSCRIPT_BYTES = 20_000_000  # far beyond any web page; refuses to read a disk image
MAX_STORY_BYTES = 1_000_000  # the story format's own limit
MAX_TEXT_CHARS = 10_000  # the story format's limit for one speech segment
LANGUAGE = "en"


@dataclass
class ImportResult:
    """The imported story and what the importer was unsure of."""

    story_yaml: str  # a complete story file, ready to write as story.yaml
    warnings: list[str]  # each "FILE:LINE: what is unsure"


def import_transcript(path: Path) -> ImportResult:
    """Read a transcript and return the story file text made from it.

    Raises InputError when the file cannot be read, is not UTF-8 text, or holds
    nothing that looks like news (no labels, sound bites, headings or sign-off).
    """
    path = Path(path)
    name = str(path)
    tokens = [_classify(number, text) for number, text in enumerate(_read_lines(path), 1)]
    parser = _Parser(tokens, name)
    parser.parse()
    story = _assemble(parser, path)
    text = _emit(story, path.name)
    if len(text.encode("utf-8")) > MAX_STORY_BYTES:
        raise InputError(
            [
                Problem(
                    name,
                    1,
                    1,
                    "transcript",
                    f"the story would be over the {MAX_STORY_BYTES:,}"
                    " byte limit of a story file; split the transcript into smaller files",
                )
            ]
        )
    warnings = [f"{name}:{line}: {what}" for line, what in sorted(parser.warnings, key=_line_of)]
    return ImportResult(story_yaml=text, warnings=warnings)


# --------------------------------------------------------------------------- reading


def _read_lines(path: Path) -> list[str]:
    """The file's lines, decoded strictly: a wrong encoding would garble names silently."""
    name = str(path)
    try:
        if path.stat().st_size > MAX_TRANSCRIPT_BYTES:
            raise InputError(
                f"{name}: too large to be a transcript (over {MAX_TRANSCRIPT_BYTES:,} bytes)"
            )
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{name}: cannot read the transcript: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            [
                Problem(
                    name,
                    line,
                    column,
                    "transcript",
                    f"not UTF-8 text (byte 0x{data[error.start]:02x}); "
                    "save the transcript as UTF-8 and import it again",
                )
            ]
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(
            [
                Problem(
                    name,
                    line,
                    1,
                    "transcript",
                    "a NUL character: this is a binary file, not a transcript",
                )
            ]
        )
    # Split on CR, LF and CRLF only, so line numbers match what an editor shows
    # (str.splitlines would also split on form feeds and Unicode separators).
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _tidy(raw: str) -> str:
    """One line with invisible characters removed and white space collapsed.

    Web pages leave no-break spaces at line ends and zero-width spaces inside;
    neither belongs in the spoken text.
    """
    text = raw.replace("\u200b", "").replace("\ufeff", "").replace("\u00ad", "")
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- line classes

BLANK, FURNITURE, END, HEADING, ANCHOR, TAG, REPORT, BITE, SIGNOFF, LABEL, TEXT = (
    "blank",
    "furniture",
    "end",
    "heading",
    "anchor",
    "tag",
    "report",
    "bite",
    "signoff",
    "label",
    "text",
)


@dataclass(frozen=True)
class _Token:
    """One classified line of the transcript."""

    kind: str
    line: int
    text: str  # the tidied line
    body: str = ""  # the text after a label on the same line
    speaker: str | None = None  # a sound bite's speaker as written, when the label gives it
    name: str = ""  # a sign-off's reporter
    station: str = ""  # a sign-off's station, which names the programme


# Whole lines that are page furniture (compared case-folded, apostrophes straightened).
_FURNITURE_LINES = frozenset(
    """
menu content|go top|top|menu|go to top|back to top|skip to content|skip navigation|search|close
|home|login|log in|sign in|sign up|subscribe|list|go to list|back to list|prev|previous|next
|more|view more|listen|listen again|play|pause|stop|download|font size|print|share|scrap
|kbs world|kbs world radio|kbs world radio news|kbs|news|advertisement|ad|sponsored|language
|english|korean|a+|a-|url copy|copy url|copy link|link copy|tweet|headlines|news headlines
""".replace("\n", "").split("|")
)

# Lines after which the article is over: what follows is links to other articles.
_END_LINES = frozenset(
    """
related news|related articles|editor's pick|editors' pick|most viewed|most read|latest news
|popular news|top news|more news|other news|recommended|you may also like|hot issues|hot issue
""".replace("\n", "").split("|")
)

_SHARE_WORDS = frozenset(
    "share facebook twitter x kakaotalk kakaostory kakao line band naver print email e-mail "
    "url copy link scrap tweet whatsapp telegram pinterest linkedin reddit a+ a- font size".split()
)
_FURNITURE_PATTERNS = [
    re.compile(r"^(written|posted|published|updated|edited|input|date)\s*[:：]", re.I),
    re.compile(r"^(photo|photos|image|graphic|video|caption)\s*[:：]", re.I),
    re.compile(r"^(©|ⓒ|\(c\)\s|copyright\b)", re.I),
    re.compile(r"all rights reserved|unauthorized reproduction|redistribution prohibited", re.I),
    re.compile(r"\bcookies?\b.*\b(consent|policy|accept|agree|technolog)", re.I),
    re.compile(r"^this (web)?site uses", re.I),
]

_BRACKET_LABEL = re.compile(r"^\[\s*(?P<label>[^\[\]]{1,300}?)\s*\]\s*(?P<rest>.*)$")
_COLON_LABEL = re.compile(
    r"^(?P<label>anchor(?: lead)?|report(?:er)?|correspondent|package|pkg|narration"
    r"|sound ?bite|sot)\s*[:：]\s*(?P<rest>.*)$",
    re.I,
)
_ANCHOR_KEYS = frozenset(
    {"anchor", "anchorlead", "anchorment", "anchorcomment", "anchorintro", "lead"}
)
_TAG_KEYS = frozenset({"closing", "closingcomment", "anchortag", "tag", "anchorclosing"})
_REPORT_KEYS = frozenset(
    {
        "report",
        "reporter",
        "correspondent",
        "pkg",
        "package",
        "standup",
        "reporterstandup",
        "narration",
        "vo",
        "voiceover",
    }
)
_BITE_KEYS = frozenset({"soundbite", "soundbites", "sot", "bite", "interview", "actuality", "sb"})

_HEADING = re.compile(r"^(?P<number>\d{1,2})[.)]\s+(?P<headline>\S.{0,150})$")

_NAME = r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,4}"
_STATION = r"(?:[A-Z][\w&'’.-]*\s+){0,6}(?:News|Radio)"
_SIGNOFF_TAIL = (
    rf"(?:This is\s+)?(?P<name>{_NAME}),\s+(?P<station>{_STATION})"
    r"(?:,\s+[A-Z][\w .'’-]{0,40})?\s*\.?"
)
_SIGNOFF = re.compile(rf"^{_SIGNOFF_TAIL}$")
# A sign-off run on at the end of the last paragraph, after its final sentence.
_SIGNOFF_AT_END = re.compile(rf"(?<=[.!?\"”’])\s+{_SIGNOFF_TAIL}$")


def _classify(number: int, raw: str) -> _Token:
    """What one line is, judged on its own; the parser judges it again in context."""
    text = _tidy(raw)
    if not text:
        return _Token(BLANK, number, text)
    folded = text.casefold().replace("’", "'")
    if folded in _END_LINES:
        return _Token(END, number, text)
    if _is_furniture(folded):
        return _Token(FURNITURE, number, text)
    label = _BRACKET_LABEL.match(text) or _COLON_LABEL.match(text)
    if label:
        return _labelled(number, text, label.group("label"), label.group("rest"))
    heading = _HEADING.match(text)
    if heading and _looks_like_headline(heading.group("headline")):
        return _Token(HEADING, number, text, body=heading.group("headline"))
    signoff = _SIGNOFF.match(text)
    if signoff:
        return _Token(
            SIGNOFF, number, text, name=signoff.group("name"), station=signoff.group("station")
        )
    return _Token(TEXT, number, text)


def _is_furniture(folded: str) -> bool:
    if folded in _FURNITURE_LINES or any(p.search(folded) for p in _FURNITURE_PATTERNS):
        return True
    # A row of share buttons: "Facebook Twitter KakaoStory", "Share | Print".
    words = [w for w in re.split(r"[\s|/·•,]+", folded) if w]
    return bool(words) and len(words) <= 10 and all(w in _SHARE_WORDS for w in words)


def _labelled(number: int, text: str, label: str, rest: str) -> _Token:
    """A line that starts with a label: `[Pkg]`, `Anchor:`, `[Sound bite: NAME - TITLE]`."""
    head, _, spec = label.partition(":")
    key = re.sub(r"[^a-z]", "", head.casefold())
    rest = rest.strip()
    if key in _BITE_KEYS:
        if spec.strip():
            return _Token(BITE, number, text, body=rest, speaker=spec.strip())
        speaker, quote = _split_bite_rest(rest)
        return _Token(BITE, number, text, body=quote or "", speaker=speaker)
    for keys, kind in ((_ANCHOR_KEYS, ANCHOR), (_TAG_KEYS, TAG), (_REPORT_KEYS, REPORT)):
        if key in keys:
            return _Token(kind, number, text, body=rest)
    return _Token(LABEL, number, text, body=rest, speaker=label)


# --------------------------------------------------------------------------- speakers

_OPEN_QUOTES = '"“„«‘'
_PARTICLES = frozenset(
    {
        "of",
        "the",
        "and",
        "for",
        "de",
        "van",
        "von",
        "bin",
        "al",
        "la",
        "le",
        "da",
        "du",
        "der",
        "on",
        "at",
        "in",
        "to",
    }
)
_LANGUAGES = frozenset(
    {
        "korean",
        "english",
        "japanese",
        "chinese",
        "mandarin",
        "russian",
        "french",
        "german",
        "spanish",
        "arabic",
        "vietnamese",
        "indonesian",
    }
)
_META_WORDS = frozenset(
    {
        "file",
        "archive",
        "phone",
        "telephone",
        "voice",
        "video",
        "via",
        "recorded",
        "translated",
        "interpreted",
        "interpretation",
        "translation",
        "footage",
        "courtesy",
        "yonhap",
        "kbs",
    }
)
_MONTH_DATE = re.compile(
    r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*\d{1,2}"
    r"(st|nd|rd|th)?(\s*,?\s*\d{4})?$|^\d{4}[-.]\d{1,2}[-.]\d{1,2}$|^\d{1,2}$"
)
_GUEST = re.compile(
    r"\b(citizens?|residents?|students?|experts?|professors?|analysts?|researchers?|fellows?"
    r"|scholars?|economists?|commentators?|voters?|shoppers?|protesters?|workers?|employees?"
    r"|parents?|patients?|visitors?|tourists?|farmers?|merchants?|vendors?|owners?|fans?"
    r"|survivors?|victims?|witness(es)?|activists?|defectors?|veterans?|seekers?|commuters?"
    r"|passengers?|consumers?|investors?|traders?|retirees?|pensioners?|athletes?|players?"
    r"|artists?|teachers?|doctors?|nurses?|volunteers?|institute|university|think tank"
    r"|passers?-by|locals?)\b",
    re.I,
)
_HONORIFICS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "rep",
        "sen",
        "gov",
        "gen",
        "president",
        "minister",
        "chairman",
        "chairwoman",
        "lawmaker",
        "ambassador",
        "secretary",
        "premier",
        "prime",
        "king",
        "queen",
        "pope",
    }
)
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd"})


def _split_bite_rest(rest: str) -> tuple[str | None, str | None]:
    """Split what follows `[Soundbite]` into (speaker, quote); either may be missing."""
    if not rest:
        return None, None
    if rest[0] in _OPEN_QUOTES:
        return None, rest
    colon = re.match(r"^(?P<spec>[^:：\"“]+?)\s*[:：]\s*(?P<quote>.*)$", rest)
    if colon and _looks_like_speaker(colon.group("spec")):
        return colon.group("spec"), colon.group("quote") or None
    opening = next((i for i, ch in enumerate(rest) if ch in '"“'), -1)
    if opening > 0 and _looks_like_speaker(rest[:opening]):
        return rest[:opening].strip(), rest[opening:]
    if _looks_like_speaker(rest):
        return rest, None
    return None, rest  # an unquoted quote with nobody named


def _looks_like_speaker(spec: str) -> bool:
    """Whether a line reads like `NAME (TITLE)` / `NAME - TITLE` rather than a sentence."""
    spec = spec.strip().rstrip(":：").strip()
    if not spec or spec[0] in _OPEN_QUOTES or len(spec.split()) > 16:
        return False
    if spec[-1] in ".!?,;" and not re.search(r"\b[A-Z][a-z]{0,3}\.$", spec):
        return False
    name = re.split(r"\s*\(|\s+[-–—]\s+|,\s+", spec, maxsplit=1)[0]
    words = name.split()
    return 1 <= len(words) <= 6 and all(w[0].isupper() or w in _PARTICLES for w in words)


def _parse_speaker(spec: str) -> tuple[str, str, list[str]]:
    """(name, title, notes) from `NAME - TITLE`, `NAME (TITLE)` or `NAME, TITLE`.

    A parenthesis that holds a language or a date, as in `(Korean/Nov. 19)`,
    is a note about the recording rather than the speaker's title.
    """
    spec = spec.strip().rstrip(":：").strip()
    title = ""
    notes: list[str] = []
    for inner in re.findall(r"\(([^()]*)\)", spec):
        if _is_recording_note(inner):
            notes.append(inner)
        elif not title:
            title = inner.strip()
    spec = re.sub(r"\s*\([^()]*\)", "", spec).strip()
    parts = re.split(r"\s+[-–—]\s+|\s*[–—]\s*|,\s+", spec, maxsplit=1)
    name = parts[0].strip()
    if len(parts) == 2 and parts[1].strip():
        title = parts[1].strip() if not title else f"{parts[1].strip()} ({title})"
    return name, title, notes


def _is_recording_note(inner: str) -> bool:
    parts = [p.strip().casefold() for p in re.split(r"[/,;]", inner)]
    return all(
        not p or p in _LANGUAGES or _MONTH_DATE.match(p) or p.split()[0] in _META_WORDS
        for p in parts
    )


def _person_key(name: str, title: str) -> str:
    """Who a speaker is, so that `President Moon Jae-in` and `Moon Jae-in` are one member."""
    words = [w.strip(".").casefold() for w in name.split()]
    while len(words) > 1 and words[0] in _HONORIFICS:
        words.pop(0)
    return " ".join(words) if words else f"(unnamed) {title.casefold()}"


def _cast_id(name: str) -> str:
    """A cast id from a name: the family name, lower-cased ASCII (`moon`, `engel`).

    Korean names put the family name first and a hyphenated given name after
    it (Moon Jae-in, Kim Bum-soo), so a last word like `Jae-in` means the word
    before it is the family name.
    """
    words = [w for w in re.split(r"[\s,]+", name) if w]
    while len(words) > 1 and words[-1].strip(".").casefold() in _SUFFIXES:
        words.pop()
    if not words:
        return ""
    last = words[-1]
    if len(words) >= 2 and re.fullmatch(r"[A-Z][a-z]+-[a-z]+", last):
        last = words[-2]
    ascii_name = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_-]+", "", ascii_name.casefold()).strip("-_")


# --------------------------------------------------------------------------- text helpers

_TERMINAL = '.!?:;"”’)…'
_INTRO = re.compile(
    r"^(?:(?:Here's|Here is)\s+)?(?:.*?\s)??(?P<name>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,3})\s+"
    r"(?:has more|has the story|has the details|has details|has this report|has the report"
    r"|reports|reports from .+|with more|with the story|with details)\s*\.?$"
)
_NOT_A_REPORTER = re.compile(
    r"\b(Ministry|Agency|Office|Committee|Affairs|Government|News|Service|Administration"
    r"|Police|Court|Party|Bank|Association|Institute|Company|Yonhap|Reuters|AP|AFP|KCNA"
    r"|Bloomberg|Xinhua|Kyodo|NHK|CNN|BBC|Statistics|Korea)\b"
)


def _spoken(text: str) -> str:
    """Text as it is read: a bracketed insertion such as `[the]` is the
    broadcaster's clarification and is read, so only the brackets go."""
    text = re.sub(r"\[([^\[\]]*)\]", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def _looks_like_headline(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 25 or text[0] in _OPEN_QUOTES:
        return False
    # A headline has no full stop, though it may end in an abbreviation ("U.S.").
    return not text.endswith((".", ",", ";", ":")) or bool(re.search(r"\b(?:[A-Z]\.)+$", text))


def _looks_like_prose(text: str) -> bool:
    return len(text.split()) >= 6 and text[-1] in _TERMINAL


def _reporter_in_intro(paragraph: str) -> str | None:
    """The reporter an anchor hands over to in the lead's last sentence, if any."""
    last = re.split(r"(?<=[.!?])\s+", paragraph)[-1]
    if len(last.split()) > 10:
        return None
    match = _INTRO.match(last)
    if not match or _NOT_A_REPORTER.search(match.group("name")):
        return None
    return match.group("name")


def _ends_quote(text: str) -> bool:
    return bool(re.search(r"[\"”»’][.,!?]?$", text))


def _unquote(parts: list[str]) -> str:
    """A quote's paragraphs without their quotation marks.

    A quote over several paragraphs opens each one and closes only the last.
    """
    opened = parts[0][:1] in _OPEN_QUOTES
    cleaned = []
    for index, part in enumerate(parts):
        if part[:1] in _OPEN_QUOTES:
            part = part[1:]
        if opened and index == len(parts) - 1:
            part = re.sub(r"[\"”»’]([.,!?]?)$", r"\1", part)
        cleaned.append(part.strip())
    return _spoken(" ".join(cleaned))


def _chunks(text: str) -> list[str]:
    """Text cut at sentence ends into pieces within the segment limit."""
    if len(text) <= MAX_TEXT_CHARS:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        while len(sentence) > MAX_TEXT_CHARS:  # one endless sentence: cut at a space
            cut = sentence.rfind(" ", 0, MAX_TEXT_CHARS)
            cut = cut if cut > 0 else MAX_TEXT_CHARS
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > MAX_TEXT_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _line_of(warning: tuple[int, str]) -> int:
    return warning[0]


# --------------------------------------------------------------------------- the parser


@dataclass
class _Person:
    """A sound-bite speaker."""

    key: str
    name: str
    title: str
    role: str
    line: int  # the first sound bite, for warnings
    effect: str | None = None


@dataclass
class _Speech:
    """One paragraph or one sound bite, before cast ids are given out."""

    who: str  # "anchor", "reporter" (this story's reporter) or a _Person key
    text: str
    line: int
    last_line: int  # the last source line in it, to join a hard-wrapped paragraph
    signoff: bool = False


@dataclass
class _StoryDraft:
    headline: str | None
    line: int
    speeches: list[_Speech] = field(default_factory=list)
    reporter: str | None = None  # from the sign-off, the surest source
    intro_reporter: str | None = None  # from "NAME has more." in the lead
    station: str | None = None
    has_package: bool = False  # a report label, a sound bite or a sign-off was seen
    handed_over: bool = False  # a report label or an intro told us where the package starts


class _Parser:
    """Walks the classified lines once, keeping the story, the voice and the mode.

    mode is "pre" before the news starts (page header, title), "news" inside a
    story, "after" once a sign-off or a "Related News" block has ended one.
    """

    def __init__(self, tokens: list[_Token], file: str) -> None:
        self.tokens = tokens
        self.file = file
        self.i = 0
        self.mode = "pre"
        self.voice = "anchor"
        self.after_end = False  # past "Related News": what follows is links, said nothing
        self.page_title: str | None = None
        self.pending_headline: str | None = None  # a title line seen between stories
        self.stories: list[_StoryDraft] = []
        self.people: dict[str, _Person] = {}
        self.warnings: list[tuple[int, str]] = []
        self.signals = 0  # labels, bites, headings, sign-offs: evidence this is news
        self.implicit_warned = False

    # ---- driving

    def parse(self) -> None:
        handlers = {
            HEADING: self._on_heading,
            ANCHOR: self._on_anchor,
            TAG: self._on_tag,
            REPORT: self._on_report,
            BITE: self._on_bite,
            SIGNOFF: self._on_signoff,
            LABEL: self._on_label,
            TEXT: self._on_text,
            END: self._on_end,
        }
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            handler = handlers.get(token.kind)
            if handler:
                handler(token)
        self._finish()

    def warn(self, line: int, what: str) -> None:
        self.warnings.append((line, what))

    @property
    def story(self) -> _StoryDraft | None:
        return self.stories[-1] if self.stories else None

    def _start_story(self, headline: str | None, line: int) -> _StoryDraft:
        if headline is None:
            headline = self.pending_headline or (self.page_title if not self.stories else None)
        story = _StoryDraft(headline=headline, line=line)
        self.stories.append(story)
        self.pending_headline = None
        self.mode, self.voice, self.after_end = "news", "anchor", False
        return story

    def _current(self, line: int) -> _StoryDraft:
        """The story that a package label or a sound bite belongs to."""
        story = self.story
        if story is None or (self.mode == "after" and story.reporter is not None):
            return self._start_story(None, line)
        self.mode = "news"
        return story

    # ---- labels

    def _on_heading(self, token: _Token) -> None:
        self.signals += 1
        self._start_story(token.body, token.line)

    def _on_anchor(self, token: _Token) -> None:
        self.signals += 1
        story = self.story
        if story is None or story.has_package or self.mode == "after":
            self._start_story(None, token.line)
        self.mode, self.voice = "news", "anchor"
        self._say(token.body, token.line)

    def _on_tag(self, token: _Token) -> None:
        """An anchor's closing line after a package: same story, anchor's voice."""
        self.signals += 1
        if self.story is None:
            self._start_story(None, token.line)
        self.mode, self.voice = "news", "anchor"
        self._say(token.body, token.line)

    def _on_report(self, token: _Token) -> None:
        self.signals += 1
        story = self._current(token.line)
        story.has_package = story.handed_over = True
        self.voice = "reporter"
        self._say(token.body, token.line)

    def _on_label(self, token: _Token) -> None:
        if self.mode != "news":
            return
        self.warn(token.line, f"unknown label '[{token.speaker}]' left out")
        if token.body:
            self._say(token.body, token.line)

    def _on_end(self, token: _Token) -> None:
        self.mode, self.after_end = "after", True

    # ---- sound bites

    def _on_bite(self, token: _Token) -> None:
        self.signals += 1
        story = self._current(token.line)
        story.has_package = True
        speaker, body = token.speaker, token.body
        if speaker is None and not body:
            speaker, body = self._speaker_on_next_line()
        elif (
            speaker is None
            and body[0] not in _OPEN_QUOTES
            and self._describes_speaker(self.i - 1, body)
        ):
            speaker, body = body, ""  # `[Soundbite] Seoul resident` with the quote below
        who = _parse_speaker(speaker)[0] if speaker else ""
        who = who or "an unnamed speaker"
        parts = [body] if body else self._quote_on_next_lines(token.line, who)
        if not parts:
            self.warn(token.line, f"sound bite of {who!r} has no quote; left out")
            return
        text = _unquote(parts)
        if not text:
            self.warn(token.line, f"sound bite of {who!r} has an empty quote; left out")
            return
        person = self._person(speaker, token.line)
        story.speeches.append(_Speech(person.key, text, token.line, token.line))

    def _next_content(self, start: int | None = None) -> tuple[int, _Token, bool] | None:
        """The next line that is not blank or furniture, and whether a blank line came first."""
        blank = False
        for j in range(self.i if start is None else start, len(self.tokens)):
            token = self.tokens[j]
            if token.kind == BLANK:
                blank = True
            elif token.kind != FURNITURE:
                return j, token, blank
        return None

    def _speaker_on_next_line(self) -> tuple[str | None, str]:
        """`[Soundbite]` alone: the speaker may follow as `NAME (TITLE)` or `NAME (TITLE) : "quote"`."""
        found = self._next_content()
        if found is None or found[1].kind != TEXT:
            return None, ""
        j, token, _ = found
        speaker, quote = _split_bite_rest(token.text)
        if speaker is None and self._describes_speaker(j, token.text):
            speaker, quote = token.text, None
        if speaker is None:
            return None, ""
        self.i = j + 1
        return speaker, quote or ""

    def _describes_speaker(self, j: int, text: str) -> bool:
        """A short unpunctuated line such as `Joint Chiefs of Staff spokesperson` with a
        quoted line right after it names the speaker, though it is no proper name."""
        after = self._next_content(j + 1)
        return (
            len(text.split()) <= 10
            and text[0].isupper()
            and text[-1] not in ".!?,;"
            and after is not None
            and after[1].kind == TEXT
            and after[1].text[0] in _OPEN_QUOTES
        )

    def _quote_on_next_lines(self, line: int, who: str) -> list[str]:
        """The quote under a sound-bite label: the next paragraph, and more while it is open."""
        found = self._next_content()
        if found is None or found[1].kind != TEXT:
            return []
        j, token, blank = found
        self.i = j + 1
        parts = [token.text]
        if token.text[0] not in _OPEN_QUOTES:
            if blank:
                self.warn(
                    token.line,
                    f"took this unquoted line after a blank line as "
                    f"the sound bite of {who!r} (line {line})",
                )
            return parts
        while not _ends_quote(parts[-1]):
            found = self._next_content()
            if found is None or found[1].kind != TEXT:
                break
            j, token, blank = found
            if blank and token.text[0] not in _OPEN_QUOTES:
                break  # the narration is back; the quote was never closed
            self.i = j + 1
            parts.append(token.text)
        return parts

    def _person(self, speaker: str | None, line: int) -> _Person:
        name, title, notes = _parse_speaker(speaker or "")
        key = _person_key(name, title)
        person = self.people.get(key)
        if person is not None:
            person.title = person.title or title
            return person
        role = "guest" if (not name or _GUEST.search(f"{name} {title}")) else "official"
        effect = "phone" if any("phone" in note.casefold() for note in notes) else None
        person = _Person(key, name, title, role, line, effect)
        self.people[key] = person
        if not name:
            self.warn(line, "sound bite names no speaker; cast as an unnamed guest")
        return person

    # ---- sign-off

    def _on_signoff(self, token: _Token) -> None:
        self.signals += 1
        if self.story is None:
            self.warn(token.line, "sign-off before any news text; left out")
            return
        self._sign_off(token.text, token.name, token.station, token.line)

    def _sign_off(self, text: str, name: str, station: str, line: int) -> None:
        story = self.story
        assert story is not None  # callers have a story
        if not story.handed_over:
            self.warn(
                line,
                "sign-off without a 'Report:'/'[Pkg]' label or a 'NAME has more.' "
                "line; the text before it is read by the anchor",
            )
        if story.intro_reporter and _person_key(story.intro_reporter, "") != _person_key(name, ""):
            self.warn(
                line,
                f"the lead hands over to {story.intro_reporter!r} but "
                f"{name!r} signs off; the sign-off's name is used",
            )
        story.reporter, story.station = name, station
        story.has_package = True
        story.speeches.append(_Speech("reporter", _spoken(text), line, line, signoff=True))
        self.mode = "after"

    # ---- text

    def _on_text(self, token: _Token) -> None:
        if self.mode == "pre":
            self._text_before_news(token)
        elif self.mode == "after":
            self._text_after_story(token)
        else:
            self._text_in_story(token)

    def _text_before_news(self, token: _Token) -> None:
        text = token.text
        if self.page_title and text.casefold() == self.page_title.casefold():
            return  # the title, repeated under the date
        if re.match(r"^By\s+[A-Z]", text) and len(text.split()) <= 6:
            return  # a byline; the sign-off names the reporter more reliably
        if self.page_title is None and _looks_like_headline(text):
            self.page_title = text
        elif _looks_like_prose(text):
            if not self.implicit_warned:
                self.warn(
                    token.line,
                    "the news text starts without an 'Anchor:' or "
                    "'[Anchor Lead]' label; it is read by the anchor",
                )
                self.implicit_warned = True
            self._start_story(None, token.line)
            self._text_in_story(token)
        elif len(text.split()) >= 6:
            self.warn(
                token.line,
                "left out a line before the news text: could not tell whether it is spoken",
            )

    def _text_after_story(self, token: _Token) -> None:
        if _looks_like_headline(token.text):
            self.pending_headline = token.text  # perhaps the title of the next article
        elif not self.after_end and _looks_like_prose(token.text):
            self.warn(token.line, "left out text after the sign-off")

    def _text_in_story(self, token: _Token) -> None:
        story = self.story
        assert story is not None  # mode "news" always has a story
        text = token.text
        if not story.speeches and text.casefold() in {
            (story.headline or "").casefold(),
            (self.page_title or "").casefold(),
        }:
            return  # the title repeated under a heading
        tail = _SIGNOFF_AT_END.search(text)
        if tail:
            self._say(text[: tail.start()], token.line)
            self.signals += 1
            self._sign_off(
                tail.group(0).strip(), tail.group("name"), tail.group("station"), token.line
            )
            return
        if len(text.split()) <= 3 and text[-1] not in _TERMINAL and not self._continues(token):
            self.warn(
                token.line,
                f"short line {text!r} kept as {self.voice} text; delete it if it is not spoken",
            )
        self._say(text, token.line)

    def _continues(self, token: _Token) -> bool:
        """Whether this line carries on the previous one's sentence (a hard-wrapped paragraph)."""
        story = self.story
        if story is None or not story.speeches:
            return False
        last = story.speeches[-1]
        return (
            last.last_line == token.line - 1
            and not last.signoff
            and last.who == self.voice
            and len(last.text.split()) >= 6
            and last.text[-1] not in _TERMINAL
        )

    def _say(self, text: str, line: int) -> None:
        """Add a paragraph in the current voice, joining a line that carries on the last one."""
        text = _spoken(text)
        story = self.story
        if not text or story is None:
            return
        if self._continues(_Token(TEXT, line, text)):
            last = story.speeches[-1]
            last.text, last.last_line = f"{last.text} {text}", line
        else:
            story.speeches.append(_Speech(self.voice, text, line, line))
        if self.voice == "anchor":
            name = _reporter_in_intro(story.speeches[-1].text)
            if name:
                story.intro_reporter = name
                story.handed_over = True
                self.signals += 1
                self.voice = "reporter"  # the package follows the hand-over, label or not

    # ---- the end

    def _finish(self) -> None:
        kept = []
        for story in self.stories:
            if not story.speeches:
                self.warn(story.line, f"story {story.headline or ''!r} has no text; left out")
                continue
            if not story.headline:
                words = re.split(r"(?<=[.!?])\s+", story.speeches[0].text)[0].split()[:10]
                story.headline = " ".join(words).rstrip(".,;:")
                self.warn(
                    story.line,
                    f"no title for this story; headline made from its first "
                    f"words: {story.headline!r}",
                )
            kept.append(story)
        self.stories = kept
        for person in self.people.values():
            # Only now: a later bite of the same speaker may have given the title.
            if person.name and not person.title:
                self.warn(
                    person.line,
                    f"sound bite of {person.name!r} gives no title; the cast member has none",
                )
        if not self.stories or self.signals == 0:
            raise InputError(
                [
                    Problem(
                        self.file,
                        1,
                        1,
                        "transcript",
                        "no news found: expected 'Anchor:' or '[Anchor Lead]', 'Report:' or '[Pkg]', "
                        "'[Sound bite: NAME - TITLE]', numbered headings or a sign-off such as "
                        "'Kim Bum-soo, KBS World Radio News.'",
                    )
                ]
            )


# --------------------------------------------------------------------------- the story


def _assemble(parser: _Parser, path: Path) -> dict[str, object]:
    """The story mapping, in the order a producer reads a story file."""
    ids = _CastIds()
    cast: dict[str, dict[str, str]] = {}
    if any(s.who == "anchor" for story in parser.stories for s in story.speeches):
        cast[ids.claim("anchor", "anchor")] = {"role": "anchor"}
    reporters = [_reporter_of(story, parser, ids, cast) for story in parser.stories]
    for person in parser.people.values():
        member_id = ids.claim(person.key, _cast_id(person.name or person.title) or "unnamed")
        member = {"role": person.role}
        if person.name:
            member["name"] = person.name
        if person.title:
            member["title"] = person.title
        if person.effect:
            member["effect"] = person.effect
        cast[member_id] = member

    many = len(parser.stories) > 1
    stings = {"open": "builtin:open", "close": "builtin:close"}
    if many:
        stings["transition"] = "builtin:transition"
    stories = []
    signoffs = 0
    for index, (story, reporter) in enumerate(zip(parser.stories, reporters, strict=True)):
        segments: list[dict[str, object]] = [{"sting": "open" if index == 0 else "transition"}]
        for speech in story.speeches:
            speaker = reporter if speech.who == "reporter" else ids.of(speech.who)
            for chunk in _chunks(speech.text):
                if speech.signoff:
                    signoffs += 1
                    name = "signoff" if signoffs == 1 else f"signoff-{signoffs}"
                    segments.append({"speaker": speaker, "text": chunk, "id": name})
                else:
                    segments.append({speaker: chunk})
        if index == len(parser.stories) - 1:
            segments.append({"sting": "close"})
        stories.append({"headline": story.headline, "segments": segments})

    story_map: dict[str, object] = {"title": _programme_title(parser)}
    when = _date_of(parser, path)
    if when:
        story_map["date"] = when
    story_map.update({"language": LANGUAGE, "cast": cast, "stings": stings, "stories": stories})
    return story_map


class _CastIds:
    """Gives each speaker a unique id, adding -2, -3 when two share a family name."""

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}
        self.used: set[str] = set()

    def claim(self, key: str, base: str) -> str:
        if key in self.by_key:
            return self.by_key[key]
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}-{n}", n + 1
        self.used.add(candidate)
        self.by_key[key] = candidate
        return candidate

    def of(self, key: str) -> str:
        return self.by_key[key]


def _reporter_of(
    story: _StoryDraft, parser: _Parser, ids: _CastIds, cast: dict[str, dict[str, str]]
) -> str:
    """The cast id of the story's reporter, adding the member on first sight."""
    name = story.reporter or story.intro_reporter
    if not any(s.who == "reporter" for s in story.speeches):
        return ""
    if name is None:
        parser.warn(
            story.line,
            "no reporter named (no sign-off or 'NAME has more.' line); "
            "the package is read by cast member 'reporter'",
        )
        member_id = ids.claim("reporter:", "reporter")
        cast.setdefault(member_id, {"role": "reporter"})
        return member_id
    member_id = ids.claim(f"reporter:{_person_key(name, '')}", _cast_id(name) or "reporter")
    cast.setdefault(member_id, {"role": "reporter", "name": name})
    return member_id


def _programme_title(parser: _Parser) -> str:
    """The programme's name: the station in the sign-offs, else the page title of a
    page of several numbered stories, else a default the producer should change."""
    stations = Counter(s.station for s in parser.stories if s.station)
    if stations:
        return stations.most_common(1)[0][0]
    headlines = {s.headline for s in parser.stories}
    if parser.page_title and len(parser.stories) > 1 and parser.page_title not in headlines:
        return parser.page_title
    parser.warn(1, f"no sign-off names the station; title set to {DEFAULT_TITLE!r}")
    return DEFAULT_TITLE


_DATE_LINE = re.compile(
    r"^(?P<label>written|posted|published|date|updated|input)\s*[:：]\s*"
    r"(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})",
    re.I,
)


def _date_of(parser: _Parser, path: Path) -> date | None:
    """The day the story was written: `Written:` first, then other page dates, then the
    file name (`kbs-gsomia-2019-11-22.txt`)."""
    found: list[tuple[int, int, str, str, str]] = []
    for token in parser.tokens:
        match = _DATE_LINE.match(token.text)
        if match:
            rank = 1 if match.group("label").casefold() in {"updated", "input"} else 0
            found.append((rank, token.line, match["y"], match["m"], match["d"]))
    name_match = re.search(r"(\d{4})-(\d{2})-(\d{2})", path.name)
    if name_match:
        found.append((2, 1, *name_match.groups()))
    for _rank, line, year, month, day in sorted(found):
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            parser.warn(line, f"not a real date: {year}-{month}-{day}; left out")
    return None


def _emit(story: dict[str, object], filename: str) -> str:
    """The story as YAML: block style, except one-line cast members as in the spec."""
    safe_name = "".join(ch if ch.isprintable() else "?" for ch in filename)
    head = {k: v for k, v in story.items() if k not in {"cast", "stings", "stories"}}
    parts = [
        f"{SCHEMA_COMMENT}\n# imported from {safe_name}\n",
        _dump(head, flow=False),
        _dump({"cast": story["cast"]}, flow=None),  # None: flow style for leaf mappings only
        _dump({"stings": story["stings"]}, flow=False),
        _dump({"stories": story["stories"]}, flow=False),
    ]
    return "".join(parts)


def _dump(data: dict[str, object], flow: bool | None) -> str:
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, width=1_000_000, default_flow_style=flow
    )
