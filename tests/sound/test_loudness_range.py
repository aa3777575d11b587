"""Loudness range (EBU Tech 3342) and the momentary and short-term maxima (EBU Tech 3341), as
the bext chunk stores them, against libebur128 (pyebur128) on signals whose loudness moves."""

from __future__ import annotations

import numpy as np
import pytest

from bulletin.sound.loudness import LoudnessMeter

ebur128 = pytest.importorskip("pyebur128", reason="pyebur128 (libebur128) is not installed: pip install -e '.[dev]'")
RATE = 48000


def _reference(x: np.ndarray) -> tuple[float, float, float, float]:
    modes = ebur128.MeasurementMode
    state = ebur128.R128State(x.shape[1], RATE, modes.MODE_I | modes.MODE_LRA | modes.MODE_S | modes.MODE_M)
    step, momentary, short = RATE // 10, [], []
    for at in range(0, x.shape[0], step):
        state.add_frames(np.ascontiguousarray(x[at : at + step], np.float64).ravel(), step)
        momentary.append(ebur128.get_loudness_momentary(state))
        if at + step >= 3 * RATE:
            short.append(ebur128.get_loudness_shortterm(state))
    return ebur128.get_loudness_global(state), ebur128.get_loudness_range(state), max(momentary), max(short)


def _speechlike(seconds: int, channels: int, seed: int) -> np.ndarray:
    """Noise whose level jumps every 250 ms over 30 dB, with a loud stretch and a quiet one."""
    rng = np.random.default_rng(seed)
    n = seconds * RATE
    level = np.repeat(rng.uniform(0.01, 0.4, n // (RATE // 4) + 1), RATE // 4)[:n]
    level[n // 3 : n // 3 + 2 * RATE] *= 2.0
    level[2 * n // 3 : 2 * n // 3 + 5 * RATE] *= 0.1
    return (rng.standard_normal((n, channels)) * level[:, None] * 0.5).astype(np.float32)


@pytest.mark.parametrize(("seconds", "channels", "seed"), [(40, 1, 1), (25, 2, 2), (12, 1, 3)])
def test_range_and_maxima_match_libebur128(seconds, channels, seed):
    x = _speechlike(seconds, channels, seed)
    meter = LoudnessMeter(RATE, channels, x.shape[0])
    meter.add(x)
    figures = meter.figures()
    integrated, lra, momentary, short = _reference(x)
    assert abs(figures.integrated_lufs - integrated) < 0.1
    assert abs(figures.range_lu - lra) < 0.1
    assert abs(figures.max_momentary_lufs - momentary) < 0.1
    assert abs(figures.max_short_term_lufs - short) < 0.1


def test_shorter_than_a_short_term_window_has_no_range_or_short_term_maximum():
    x = _speechlike(2, 1, 4)
    meter = LoudnessMeter(RATE, 1, x.shape[0])
    meter.add(x)
    figures = meter.figures()
    assert figures.range_lu is None and figures.max_short_term_lufs is None
    assert figures.max_momentary_lufs is not None
