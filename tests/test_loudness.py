"""The meter and limiter against pyloudnorm and reference signals."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from bulletin.audio import Audio
from bulletin.loudness import integrated_lufs, limit, true_peak_dbtp
from bulletin.mix import master


def sine(freq_hz: float, dbfs: float, seconds: float, rate_hz: int = 48000, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq_hz * t + phase)).astype(np.float32)


def test_reference_sine_reads_as_bs1770_says():
    # BS.1770: a 997 Hz sine at -20 dBFS in one channel reads -23.0 LUFS... in each of two
    # channels; in one channel alone 3 dB less
    stereo = np.stack([sine(997, -20, 10)] * 2, axis=1)
    assert integrated_lufs(Audio(stereo, 48000)) == pytest.approx(-20.0, abs=0.1)
    assert integrated_lufs(Audio(stereo[:, :1], 48000)) == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("rate_hz", [22050, 44100, 48000])
def test_meter_agrees_with_pyloudnorm(rate_hz):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((rate_hz * 7, 2)) * np.linspace(0.01, 0.3, rate_hz * 7)[:, None]).astype(np.float32)
    x[rate_hz * 2 : rate_hz * 3] = 0  # a silence the gates must leave out
    ours = integrated_lufs(Audio(x, rate_hz))
    theirs = pyloudnorm.Meter(rate_hz).integrated_loudness(x.astype(np.float64))
    assert ours == pytest.approx(theirs, abs=0.01)


def test_true_peak_finds_intersample_peaks():
    # a quarter-rate sine sampled at 45 degrees: samples at 0.707, the wave itself at 1.0
    x = sine(12000, 0.0, 1.0, phase=np.pi / 4)
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-3.0, abs=0.1)
    assert true_peak_dbtp(Audio(x[:, None], 48000)) == pytest.approx(0.0, abs=0.3)


def test_limiter_holds_the_ceiling_without_clipping():
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(2)
    # programme-like: band-limited noise (white noise up to Nyquist reads differently on every
    # interpolator), with a spike far over full scale
    noise = sosfilt(butter(8, 12000, fs=48000, output="sos"), rng.standard_normal(48000 * 3))
    x = (noise[:, None] * 0.3).astype(np.float32)
    x[48000:48010] = 1.5
    out = limit(Audio(x, 48000), -1.0)
    up = resample_poly(out.samples[:, 0].astype(np.float64), 4, 1)
    assert true_peak_dbtp(out) <= -1.0 + 1e-3
    # another interpolator (scipy's) reads within a tenth of a dB of ours
    assert 20 * np.log10(np.abs(up).max()) <= -0.9
    # far from the peaks the signal is untouched
    assert np.array_equal(out.samples[40000:40100], x[40000:40100])


@pytest.mark.parametrize("target", [-16.0, -23.0, -12.0])
def test_master_reaches_target_and_ceiling(target):
    rng = np.random.default_rng(3)
    envelope = np.repeat(rng.uniform(0.05, 1.0, 60), 4800)[:, None]
    x = (rng.standard_normal((48000 * 6, 1)) * envelope * 0.2).astype(np.float32)
    m = master(Audio(x, 48000), target)
    assert m.integrated_lufs == pytest.approx(target, abs=0.15)
    assert pyloudnorm.Meter(48000).integrated_loudness(m.audio.samples.astype(np.float64)) == pytest.approx(target, abs=0.15)
    assert m.true_peak_dbtp <= -1.0
