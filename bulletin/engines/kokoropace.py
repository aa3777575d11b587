"""How long Kokoro will take to say something, without saying it: the model's own duration
predictor, cut out of its graph.

Kokoro decides every phoneme's length before its decoder runs: a predictor gives each token a
length in frames (`RAW`, before the pace divides it), and the graph then rounds
`RAW / speed` to whole frames of FRAME samples, at least one each (Div, Round, Clip, Cast).
The graph from the tokens and the style row to `RAW` is a seventh of the model's nodes and
costs about 1% of a synthesis (0.06 s against 8.5 s for a 158-phoneme sentence, measured on
one core here), and its answer holds at any pace: the rounding is done here, as the graph does
it, so the same frames come out. The take is then as long as the audio the model makes (KokoroEngine.timing),
less the silence the engine trims from both ends (kokoro_onnx.trim, then store.audible_span):
about the opening boundary token and the closing mark, more or less as the first and last
sounds rise and fade (fitted, TRIM), which is all the estimate cannot know exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from bulletin.base.errors import BulletinError

# the phoneme lengths in frames at speed 1, before the graph rounds them (Kokoro-82M's export)
RAW = "/encoder/predictor/ReduceSum_output_0"
INPUTS = ["tokens", "style"]
FRAME_S = 600 / 24_000
# The silence trimmed from an inference's ends, in seconds, is `edge_features(...) @ TRIM`: a
# constant, the opening boundary token's length, the closing mark's and boundary token's, and
# the first and the last sound's length by its class (how it rises from and trails into
# silence: a vowel, plosive, fricative, nasal or approximant). Least squares by
# scripts/fit_kokoro_trim.py over the renderer's own takes of 266 pieces (the nine shipped
# Kokoro presets, paces 0.94-1.06, one word to 100 characters: the example's, the harbour's and
# generated lines). Fitted on the generated lines, the stories' pieces came out +0.43% in all
# (per piece sd 0.059 s); fitted on the stories, the generated lines -0.16% (sd 0.071 s).
TRIM = np.array([0.1403, 0.9696, -0.2139, -0.3974, -0.9940, -1.0453, -2.5511, -1.0880, 1.1097, 1.3494, 1.0401,
                 1.1672, 1.1595])
SOUNDS = ("vowel", "plosive", "fricative", "nasal", "approximant")
SOUND_CLASS = {ch: name for name, chars in (("plosive", "ptkbdɡʔ"), ("fricative", "fvθðszʃʒhç"),
                                             ("nasal", "mnŋ"), ("approximant", "lɹwjɫ")) for ch in chars}
NOT_SOUNDS = "ˈˌː"  # stress and length marks: tokens of their own, but no sound
# clauses (and texts phonemized) kept per voice: a bulletin has a few hundred
REMEMBERED = 8192


def duration_model(model: bytes) -> bytes:
    """The part of Kokoro's graph that gives each phoneme token its length (`RAW`), as bytes
    for an onnxruntime session."""
    import onnx
    from onnx.utils import Extractor

    return Extractor(onnx.load_from_string(model)).extract_model(INPUTS, [RAW]).SerializeToString()


def frames(raw: np.ndarray, speed: float) -> np.ndarray:
    """Each token's frames at `speed`, rounded as the graph rounds them (half to even, at least 1)."""
    return np.maximum(np.round(np.asarray(raw, np.float32) / np.float32(speed)), 1.0)


def edge_features(raw: np.ndarray, speed: float, phonemes: str) -> np.ndarray:
    """What the silence trimmed from one inference's ends is fitted on (see TRIM), in seconds
    at `speed`; `phonemes` are the inference's (one per token between the boundary tokens)."""
    lengths = frames(raw, speed) * FRAME_S
    sounds = [i for i, ch in enumerate(phonemes) if ch.isalpha() and ch not in NOT_SOUNDS] or [0]
    edges = []
    for index in (sounds[0], sounds[-1]):
        kind = SOUND_CLASS.get(phonemes[index:index + 1], "vowel")
        edges += [lengths[index + 1] if name == kind else 0.0 for name in SOUNDS]
    return np.array([1.0, lengths[0], lengths[-2] + lengths[-1], *edges])


class Timer:
    """The duration predictor: its session, made on first use from the model's bytes, and the
    clauses it has timed (a studio asks again after every edit; most of the text is unchanged)."""

    def __init__(self, model: Callable[[], bytes], style: Callable[[str], np.ndarray]) -> None:
        self._model = model
        self._style = style  # a preset's voice -> its style table (510 rows, one per phoneme count)
        self._lock = threading.Lock()
        self._session: Any = None
        self.raw = lru_cache(maxsize=REMEMBERED)(self._run)

    def _run(self, tokens: tuple[int, ...], voice: str) -> np.ndarray:
        """Each token's frames at speed 1 (`RAW`), the two boundary tokens included."""
        if not tokens:
            return np.ones(2, np.float32)  # nothing to say: the boundary tokens alone
        style = self._style(voice)
        with self._lock:
            if self._session is None:
                from bulletin.engines.onnx import session

                self._session = session(duration_model(self._model()), "kokoro")
        inputs = {"tokens": np.array([[0, *tokens, 0]], np.int64),
                  "style": style[min(len(tokens), len(style)) - 1].reshape(1, -1)}
        try:
            return np.asarray(self._session.run([RAW], inputs)[0], np.float32).reshape(-1)
        except Exception as error:  # onnxruntime's own types
            raise BulletinError(f"kokoro could not time {len(tokens)} phonemes: {error}") from error
