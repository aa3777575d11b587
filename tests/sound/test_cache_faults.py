"""Faults in the take cache: broken entries are remade, never mixed in; a cache that cannot be
written (not a folder, disk full) warns once and the render goes on; a bad BULLETIN_CACHE_MB is
one line; the cache at an fsspec URL; and worker processes killed during synthesis."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bulletin.base.errors import InputError
from bulletin.pipeline.render import render
from bulletin.sound import cache as cache_module
from bulletin.sound.cache import TakeCache, open_cache
from tests.conftest import ROOT, write_presets

STORY = """title: Faults
date: 2026-02-03
master: {formats: [wav]}
cast:
  anchor: {role: anchor, voice: test-one}
  kim: {role: reporter, voice: test-two, effect: phone}
segments:
  - anchor: Good morning, here is the news.
  - kim: Thank you. The cache keeps every take it made.
"""


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    write_presets(tmp_path)
    return path


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache of these tests: BULLETIN_CACHE names it."""
    path = tmp_path / "cache"
    monkeypatch.setenv("BULLETIN_CACHE", str(path))
    monkeypatch.delenv("BULLETIN_CACHE_MB", raising=False)
    return path


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.take"))


def bulletin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulletin", *args], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, **env), timeout=300)


def test_broken_entries_are_remade_never_mixed_in(story: Path, tmp_path: Path, folder: Path, engine_calls: list[str]):
    cold = render(story, tmp_path / "cold", jobs=1)
    assert len(engine_calls) == 3 and len(entries(folder)) == 5  # three sentences, two segment takes
    for n, path in enumerate(entries(folder)):
        data = bytearray(path.read_bytes())
        if n % 2:
            data = data[: len(data) // 2]  # truncated, as by a full disk or a killed copy
        else:
            data[len(data) // 2] ^= 0x40  # one flipped bit, as by a bad disk
        path.write_bytes(bytes(data))
    engine_calls.clear()
    again = render(story, tmp_path / "again", jobs=1)
    assert sorted(engine_calls) == sorted(["Good morning, here is the news.", "Thank you.", "The cache keeps every take it made."])
    assert again.duration_s == pytest.approx(cold.duration_s, abs=0.01)
    assert again.integrated_lufs == pytest.approx(cold.integrated_lufs, abs=0.05)
    engine_calls.clear()
    render(story, tmp_path / "third", jobs=1)
    assert engine_calls == []  # the remade entries are whole


def test_a_broken_entry_is_a_miss_and_is_removed(tmp_path: Path):
    cache = TakeCache(tmp_path / "cache")
    key = "ab" + "0" * 62
    samples = np.linspace(-1, 1, 4000, dtype=np.float32).reshape(-1, 1)
    assert cache.put(key, samples, np.ones((2, 3), np.float32))
    read = cache.read(key)
    assert read is not None and np.array_equal(read[0], samples) and read[1] is not None
    path = tmp_path / "cache" / "ab" / f"{key}.take"
    path.write_bytes(path.read_bytes()[:-1])
    assert cache.read(key) is None and not path.exists()


def test_a_cache_that_is_not_a_folder_warns_once(story: Path, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be\n")
    run = bulletin("render", str(story), "-o", str(tmp_path / "out"), "--jobs", "1",
                   env={"BULLETIN_CACHE": str(blocker / "takes")})
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, run.stderr
    assert "cannot be written (Not a directory); rendering without it" in warnings[0]
    assert "Traceback" not in run.stderr
    assert (tmp_path / "out" / "faults-2026-02-03.wav").stat().st_size > 0


def test_a_full_disk_warns_once_and_leaves_nothing_half_written(story: Path, tmp_path: Path, folder: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]):
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        """A file on a disk that fills up after a few bytes."""

        def __init__(self, fd: int) -> None:
            self.out = real_fdopen(fd, "wb")

        def write(self, data: bytes) -> int:
            self.out.write(bytes(data)[:100])
            self.out.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self) -> None:
            self.out.close()
            super().close()

    monkeypatch.setattr(cache_module.os, "fdopen", lambda fd, mode: Full(fd))
    result = render(story, tmp_path / "out", jobs=1)
    assert result.files["wav"].stat().st_size > 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: the take cache {folder} cannot be written (No space left on device); "
                        "rendering without it"]
    assert entries(folder) == [] and list(folder.glob("*/.tmp-*")) == []


def test_bad_cache_size_is_one_line(story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    run = bulletin("render", str(story), "-o", str(tmp_path / "out"), env={"BULLETIN_CACHE_MB": "lots"})
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "error: BULLETIN_CACHE_MB: 'lots' is not a number of megabytes (such as 512)"]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    monkeypatch.setenv("BULLETIN_CACHE_MB", "-3")
    with pytest.raises(InputError, match="BULLETIN_CACHE_MB"):
        open_cache()


def test_the_cache_at_an_fsspec_url(story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_calls: list[str]):
    url = "memory://bulletin-test/takes"
    monkeypatch.setenv("BULLETIN_CACHE", url)
    cache = open_cache()
    assert cache.location == url and cache.clear() == 0
    render(story, tmp_path / "cold", jobs=1)
    assert len(engine_calls) == 3
    engine_calls.clear()
    render(story, tmp_path / "warm", jobs=1)
    assert engine_calls == []
    # entries there are checked too: a broken one is made again
    fs = cache.store.fs
    names = sorted(fs.find("/bulletin-test/takes"))
    assert len(names) == 5
    for name in names:
        fs.pipe_file(name, fs.cat_file(name)[:-10])
    render(story, tmp_path / "again", jobs=1)
    assert len(engine_calls) == 3
    assert open_cache(url).clear() == 5


# Worker processes killed under a render --------------------------------------------------------

# enough text that a render synthesizes in worker processes (see takes.PARALLEL_MIN_SECONDS)
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november".split()


def long_story(folder: Path) -> Path:
    """About 21,000 characters at 450 words a minute (espeak-ng's fastest: less audio to make)."""
    (folder / "voices").mkdir()
    (folder / "voices" / "fast.yaml").write_text("engine: espeak\nvoice: en-us\nrate_wpm: 450\nroles: [anchor]\n")
    segments = []
    for s in range(7):
        sentences = [" ".join(WORDS[(s * 7 + n + k) % len(WORDS)] for k in range(9)).capitalize() + f" {s * 50 + n}."
                     for n in range(50)]
        segments.append(f"  - anchor: {' '.join(sentences)}")
    path = folder / "story.yaml"
    path.write_text("title: Workers\ndate: 2026-02-03\nmaster: {formats: [wav], sample_rate: 22050, loudness: broadcast}\n"
                    "cast:\n  anchor: {role: anchor, voice: fast}\nsegments:\n" + "\n".join(segments) + "\n")
    return path


def workers_of(pid: int) -> list[int]:
    """The spawned worker processes of process `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def render_killing(story: Path, out: Path, cache: Path, twice: bool) -> tuple[subprocess.Popen, int, str]:
    """Render `story` in 2 worker processes; once sentences are coming (synthesis under way)
    SIGKILL one worker, and with `twice` also the worker that replaces it (which is given the
    sentence the first one died with). The process, the kills done and its stderr."""
    run = subprocess.Popen([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(out), "--jobs", "2"],
                           cwd=ROOT, env=dict(os.environ, BULLETIN_CACHE=str(cache)), stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    kills = 0
    deadline = time.monotonic() + 240
    while run.poll() is None and time.monotonic() < deadline:
        workers = workers_of(run.pid)
        if kills == 0 and workers and list(cache.glob("*/*.take")):
            os.kill(workers[0], signal.SIGKILL)
            seen, kills = set(workers), 1
        elif kills == 1 and twice and (new := [pid for pid in workers if pid not in seen]):
            os.kill(new[0], signal.SIGKILL)
            kills = 2
        time.sleep(0.002)
    _, err = run.communicate(timeout=max(deadline - time.monotonic(), 1))
    return run, kills, err


def test_a_worker_killed_during_synthesis_is_retried(tmp_path: Path):
    story = long_story(tmp_path)
    run, kills, err = render_killing(story, tmp_path / "out", tmp_path / "cache", twice=False)
    assert kills == 1, "the render ended before a worker could be killed"
    assert run.returncode == 0, err
    assert "Traceback" not in err
    import soundfile as sf

    assert sf.info(str(tmp_path / "out" / "workers-2026-02-03.wav")).duration > 120
    assert workers_of(run.pid) == []


def test_a_worker_that_dies_again_fails_the_render_in_one_line(tmp_path: Path):
    story = long_story(tmp_path)
    run, kills, err = render_killing(story, tmp_path / "out", tmp_path / "cache", twice=True)
    assert kills == 2 and run.returncode == 1, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: segment ") and "a worker process died 2 times while synthesizing it" in lines[0]
    assert not (tmp_path / "out" / "workers-2026-02-03.wav").exists()
