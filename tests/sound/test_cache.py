"""The take cache: keyed by content, hit on the second render, bypassed by --no-cache, emptied by
`bulletin cache clear`, pruned oldest first past BULLETIN_CACHE_MB, safe for renders at once."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bulletin.cast.presets import load_presets
from bulletin.pipeline.render import render
from bulletin.sound.cache import TakeCache, cache_folder
from bulletin.sound.sentences import speech_job
from tests.conftest import ROOT, write_presets

STORY = """title: Cache Test
date: 2026-02-03
master: {formats: [wav]}
cast:
  anchor: {role: anchor, voice: test-one}
  kim: {role: reporter, voice: test-two, effect: phone}
segments:
  - sting: builtin:close
  - anchor: Good morning, here is the news.
  - kim: Thank you. The cache keeps every take it made.
"""


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("BULLETIN_CACHE_MB", raising=False)
    return home


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    write_presets(tmp_path)
    return path


def entries(home: Path) -> list[Path]:
    return sorted((home / "bulletin" / "takes").glob("*/*.take"))


def bulletin(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_CACHE_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "bulletin", *args], capture_output=True, text=True, cwd=ROOT, env=env)


def test_key_changes_with_everything_that_changes_the_sound():
    preset = next(iter(load_presets().values()))

    def key(text: str = "Good morning.", version: str = "espeak-ng 1.52", **changes: object) -> tuple[str, str]:
        """The segment's key and its (one) sentence's key."""
        settings = {"preset": preset, "rate": 1.0, "effect": "none", "rate_hz": 44100} | changes
        job = speech_job(text, settings["preset"], settings["rate"], settings["effect"], settings["rate_hz"],
                         engine_version=version)
        return job.key, job.sentences[0].key

    same = key()
    assert key() == same  # the same content, the same keys
    changed = [
        key("Good evening."),
        key(preset=replace(preset, voice="en-gb")),
        key(preset=replace(preset, pitch=preset.pitch + 10)),
        key(rate=1.1),
        key(rate_hz=48000),
        key(version="espeak-ng 1.53"),  # the engine's version
    ]
    assert len({same, *changed}) == len(changed) + 1
    assert all(sentence != same[1] for _, sentence in changed)
    # the effect is the segment's: its sentences are shared with the plain take
    phone = key(effect="phone")
    assert phone[0] != same[0] and phone[1] == same[1]
    # what does not change the sound does not change the key
    assert key(preset=replace(preset, name="other", description="x")) == same


def test_second_render_hits_the_cache(story: Path, tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch):
    first = render(story, tmp_path / "first", jobs=1)
    assert len(entries(cache_home)) == 6  # two speech takes, their three sentences and the sting
    import bulletin.sound.sources
    from bulletin.engines import get_engine

    def no(*args: object, **kwargs: object) -> None:
        raise AssertionError("made again instead of read from the cache")

    monkeypatch.setattr(get_engine("espeak"), "synthesize", no)
    monkeypatch.setattr(bulletin.sound.sources, "sound_take", no)
    second = render(story, tmp_path / "second", jobs=1)
    assert second.duration_s == first.duration_s
    assert [s["end"] for s in second.cue["segments"]] == [s["end"] for s in first.cue["segments"]]
    # the cached takes are levelled already: the master lands at the same loudness
    assert abs(second.integrated_lufs - first.integrated_lufs) < 0.01


def test_no_cache_neither_reads_nor_writes(story: Path, tmp_path: Path, cache_home: Path):
    run = bulletin("render", str(story), "-o", str(tmp_path / "out"), "--no-cache", "--jobs", "1", home=cache_home)
    assert run.returncode == 0, run.stderr
    assert entries(cache_home) == []
    # with takes in the cache, --no-cache still makes them (a broken entry does not matter)
    render(story, tmp_path / "warm", jobs=1)
    for path in entries(cache_home):
        path.write_bytes(b"not a take")
    run = bulletin("render", str(story), "-o", str(tmp_path / "out"), "--no-cache", "--jobs", "1", home=cache_home)
    assert run.returncode == 0, run.stderr
    assert all(path.read_bytes() == b"not a take" for path in entries(cache_home))


def test_cache_clear_empties_it(story: Path, tmp_path: Path, cache_home: Path):
    render(story, tmp_path / "out", jobs=1)
    assert entries(cache_home)
    run = bulletin("cache", "clear", home=cache_home)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("removed 6 takes from")  # 2 speech takes, 3 sentences, 1 sting
    assert entries(cache_home) == []


def test_prunes_least_recently_used_first(cache_home: Path, monkeypatch: pytest.MonkeyPatch):
    take = np.zeros((25_000, 1), np.float32)  # about 100 kB per entry
    monkeypatch.setenv("BULLETIN_CACHE_MB", "0.25")
    cache = TakeCache()
    assert cache.location == str(cache_folder()) and cache.max_bytes == 262_144
    keys = [f"{i:02x}" + "0" * 62 for i in range(4)]
    for age, key in enumerate(keys):
        cache.put(key, take)
        os.utime(cache_folder() / key[:2] / f"{key}.take", (1_000_000 + age, 1_000_000 + age))
    assert cache.get(keys[0]) is not None  # used now: the most recent
    cache.prune()
    kept = {path.stem for path in entries(cache_home)}
    assert kept == {keys[0], keys[3]}  # the two least recently used went, oldest first
    assert sum(path.stat().st_size for path in entries(cache_home)) <= cache.max_bytes


def test_a_render_prunes_to_the_limit(story: Path, tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BULLETIN_CACHE_MB", "0.000001")  # smaller than any take
    result = render(story, tmp_path / "out", jobs=1)
    assert result.files["wav"].stat().st_size > 0  # the render does not need its entries to stay
    assert entries(cache_home) == []


def test_two_renders_at_once_into_one_cache(story: Path, tmp_path: Path, cache_home: Path):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    runs = [subprocess.Popen([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(tmp_path / f"out{i}"),
                              "--jobs", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    import soundfile as sf

    infos = [sf.info(str(tmp_path / f"out{i}" / "cache-test-2026-02-03.wav")) for i in range(2)]
    # both whole (espeak-ng's noise can move a take's trimmed end by a frame or two between
    # two syntheses of it, so the two need not be identical)
    assert all(info.frames > 44100 for info in infos)
    assert abs(infos[0].duration - infos[1].duration) < 0.01
    assert len(entries(cache_home)) == 6
    assert not list((cache_home / "bulletin" / "takes").glob("*/.tmp-*"))  # no temporaries left
    # and the entries they left are whole: a third render reads them all
    run = bulletin("render", str(story), "-o", str(tmp_path / "out2"), "--jobs", "1", home=cache_home)
    assert run.returncode == 0, run.stderr


def test_a_warm_render_reads_no_sound_file_again(tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch):
    import soundfile as sf

    from bulletin.sound import sources

    rate = 16000
    tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    for name in ("clip.wav", "sting.wav", "bed.wav"):
        sf.write(str(tmp_path / name), tone, rate)
    write_presets(tmp_path)
    path = tmp_path / "story.yaml"
    path.write_text("title: Files\nmaster: {formats: [wav]}\ncast: {anchor: {role: anchor, voice: test-one}}\n"
                    "stings: {open: sting.wav}\nstories:\n  - headline: One\n    bed: bed.wav\n    segments:\n"
                    "      - sting: open\n      - {clip: clip.wav, end: 0.5}\n      - anchor: Hello.\n")
    read: list[Path] = []
    real = sources.read_audio
    monkeypatch.setattr(sources, "read_audio", lambda file: read.append(Path(file).name) or real(file))
    render(path, tmp_path / "cold", jobs=1)
    assert sorted(read) == ["bed.wav", "clip.wav", "sting.wav"]
    read.clear()
    render(path, tmp_path / "warm", jobs=1)
    assert read == []  # every take from the cache
