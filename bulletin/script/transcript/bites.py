"""Sound bites: `[Sound bite: NAME - TITLE]` or `[Soundbite] NAME (TITLE) : "quote"`, the
speaker and the quote on that line or the next ones, quoted or not; who the speaker is, and
the cast id a name gives."""

from __future__ import annotations

import re
import unicodedata

from bulletin.script.transcript.lines import OPEN_QUOTES, spoken

PARTICLES = frozenset(
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

LANGUAGES = frozenset(
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

META_WORDS = frozenset(
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

MONTH_DATE = re.compile(
    r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*\d{1,2}"
    r"(st|nd|rd|th)?(\s*,?\s*\d{4})?$|^\d{4}[-.]\d{1,2}[-.]\d{1,2}$|^\d{1,2}$"
)

GUEST = re.compile(
    r"\b(citizens?|residents?|students?|experts?|professors?|analysts?|researchers?|fellows?"
    r"|scholars?|economists?|commentators?|voters?|shoppers?|protesters?|workers?|employees?"
    r"|parents?|patients?|visitors?|tourists?|farmers?|merchants?|vendors?|owners?|fans?"
    r"|survivors?|victims?|witness(es)?|activists?|defectors?|veterans?|seekers?|commuters?"
    r"|passengers?|consumers?|investors?|traders?|retirees?|pensioners?|athletes?|players?"
    r"|artists?|teachers?|doctors?|nurses?|volunteers?|institute|university|think tank"
    r"|passers?-by|locals?)\b",
    re.I,
)

HONORIFICS = frozenset(
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

SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd"})


def split_bite_rest(rest: str) -> tuple[str | None, str | None]:
    """Split what follows `[Soundbite]` into (speaker, quote); either may be missing."""
    if not rest:
        return None, None
    if rest[0] in OPEN_QUOTES:
        return None, rest
    colon = re.match(r"^(?P<spec>[^:：\"“]+?)\s*[:：]\s*(?P<quote>.*)$", rest)
    if colon and looks_like_speaker(colon.group("spec")):
        return colon.group("spec"), colon.group("quote") or None
    opening = next((i for i, ch in enumerate(rest) if ch in '"“'), -1)
    if opening > 0 and looks_like_speaker(rest[:opening]):
        return rest[:opening].strip(), rest[opening:]
    if looks_like_speaker(rest):
        return rest, None
    return None, rest  # an unquoted quote with nobody named


def looks_like_speaker(spec: str) -> bool:
    """Whether a line reads like `NAME (TITLE)` / `NAME - TITLE` rather than a sentence."""
    spec = spec.strip().rstrip(":：").strip()
    if not spec or spec[0] in OPEN_QUOTES or len(spec.split()) > 16:
        return False
    if spec[-1] in ".!?,;" and not re.search(r"\b[A-Z][a-z]{0,3}\.$", spec):
        return False
    name = re.split(r"\s*\(|\s+[-–—]\s+|,\s+", spec, maxsplit=1)[0]
    words = name.split()
    return 1 <= len(words) <= 6 and all(w[0].isupper() or w in PARTICLES for w in words)


def parse_speaker(spec: str) -> tuple[str, str, list[str]]:
    """(name, title, notes) from `NAME - TITLE`, `NAME (TITLE)` or `NAME, TITLE`.

    A parenthesis that holds a language or a date, as in `(Korean/Nov. 19)`,
    is a note about the recording rather than the speaker's title.
    """
    spec = spec.strip().rstrip(":：").strip()
    title = ""
    notes: list[str] = []
    for inner in re.findall(r"\(([^()]*)\)", spec):
        if is_recording_note(inner):
            notes.append(inner)
        elif not title:
            title = inner.strip()
    spec = re.sub(r"\s*\([^()]*\)", "", spec).strip()
    parts = re.split(r"\s+[-–—]\s+|\s*[–—]\s*|,\s+", spec, maxsplit=1)
    name = parts[0].strip()
    if len(parts) == 2 and parts[1].strip():
        title = parts[1].strip() if not title else f"{parts[1].strip()} ({title})"
    return name, title, notes


def is_recording_note(inner: str) -> bool:
    parts = [p.strip().casefold() for p in re.split(r"[/,;]", inner)]
    return all(
        not p or p in LANGUAGES or MONTH_DATE.match(p) or p.split()[0] in META_WORDS
        for p in parts
    )


def person_key(name: str, title: str) -> str:
    """Who a speaker is, so that `President Moon Jae-in` and `Moon Jae-in` are one member."""
    words = [w.strip(".").casefold() for w in name.split()]
    while len(words) > 1 and words[0] in HONORIFICS:
        words.pop(0)
    return " ".join(words) if words else f"(unnamed) {title.casefold()}"


def cast_id(name: str) -> str:
    """A cast id from a name: the family name, lower-cased ASCII (`moon`, `engel`).

    Korean names put the family name first and a hyphenated given name after
    it (Moon Jae-in, Kim Bum-soo), so a last word like `Jae-in` means the word
    before it is the family name.
    """
    words = [w for w in re.split(r"[\s,]+", name) if w]
    while len(words) > 1 and words[-1].strip(".").casefold() in SUFFIXES:
        words.pop()
    if not words:
        return ""
    last = words[-1]
    if len(words) >= 2 and re.fullmatch(r"[A-Z][a-z]+-[a-z]+", last):
        last = words[-2]
    ascii_name = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_-]+", "", ascii_name.casefold()).strip("-_")


def ends_quote(text: str) -> bool:
    return bool(re.search(r"[\"”»’][.,!?]?$", text))


def unquote(parts: list[str]) -> str:
    """A quote's paragraphs without their quotation marks.

    A quote over several paragraphs opens each one and closes only the last.
    """
    opened = parts[0][:1] in OPEN_QUOTES
    cleaned = []
    for index, part in enumerate(parts):
        if part[:1] in OPEN_QUOTES:
            part = part[1:]
        if opened and index == len(parts) - 1:
            part = re.sub(r"[\"”»’]([.,!?]?)$", r"\1", part)
        cleaned.append(part.strip())
    return spoken(" ".join(cleaned))
