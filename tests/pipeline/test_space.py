"""Room on the disk before synthesis: the estimated sizes of a render's files against the files
it really writes, and refusals on real small disks (tmpfs, where this machine lets the tests
mount one) in one line naming the folder, the space needed and the space free."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bulletin import BulletinError, render
from bulletin.export.space import check_free_space
from bulletin.pipeline.planning import plan
from bulletin.pipeline.space import render_sizes
from tests.conftest import ROOT, write_presets
from tests.smalldisk import small_disk

STORY = """title: Room Test
date: 2026-05-06
master: {formats: [wav, mp3]}
cast:
  anchor: {role: anchor, voice: test-one}
segments:
  - sting: builtin:open
  - anchor: {text}
  - anchor: And the weather, which stays dry, with a light wind from the west.
"""
REFUSAL = re.compile(r"error: not enough space in '(?P<folder>[^']+)': the files need about [\d.]+ [kMG]?B "
                     r"and [\d.]+ [kMG]?B is free; free some space or choose another folder")


def story(folder: Path, text: str = "Good morning, here is the news from the harbour.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "story.yaml"
    path.write_text(STORY.replace("{text}", text))
    write_presets(folder)
    return path


def test_the_estimated_sizes_cover_the_files_written_and_not_by_much(tmp_path):
    path = story(tmp_path / "story")
    sizes = render_sizes(plan(path), ["wav", "mp3"])
    result = render(path, tmp_path / "out", jobs=1)
    for ext, written in result.files.items():
        size = written.stat().st_size
        assert sizes[ext] >= size, ext
        if ext in ("wav", "mp3"):  # the audio: the estimate's margin, and no more
            assert sizes[ext] <= 1.6 * size + 32 * 1024, (ext, sizes[ext], size)


def command(*args: str, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulletin", *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, XDG_CACHE_HOME=str(cache), BULLETIN_CACHE=str(cache / "takes")),
                          timeout=300)


def test_a_preview_too_big_for_its_disk_is_refused_before_synthesis(tmp_path):
    path = story(tmp_path / "story", " ".join(f"Item {i} of the news goes on for a good while." for i in range(12)))
    with small_disk(tmp_path / "disk", "1m") as disk:
        run = command("preview", str(path), "2", "-o", str(disk / "long.wav"), cache=tmp_path / "cache")
        assert run.returncode == 1, run.stderr
        match = REFUSAL.fullmatch(run.stderr.strip())
        assert match and match["folder"] == str(disk), run.stderr
        assert list(disk.iterdir()) == [] and not list((tmp_path / "cache").rglob("*.take"))
        # the same segment as an MP3 (a fifth of the size) fits, and is written
        run = command("preview", str(path), "2", "-o", str(disk / "long.mp3"), cache=tmp_path / "cache")
        assert run.returncode == 0, run.stderr
        assert [p.name for p in disk.iterdir()] == ["long.mp3"]


def test_folders_on_one_disk_add_up(tmp_path):
    with small_disk(tmp_path / "one", "1m") as one, small_disk(tmp_path / "two", "1m") as two:
        check_free_space([(one / "a", 600_000), (two / "b", 600_000)])  # a disk each: both fit
        with pytest.raises(BulletinError) as refused:
            check_free_space([(one / "a", 600_000), (two / "b", 100), (one / "c" / "d", 600_000)])
        assert REFUSAL.fullmatch(f"error: {refused.value}")["folder"] == str(one / "a")
