"""`<say-as>`: a written form read as words every voice says the same way (numbers by
num2words, letters one by one), so the engines need no SSML of their own for it."""

from __future__ import annotations

import datetime
import re

from bulletin.script.markuptree import Element, MarkupError

_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_ORDINAL = re.compile(r"(\d{1,9})(?:st|nd|rd|th)?")
MAX_DIGITS = 30


def say_as(element: Element, offset: int) -> str:
    """What `<say-as>` says: its content as words; MarkupError when the content is not of its
    kind (a cardinal that is no number)."""
    kind = element.get("interpret-as")
    content = " ".join(element.content.split())
    if kind in ("characters", "spell-out"):
        return characters(content)
    reader = {"cardinal": _cardinal, "ordinal": _ordinal, "digits": _digits, "telephone": _telephone}.get(kind)
    words = reader(content) if reader else _date(content, element.get("format", "ymd"))
    if words is None:
        raise MarkupError(offset, f'<say-as interpret-as="{kind}"> cannot read {content!r} as {_WHAT[kind]}')
    return words


_WHAT = {"cardinal": "a number (4,512 or -3.5)", "ordinal": "an ordinal (21 or 21st)",
         "digits": "digits", "telephone": "a telephone number (digits, spaces, + - ( ))",
         "date": "a date in its format (ymd: 2024-03-05)"}


def characters(text: str) -> str:
    """Letters and digits one by one, parted by commas: "KBS" -> "K, B, S". Without the commas
    espeak-ng (every engine's phonemizer) reads a lone "A" as the article, and Piper heard
    "C eh T" as "see at"; with them all three engines say the letters' names (Whisper hears
    "C-A-T" from Kokoro and "C, A, T" from Piper)."""
    out = []
    for char in text:
        if char.isdigit():
            out.append(_DIGITS[int(char)] if char in "0123456789" else char)
        elif char.isalpha():
            out.append(char.upper())
        elif char == "&":
            out.append("and")
    return ", ".join(out)


def _cardinal(text: str) -> str | None:
    from num2words import num2words

    if not _NUMBER.fullmatch(text) or len(text) > MAX_DIGITS:
        return None
    number = text.replace(",", "")
    return num2words(float(number) if "." in number else int(number))


def _ordinal(text: str) -> str | None:
    from num2words import num2words

    match = _ORDINAL.fullmatch(text)
    return num2words(int(match.group(1)), to="ordinal") if match else None


def _digits(text: str) -> str | None:
    if not re.fullmatch(r"\d[\d ]*", text) or len(text) > MAX_DIGITS:
        return None
    return " ".join(_DIGITS[int(c)] for c in text if c != " ")


def _telephone(text: str) -> str | None:
    """Digit groups said digit by digit, a pause (comma) between groups."""
    if not re.fullmatch(r"\+?[\d() .-]+", text) or sum(c.isdigit() for c in text) > MAX_DIGITS:
        return None
    groups = [g for g in re.split(r"[() .-]+", text.lstrip("+")) if g]
    said = ", ".join(" ".join(_DIGITS[int(c)] for c in group) for group in groups)
    return ("plus " if text.startswith("+") else "") + said if said else None


def _date(text: str, form: str) -> str | None:
    from num2words import num2words

    parts = [p for p in re.split(r"[-/. ]+", text) if p]
    order = form  # the parts' order: y, m and d
    if len(parts) != len(order) or not all(p.isdigit() for p in parts):
        return None
    values = dict(zip(order, map(int, parts), strict=True))
    try:  # a real day of a real month (29 February only in a leap year)
        datetime.date(values.get("y", 2000), values.get("m", 1), values.get("d", 1))
    except ValueError:
        return None
    words = []
    if "m" in values:
        words.append(_MONTHS[values["m"] - 1])
    if "d" in values:
        words.append(num2words(values["d"], to="ordinal"))
    if "y" in values:
        year = num2words(values["y"], to="year")
        words[-1:] = [f"{words[-1]}," if "d" in values else words[-1]] if words else []
        words.append(year)
    return " ".join(words)
