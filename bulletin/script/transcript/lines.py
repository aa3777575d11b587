"""The shared reader: a transcript's lines, decoded strictly and tidied, as classified
tokens; and the text helpers every convention uses (spoken text, sentence-sized chunks)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bulletin.base.errors import InputError, Problem
from bulletin.script.model import MAX_TEXT_CHARS  # the story format's limit for one speech segment

MAX_TRANSCRIPT_BYTES = 20_000_000  # far beyond any web page; refuses to read a disk image




def read_lines(path: Path) -> list[str]:
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


def tidy(raw: str) -> str:
    """One line with invisible characters removed and white space collapsed.

    Web pages leave no-break spaces at line ends and zero-width spaces inside;
    neither belongs in the spoken text.
    """
    text = raw.replace("\u200b", "").replace("\ufeff", "").replace("\u00ad", "")
    return re.sub(r"\s+", " ", text).strip()


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
class Token:
    """One classified line of the transcript."""

    kind: str
    line: int
    text: str  # the tidied line
    body: str = ""  # the text after a label on the same line
    speaker: str | None = None  # a sound bite's speaker as written, when the label gives it
    name: str = ""  # a sign-off's reporter
    station: str = ""  # a sign-off's station, which names the programme


OPEN_QUOTES = '"“„«‘'

TERMINAL = '.!?:;"”’)…'


def spoken(text: str) -> str:
    """Text as it is read: a bracketed insertion such as `[the]` is the
    broadcaster's clarification and is read, so only the brackets go."""
    text = re.sub(r"\[([^\[\]]*)\]", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def looks_like_headline(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 25 or text[0] in OPEN_QUOTES:
        return False
    # A headline has no full stop, though it may end in an abbreviation ("U.S.").
    return not text.endswith((".", ",", ";", ":")) or bool(re.search(r"\b(?:[A-Z]\.)+$", text))


def looks_like_prose(text: str) -> bool:
    return len(text.split()) >= 6 and text[-1] in TERMINAL


def chunks(text: str) -> list[str]:
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
