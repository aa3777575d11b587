"""What a neural voice's phonemizer should read: a text in sentences, each with its full stop
only at its end.

Both neural engines phonemize with espeak-ng and keep its punctuation, and both models take a
full stop as the end of a sentence: Kokoro said "U.S." as "U. S." with a 0.9 s pause after each
letter (measured in the example), and Piper's phonemizer ended a sentence at "Rep." and "Mr.",
so the name after it began a new sentence, with a sentence's pause and melody. The text they
get is one sentence (or clause) already, so every other dot in it is an abbreviation's: those
dots go, titles a newsreader spells out are spelled out, and decimals are read as numbers.
"""

from __future__ import annotations

import re

# abbreviations espeak-ng reads as a syllable ("rep", "sen") but a newsreader spells out
SPELLED_OUT = {
    "Rep": "Representative", "Reps": "Representatives", "Sen": "Senator", "Sens": "Senators",
    "Gov": "Governor", "Gen": "General", "Col": "Colonel", "Lt": "Lieutenant", "Sgt": "Sergeant",
    "Capt": "Captain", "Cmdr": "Commander", "Adm": "Admiral", "Prof": "Professor", "Dept": "Department",
    "Jr": "Junior", "Sr": "Senior", "Corp": "Corporation", "Ltd": "Limited", "vs": "versus",
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Aug": "August",
    "Sep": "September", "Sept": "September", "Oct": "October", "Nov": "November", "Dec": "December",
}
# those it says in full already ("mister", "doctor", "saint"): they only lose their dot
SAID_IN_FULL = ("Mr", "Mrs", "Ms", "Dr", "St", "etc", "Inc", "Co")
CLOSING_QUOTES = "\"'”’)"
# sentence ends: . ! ? (with closing quotes) before a space, unless the word is an abbreviation
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s)")
_ABBREVIATION = re.compile(r"(?:\b(?:[A-Za-z]\.)+|\b(?:" + "|".join((*SAID_IN_FULL, *SPELLED_OUT)) + r")\.)$")
_ABBREVIATED = re.compile(r"\b(" + "|".join(SPELLED_OUT) + r")\.(?=[\"'”’)]*(?:\s|$))")
# "No. 10": number, before a numeral only ("No." alone is the word no)
_NUMBER_SIGN = re.compile(r"\bNo\.(?=\s*\d)")
# letters with dots between them: U.S., a.m., N.A.T.O. (the last dot optional: "U.S" of "U.S.-led")
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.)+[A-Za-z]\b\.?")
# a dot after a letter, before a space (so not in "..."): inside one sentence, an abbreviation's
_INNER_DOT = re.compile(r"(?<=[A-Za-z])\.(?=[\"'”’)]*\s)")


def sentences(text: str) -> list[str]:
    """`text` split into sentences at . ! ? followed by a space, not after an abbreviation
    such as "Rep." or "U.S."."""
    pieces, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        head = text[start:end.end()].rstrip(CLOSING_QUOTES)
        if _ABBREVIATION.search(head) or _NUMBER_SIGN.search(text, end.start() - 2, end.end() + 8):
            continue
        pieces.append(text[start:end.end()].strip())
        start = end.end()
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def spoken(text: str) -> str:
    """`text` (one sentence) as its phonemizer should read it; see the module docstring."""
    text = " ".join(text.split())
    text = re.sub(r"(\d)\.(\d)", r"\1 point \2", text)  # 3.5: the phonemizer would stop at the dot
    text = _NUMBER_SIGN.sub("number", text)
    text = _ABBREVIATED.sub(lambda m: SPELLED_OUT[m.group(1)], text)
    text = _INITIALISM.sub(_letters, text)
    end = len(text.rstrip(CLOSING_QUOTES))  # the sentence's own last mark stays
    return _INNER_DOT.sub("", text[:end - 1]) + text[end - 1:] if end else text


def _letters(match: re.Match[str]) -> str:
    """An initialism's letters, capitals without dots (espeak-ng says "US", "AM" letter by
    letter); a dot it ended the text with stays, as that text's full stop."""
    initialism = match.group(0)
    letters = initialism.replace(".", "").upper()
    at_end = match.end() == len(match.string.rstrip(CLOSING_QUOTES))
    return f"{letters}." if at_end and initialism.endswith(".") else letters
