"""The meter and limiter against pyloudnorm and reference signals."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from bulletin.base.audio import Audio
from bulletin.mix.master import LIMITER_CEILING_DBTP, master
from bulletin.sound.loudness import integrated_lufs
from bulletin.sound.truepeak import true_peak_dbtp


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
    x = (noise[:, None] * 0.1).astype(np.float32)
    x[48000:48010] = 1.5
    m = master(Audio(x, 48000), integrated_lufs(Audio(x, 48000)))  # no gain: only the limiter acts
    out = m.audio
    up = resample_poly(out.samples[:, 0].astype(np.float64), 4, 1)
    assert true_peak_dbtp(out) <= LIMITER_CEILING_DBTP + 0.01  # 16-bit rounding
    # another interpolator (scipy's) reads within a tenth of a dB of ours
    assert 20 * np.log10(np.abs(up).max()) <= LIMITER_CEILING_DBTP + 0.1
    # far from the peaks the signal is untouched but for the loudness the spike took and 16 bits
    far = out.samples[40000:40100] / (10 ** (m.gain_db / 20))
    assert np.abs(far - x[40000:40100]).max() < 2 / 32768


@pytest.mark.parametrize("target", [-16.0, -23.0, -12.0])
def test_master_reaches_target_and_ceiling(target):
    rng = np.random.default_rng(3)
    envelope = np.repeat(rng.uniform(0.05, 1.0, 60), 4800)[:, None]
    x = (rng.standard_normal((48000 * 6, 1)) * envelope * 0.2).astype(np.float32)
    m = master(Audio(x, 48000), target)
    assert m.integrated_lufs == pytest.approx(target, abs=0.15)
    assert pyloudnorm.Meter(48000).integrated_loudness(m.audio.samples.astype(np.float64)) == pytest.approx(target, abs=0.15)
    assert m.true_peak_dbtp <= -1.0


# The meter, interpolator and limiter are numpy-only re-implementations: held to the originals.


@pytest.mark.parametrize("rate_hz", [8000, 22050, 44100, 48000, 96000])
def test_k_weighting_is_pyloudnorms(rate_hz):
    from bulletin.sound.loudness import k_weighting

    theirs = list(pyloudnorm.Meter(rate_hz)._filters.values())
    for (b, a), f in zip(k_weighting(rate_hz), theirs, strict=True):
        assert np.allclose(b, f.b, rtol=1e-12) and np.allclose(a, f.a, rtol=1e-12)


def test_fft_k_filter_is_the_recursive_filter_fed_in_pieces():
    from scipy.signal import lfilter

    from bulletin.sound.loudness import KFilter, k_weighting

    rng = np.random.default_rng(4)
    x = (rng.standard_normal((100_000, 2)) * 0.1).astype(np.float32)
    want = x.astype(np.float64)
    for b, a in k_weighting(44100):
        want = lfilter(b, a, want, axis=0)
    k = KFilter(44100, 2)
    cuts = [0, 1, 17, 5000, 33_333, 100_000]
    got = np.concatenate([k(x[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)])
    assert np.abs(got - want).max() < 1e-5 * np.abs(want).max()


def test_meter_in_pieces_is_the_meter_in_one():
    from bulletin.sound.loudness import LoudnessMeter

    rng = np.random.default_rng(5)
    x = (rng.standard_normal((44100 * 5, 1)) * np.linspace(0.01, 0.5, 44100 * 5)[:, None]).astype(np.float32)
    whole = LoudnessMeter(44100, 1, x.shape[0])
    whole.add(x)
    pieces = LoudnessMeter(44100, 1, x.shape[0])
    for at in range(0, x.shape[0], 9999):
        pieces.add(x[at : at + 9999])
    assert pieces.integrated_lufs() == pytest.approx(whole.integrated_lufs(), abs=1e-6)
    assert whole.integrated_lufs() == pytest.approx(integrated_lufs(Audio(x, 44100)), abs=1e-6)


def test_interpolator_is_the_kaiser_design_and_exact_everywhere():
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.signal import firwin

    from bulletin.sound.truepeak import _phases, true_peaks

    taps = firwin(128, 0.25, window=("kaiser", 8.0)) * 4
    assert np.allclose(_phases(), taps.reshape(32, 4).T, atol=1e-7)
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((3000, 1)) * 0.3).astype(np.float32)
    kernel = _phases()[:, ::-1].T
    per_frame = np.abs(sliding_window_view(np.pad(x[:, 0], 16), 32)[: x.shape[0]] @ kernel).max(axis=1)
    per_frame = np.maximum(per_frame, np.abs(x[:, 0]))
    want = np.pad(per_frame, (0, -per_frame.size % 32)).reshape(-1, 32).max(axis=1)
    assert np.allclose(true_peaks(x), want, rtol=1e-5)


def test_limiter_gains_are_the_min_and_mean_filters():
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    from bulletin.mix.limiter import LIMITER_HOLD_S, LIMITER_LOOKAHEAD_S, limiter_gains

    rng = np.random.default_rng(7)
    peaks = (rng.uniform(0, 1, 600_000) ** 4 * 2).astype(np.float32)  # longer than one stretch
    raise_by, ceiling = 1.5, 0.8
    needed = np.minimum(1.0, ceiling / np.maximum(peaks * raise_by, 1e-12)).astype(np.float32)
    lookahead = max(1, round(LIMITER_LOOKAHEAD_S * 48000 / 32))
    hold = round(LIMITER_HOLD_S * 48000 / 32)
    floor = minimum_filter1d(needed, size=2 * (lookahead + hold + 1) + 1, mode="nearest")
    want = uniform_filter1d(floor.astype(np.float64), size=2 * lookahead + 1, mode="nearest")
    got = limiter_gains(peaks, raise_by, ceiling, 48000)
    assert np.abs(got - want).max() < 1e-6
    assert np.all(got * peaks * raise_by <= ceiling * (1 + 1e-6))
    quiet = limiter_gains(peaks * 0.1, 1.0, 0.8, 48000)
    assert np.all(quiet == 1.0)  # nothing to limit: exactly unity


def test_profiles_bound_the_mix_they_predict():
    """A render knows its mix from its takes' profiles: energies as measured, peaks a bound."""
    from bulletin.mix.master import Analysis
    from bulletin.mix.mixdown import CHUNK_FRAMES, Mixdown, stretches
    from bulletin.mix.timeline import Placement, Timeline
    from bulletin.script.story import Segment
    from bulletin.sound.loudness import LoudnessMeter, level_and_profile
    from bulletin.sound.takes import Take
    from bulletin.sound.truepeak import block_true_peaks

    rng = np.random.default_rng(8)
    rate = 44100
    takes, placements, t = {}, [], 0.0
    for i in range(1, 7):
        n = int(rng.integers(rate // 2, rate * 4))
        raw = (rng.standard_normal((n, 1)) * rng.uniform(0.05, 0.5) * np.hanning(n)[:, None]).astype(np.float32)
        raw[n // 3] = 0.9  # a peak, somewhere
        samples, profile = level_and_profile(raw, rate, -20.0)
        takes[i] = Take.of(samples, rate, profile)
        placements.append(Placement(Segment(i, 1, "speech", 1), t, n / rate))
        t += n / rate + rng.uniform(0.0, 0.5)  # starts on no particular frame
    mixdown = Mixdown(Timeline(placements, [], [], t), takes, {}, rate)
    predicted = Analysis(*mixdown.analysis())
    meter = LoudnessMeter(rate, 1, mixdown.frames, block_energies=True)
    peaks = []
    for at, n, whole in stretches(mixdown.frames):
        x = mixdown.render(at - 16, at + whole + 16)
        meter.add(x[16 : 16 + n])
        peaks.append(block_true_peaks(x))
    measured = np.concatenate(peaks)
    assert mixdown.frames > CHUNK_FRAMES  # more than one stretch
    assert predicted.unlimited == pytest.approx(meter.integrated_lufs(), abs=0.005)
    assert np.all(predicted.peaks >= measured * (1 - 1e-6))
    assert predicted.peaks.max() == pytest.approx(measured.max(), rel=1e-5)
    assert predicted.energies.sum() == pytest.approx(meter.energies.sum(), rel=1e-4)


def test_level_to_scales_to_the_target_and_leaves_silence_alone():
    from bulletin.sound.loudness import integrated_lufs, level_to

    rate = 24000
    noise = (0.05 * np.random.default_rng(3).standard_normal((rate * 2, 1))).astype(np.float32)
    levelled = level_to(Audio(noise, rate), -16.0)
    assert integrated_lufs(levelled) == pytest.approx(-16.0, abs=0.01)
    silent = Audio(np.zeros((rate, 1), np.float32), rate)
    assert level_to(silent, -16.0) is silent


def test_cumulative_energy_before_a_frame_spreads_each_block_evenly():
    from bulletin.sound.loudness import cumulative_at
    from bulletin.sound.truepeak import BLOCK

    per_block = np.array([1.0, 2.0, 4.0], np.float32)
    # two frames in one block (as the last gating mark and the programme end can be), two past the end
    frames = np.array([0, BLOCK // 2, BLOCK, BLOCK + BLOCK // 4, 3 * BLOCK, 5 * BLOCK])
    np.testing.assert_allclose(cumulative_at(per_block, frames), [0.0, 0.5, 1.0, 1.5, 7.0, 7.0])


@pytest.mark.parametrize("sizes", [[1], [31, 33, 7], [4096], [17, 1, 1, 5000], [1 << 17]])
def test_true_peaks_given_a_stretch_at_a_time_are_those_of_the_whole(sizes: list[int]):
    # a stretch measured on its own reads the step to zero at its edges as a peak: a loud
    # signal cut anywhere must measure as it does whole
    from bulletin.sound.truepeak import streamed_true_peaks, true_peaks

    x = sine(1000.0, -1.0, 0.3)
    x = np.stack([x, x * 0.5], axis=1)
    cuts = np.cumsum(sizes * (x.shape[0] // sum(sizes) + 1))
    stretches = np.split(x, cuts[cuts < x.shape[0]])
    assert np.array_equal(np.concatenate(list(streamed_true_peaks(stretches))), true_peaks(x))
