"""IPA as the format takes it in `<phoneme ph="...">` and `pronounce: {ipa: ...}`: the symbols
the voices have sounds for, and the one normal form every engine is given.

The symbols are those of Kokoro's phoneme vocabulary (kokoro-onnx's `config.json`: a test
checks that they still are), without its punctuation and its private capital-letter
diphthongs. Common ways of typing IPA are taken too: an ASCII g, an apostrophe for primary
stress, a colon for length, tie bars, and dots between syllables (which are dropped).
"""

from __future__ import annotations

import unicodedata

SYMBOLS = frozenset(
    "abcdefhijklmnopqrstuvwxyzæçðøŋœɐɑɒɔɕɖəɚɛɜɟɡɣɤɥɨɪɯɰɲɳɴɸɹɻɽɾʁʂʃʈʊʋʌʎʒʔʝʣʤʥʦʧʨʰʲˈˌː\u0303βθχᵊᵝᵻꭧ"
)
# typed forms -> the symbol meant; a dot between syllables and tie bars carry no sound
_TYPED = {"g": "ɡ", "'": "ˈ", ":": "ː", "ˑ": "ː", ".": "", "\u0361": "", "\u035c": "", "ɫ": "l", "r": "ɹ"}
MAX_IPA_CHARS = 200


def normal_ipa(ipa: str) -> str:
    """`ipa` in the voices' symbols (see _TYPED), words parted by single spaces."""
    text = unicodedata.normalize("NFC", ipa)
    return " ".join("".join(_TYPED.get(char, char) for char in word) for word in text.split())


def ipa_problem(ipa: str) -> str | None:
    """Why `ipa` cannot be said (empty, too long, a symbol no voice has), or None."""
    if not ipa.strip():
        return "the IPA is empty: give the sounds, e.g. ph=\"kɪm\""
    if len(ipa) > MAX_IPA_CHARS:
        return f"the IPA is {len(ipa):,} characters; the limit is {MAX_IPA_CHARS}"
    for char in normal_ipa(ipa):
        if char != " " and char not in SYMBOLS:
            name = unicodedata.name(char, "")
            return (f"the IPA symbol {char!r} (U+{ord(char):04X}{' ' + name if name else ''}) has no sound in "
                    "the voices' phoneme set; use a nearby symbol")
    return None
