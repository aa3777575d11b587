"""Word timings: when each written word of a take starts and ends.

A take's words are the whitespace-separated tokens of the text it was made from (punctuation
stays with its word): `text.split()`. Each engine reports, for the text it was given, one
(start, end) pair in seconds per token (`Speech.words`), from the synthesis itself: Kokoro's
and Piper's per-phoneme durations (the model decides them before it makes a sound), espeak-ng's
word events. What an engine actually reads differs from the text (respellings, a spoken form
with "3 point 5" for 3.5, a number phonemized as four words), so the helpers here map one list
of tokens onto another by their prefixes: the tokens that the first i tokens become.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bulletin.base.audio import Audio

# marks a phonemizer keeps beside its words: a pause, not part of the word's sound
PAUSE_MARKS = frozenset(',.;:!?—–…"“”«»()¡¿')
# what is left out when a word's phonemes are matched to its sentence's: spaces, stress and
# length marks (they move with the context), punctuation
UNMATCHED = PAUSE_MARKS | frozenset(" ˈˌː")
# a vowel group: about one syllable of English spelling ("ea", "ou", a final "e" aside)
_VOWELS = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class Speech:
    """What an engine says: the audio, and for each word (`text.split()`) of what it was asked
    to say its start and end in seconds from the audio's first sample, shape (words, 2)."""

    audio: Audio
    words: np.ndarray


def no_words() -> np.ndarray:
    return np.zeros((0, 2), np.float64)


def syllables(word: str) -> int:
    """About how many syllables `word` has (at least one for a word with a letter or a digit;
    a digit counts as two, as numbers are said in several syllables; none for punctuation)."""
    lower = word.lower()
    digits = sum(c.isdigit() for c in lower)
    groups = len(_VOWELS.findall(lower.removesuffix("e") if len(lower) > 3 else lower))
    count = groups + 2 * digits
    return max(count, 1) if any(c.isalnum() for c in lower) else 0


def spread(tokens: Sequence[str], start_s: float, end_s: float) -> np.ndarray:
    """`tokens` spread over start_s..end_s by syllables: where nothing better is known."""
    weights = np.array([syllables(t) for t in tokens], np.float64)
    if weights.sum() == 0:
        weights = np.ones(len(tokens))
    edges = start_s + (end_s - start_s) * np.concatenate(([0.0], np.cumsum(weights) / weights.sum()))
    return np.stack([edges[:-1], edges[1:]], axis=1) if len(tokens) else no_words()


def prefix_groups(tokens: Sequence[str], derive: Callable[[str], str]) -> list[range]:
    """For each of `tokens`, the range of tokens of `derive(" ".join(tokens))` it became,
    found from the prefixes (so `derive` may change the number of tokens: "3.5" becomes "3 point
    5"). A token that became nothing gets an empty range at its place."""
    total = len(derive(" ".join(tokens)).split())
    ranges, previous = [], 0
    for i in range(1, len(tokens) + 1):
        count = total if i == len(tokens) else min(max(len(derive(" ".join(tokens[:i])).split()), previous), total)
        ranges.append(range(previous, count))
        previous = count
    return ranges


def regroup(times: np.ndarray, groups: Sequence[range]) -> np.ndarray:
    """Times of tokens from the times of what they became (`groups`, from prefix_groups): the
    first one's start to the last one's end; an empty group sits where the one before ended."""
    out = np.zeros((len(groups), 2), np.float64)
    at = float(times[0, 0]) if len(times) else 0.0
    for i, group in enumerate(groups):
        if len(group) and group.stop <= len(times):
            out[i] = times[group.start, 0], times[group.stop - 1, 1]
            at = out[i, 1]
        else:
            out[i] = at, at
    return out


def phoneme_times(parts: Sequence[str], whole: str, times: np.ndarray) -> np.ndarray:
    """Each of `parts` (a word's phonemes, said alone) timed from the phonemes of its sentence as
    said (`whole`, one row of `times`, start and end, per character): the two are matched
    character by character (difflib), stress, length and pause marks aside, since espeak-ng
    says a word alone almost as in its sentence but joins some ("on the" is "ɔnðə") and reduces
    others. A part that matches nothing sits where the one before it ended."""
    owner, mine = [], []
    for i, part in enumerate(parts):
        for c in part:
            if c not in UNMATCHED:
                owner.append(i)
                mine.append(c)
    said = [k for k, c in enumerate(whole) if c not in UNMATCHED]
    out = np.full((len(parts), 2), np.nan)
    matcher = difflib.SequenceMatcher(None, "".join(mine), "".join(whole[k] for k in said), autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            i, (start, end) = owner[block.a + k], times[said[block.b + k]]
            out[i] = (np.fmin(out[i, 0], start), np.fmax(out[i, 1], end))
    at = float(times[0, 0]) if len(times) else 0.0
    for row in out:  # in order, and each where it can be
        row[0] = at if np.isnan(row[0]) else max(row[0], at)
        row[1] = row[0] if np.isnan(row[1]) else max(row[1], row[0])
        at = row[1]
    return out



def scaled(speech: Speech, audio: Audio) -> Speech:
    """`speech`'s words on `audio`, the same speech stretched in time (a resampling that plays it
    slower or faster)."""
    factor = audio.duration_s / speech.audio.duration_s if speech.audio.duration_s else 1.0
    return Speech(audio, speech.words * factor)


def trimmed(speech: Speech, first: int, last: int) -> Speech:
    """`speech` cut to samples first..last, its words moved and kept within the cut."""
    audio = speech.audio
    rate = audio.rate_hz
    cut = Audio(audio.samples[first:last], rate)
    return Speech(cut, np.clip(speech.words - first / rate, 0.0, cut.duration_s))


def joined(pieces: Sequence[Speech], gaps: Sequence[np.ndarray]) -> Speech:
    """Pieces of speech one after another, `gaps[i]` (silence) before piece i + 1."""
    samples, words, at = [], [], 0.0
    rate = pieces[0].audio.rate_hz
    for i, piece in enumerate(pieces):
        if i:
            samples.append(gaps[i - 1])
            at += gaps[i - 1].shape[0] / rate
        samples.append(piece.audio.samples)
        words.append(piece.words + at)
        at += piece.audio.duration_s
    return Speech(Audio(np.concatenate(samples), rate), np.concatenate(words) if words else no_words())
