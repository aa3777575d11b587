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


# vowels: a stress mark goes just before one, where espeak-ng (whose phonemes every voice
# learned) puts it, not before the syllable as IPA writes it
VOWELS = frozenset("aeiouyæɐɑɒɔəɚɛɜɨɪɯɤʊʌøœᵊᵻ")
_STRESS = "ˈˌ"


def normal_ipa(ipa: str) -> str:
    """`ipa` in the voices' symbols (see _TYPED), stress marks before their vowels, words
    parted by single spaces."""
    text = unicodedata.normalize("NFC", ipa)
    return " ".join(_stress_at_vowels("".join(_TYPED.get(char, char) for char in word)) for word in text.split())


def _stress_at_vowels(word: str) -> str:
    """"ˈlʌndən" -> "lˈʌndən": each stress mark moved past the consonants after it."""
    out: list[str] = []
    pending = ""
    for char in word:
        if char in _STRESS:
            pending = char
        elif pending and char in VOWELS:
            out += [pending, char]
            pending = ""
        else:
            out.append(char)
    return "".join(out) + pending


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
