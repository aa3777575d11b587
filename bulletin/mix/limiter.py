"""The look-ahead true-peak limiter: a gain per block of BLOCK frames, worked out from the
blocks' true peaks (so mastering can predict its effect without running it), and applied as
the master is written."""

from __future__ import annotations

import numpy as np

from bulletin.sound.truepeak import BLOCK

LIMITER_LOOKAHEAD_S = 0.003
LIMITER_HOLD_S = 0.020


def _running_min(x: np.ndarray, size: int) -> np.ndarray:
    """Centred running minimum over `size` (odd) values, edges extended (scipy.ndimage's
    minimum_filter1d, mode "nearest"), by van Herk / Gil-Werman: three passes whatever the size."""
    n, r = x.size, size // 2
    total = -(-(n + 2 * r) // size) * size
    padded = np.concatenate([np.full(r, x[0], x.dtype), x, np.full(total - n - r, x[-1], x.dtype)])
    blocks = padded.reshape(-1, size)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n], prefix[size - 1 : size - 1 + n])


def _running_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Centred running mean over `size` (odd) values, edges extended (uniform_filter1d,
    mode "nearest"); a stretch of exact zeros stays exactly zero."""
    r = size // 2
    padded = np.concatenate([np.full(r, x[0]), x, np.full(r, x[-1])]).astype(np.float64)
    sums = np.concatenate([[0.0], np.cumsum(padded)])
    return (sums[size:] - sums[:-size]) / size


def limiter_gains(peaks: np.ndarray, raise_by: float, ceiling: float, rate_hz: int) -> np.ndarray:
    """The look-ahead limiter's gain per block of BLOCK frames, for audio whose per-block true
    peaks are `peaks`, raised by `raise_by`, held under `ceiling` (linear).

    The gain is the least gain needed anywhere within look-ahead + hold of a block, averaged
    over +-look-ahead: every value averaged at a peak is at most what that peak needs, so no
    sample exceeds the ceiling, and the gain falls smoothly before a peak and recovers after a
    short hold. Where nothing needs limiting the gain is exactly 1. Worked out a stretch of
    blocks at a time, so the working arrays stay small for a long bulletin."""
    out = np.ones(peaks.size, np.float32)
    if peaks.size == 0:
        return out
    lookahead = max(1, round(LIMITER_LOOKAHEAD_S * rate_hz / BLOCK))
    hold = round(LIMITER_HOLD_S * rate_hz / BLOCK)
    reach = lookahead + hold + 1 + lookahead + 1  # blocks a gain depends on, either side
    limit = np.float32(ceiling / raise_by)
    for at in range(0, peaks.size, 1 << 18):
        stop = min(at + (1 << 18), peaks.size)
        lo, hi = max(at - reach, 0), min(stop + reach, peaks.size)
        part = peaks[lo:hi]
        if not (part > limit).any():
            continue  # nothing near needs limiting: gain 1
        needed = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(part * np.float32(raise_by), np.float32(1e-12)))
        floor = _running_min(needed, 2 * (lookahead + hold + 1) + 1)
        deficit = _running_mean(1 - floor.astype(np.float64), 2 * lookahead + 1)
        out[at:stop] = (1 - deficit[at - lo : stop - lo]).astype(np.float32)
    return out


def apply_gains(x: np.ndarray, first_frame: int, raise_by: float, gains: np.ndarray) -> np.ndarray:
    """`x` (frames from `first_frame` on) raised by `raise_by` and by the limiter's per-block
    `gains` (frames outside the gains' span keep the nearest block's gain)."""
    scaled = x * np.float32(raise_by)
    if gains.size == 0 or x.shape[0] == 0:
        return scaled
    first, last = first_frame // BLOCK, (first_frame + x.shape[0] - 1) // BLOCK
    per_block = gains[np.clip(np.arange(first, last + 1), 0, gains.size - 1)]
    skip = first_frame - first * BLOCK
    return scaled * np.repeat(per_block, BLOCK)[skip : skip + x.shape[0], None]
