"""How long a speech segment will last, from its text and its voice, without making audio
(for `check` and the studio's timings).

The model: the text's characters are words at CHARS_PER_WORD, spoken at the preset's pace
(`rate_wpm` times the segment's `rate`), plus a pause at every punctuation mark inside it. The
engines keep to a preset's nominal pace differently (a neural voice pauses at commas longer
and says numbers faster than espeak-ng), so each engine has its own two constants, fitted by
`scripts/fit_estimate.py` on the example and generated stories of several styles (short and
long sentences, numbers, quotes, lists), and tested on stories they were not fitted on
(tests/pipeline/test_estimate.py).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bulletin.cast.presets import Preset


class Pace(NamedTuple):
    chars_per_word: float  # characters of text per word of the preset's words per minute
    pause_s: float  # added at each punctuation mark followed by a space


# fitted by scripts/fit_estimate.py (see its output in the commit that changed them)
PACES: dict[str, Pace] = {
    "espeak": Pace(6.4, 0.11),
    "espeak-system": Pace(6.4, 0.11),
}
# an engine not fitted yet: espeak-ng's figures
DEFAULT_PACE = Pace(6.4, 0.11)

_PAUSE = re.compile(r"[.!?;:,]\s")


def speech_duration_s(text: str, preset: Preset, rate: float = 1.0) -> float:
    """Estimated seconds of speech for `text` said by `preset` at `rate` times its pace."""
    pace = PACES.get(preset.engine, DEFAULT_PACE)
    char_seconds, pauses = estimate_features(text, preset, rate)
    return char_seconds / pace.chars_per_word + pauses * pace.pause_s


def estimate_features(text: str, preset: Preset, rate: float = 1.0) -> tuple[float, int]:
    """The model's two inputs: the seconds the text would take at one character a word
    (characters over words per second) and the number of pauses; scripts/fit_estimate.py fits
    the constants on them."""
    return len(text) / (preset.rate_wpm * rate / 60), len(_PAUSE.findall(text))
