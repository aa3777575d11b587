"""IPA (script.ipa's normal form) as espeak-ng's own phoneme codes, which it reads inside
`[[...]]` (its English phoneme names; see espeak-ng's docs/phonemes.md)."""

from __future__ import annotations

# longest first: diphthongs, affricates and long vowels before their single symbols
_CODES = {
    "eɪ": "eI", "aɪ": "aI", "ɔɪ": "OI", "aʊ": "aU", "oʊ": "oU", "əʊ": "@U", "ɪə": "i@", "eə": "e@",
    "ʊə": "U@", "tʃ": "tS", "dʒ": "dZ", "iː": "i:", "uː": "u:", "ɑː": "A:", "ɔː": "O:", "ɜː": "3:",
    "ʧ": "tS", "ʤ": "dZ", "i": "i", "ɪ": "I", "e": "e", "ɛ": "E", "æ": "a", "a": "a", "ɑ": "A:",
    "ɒ": "0", "ɔ": "O:", "o": "o", "ʊ": "U", "u": "u:", "ʌ": "V", "ə": "@", "ɚ": "3", "ɜ": "3:",
    "ɐ": "a#", "ᵻ": "I2", "ᵊ": "@", "p": "p", "b": "b", "t": "t", "d": "d", "k": "k", "ɡ": "g",
    "f": "f", "v": "v", "θ": "T", "ð": "D", "s": "s", "z": "z", "ʃ": "S", "ʒ": "Z", "h": "h",
    "m": "m", "n": "n", "ŋ": "N", "l": "l", "ɹ": "r", "r": "r", "w": "w", "j": "j", "ʔ": "?",
    "x": "x", "ɾ": "t#", "ç": "C", "ˈ": "'", "ˌ": ",", "ː": ":", "ʰ": "",
}
_LONGEST = max(map(len, _CODES))


def espeak_codes(ipa: str) -> tuple[str, str]:
    """(`ipa` as espeak-ng phoneme codes, the symbols it has no code for, each once)."""
    out, unknown = [], []
    for word in ipa.split():
        codes, at = [], 0
        while at < len(word):
            for size in range(min(_LONGEST, len(word) - at), 0, -1):
                if word[at:at + size] in _CODES:
                    codes.append(_CODES[word[at:at + size]])
                    at += size
                    break
            else:
                unknown.append(word[at])
                at += 1
        out.append("".join(codes))
    return " ".join(filter(None, out)), "".join(dict.fromkeys(unknown))
