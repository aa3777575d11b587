"""Writing the output when things go wrong: the disk fills up (an injected ENOSPC at the write
and at the fsync; on a real small tmpfs where this machine lets us mount one, a bulletin too big
for it refused before synthesis, and the disk filled by another program during a render), two
renders of one story into one folder at once, and titles that would make unsafe file names."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

import bulletin.export.files as files
from bulletin.__main__ import main
from bulletin.export.files import Staged
from bulletin.export.names import MAX_TITLE_BYTES, title_slug
from tests.conftest import ROOT
from tests.smalldisk import fill, small_disk

STORY = """title: Fault Test
date: 2026-07-08
cast: {anchor: {role: anchor, voice: anchor-us}}
segments:
  - anchor: {text}
"""


def _story(folder: Path, text: str = "Good morning, here is the news.", title: str = "Fault Test") -> Path:
    path = folder / "story.yaml"
    path.write_text(STORY.replace("{text}", text).replace("Fault Test", title))
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def rendered(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A story rendered once: (story, output folder, its files)."""
    story, out = _story(tmp_path), tmp_path / "out"
    assert main(["render", str(story), "-o", str(out), "--jobs", "1"]) == 0
    return story, out, _snapshot(out)


def _fails_whole(capsys: pytest.CaptureFixture, story: Path, out: Path, previous: dict[str, bytes], name: str) -> None:
    story.write_text(story.read_text().replace("here is the news", "here is other news"))
    capsys.readouterr()
    assert main(["render", str(story), "-o", str(out), "--jobs", "1"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {str(out / name)!r}: cannot write: No space left on device"]
    assert _snapshot(out) == previous  # the previous bulletin whole, no temporaries left


def test_disk_full_while_writing_leaves_the_previous_bulletin(rendered, capsys, monkeypatch):
    story, out, previous = rendered
    real_open = open

    class Full:
        """A file on a disk with room for 1,000 bytes."""

        def __init__(self, path: Path, mode: str) -> None:
            self.file, self.room = real_open(path, mode), 1000

        def write(self, data: bytes) -> int:
            if len(data) > self.room:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.room -= len(data)
            return self.file.write(data)

        def __getattr__(self, name: str) -> object:
            return getattr(self.file, name)

    monkeypatch.setattr(files, "open", lambda path, mode: Full(path, mode), raising=False)
    _fails_whole(capsys, story, out, previous, "fault-test-2026-07-08.wav")


def test_disk_full_at_fsync_leaves_the_previous_bulletin(rendered, capsys, monkeypatch):
    story, out, previous = rendered

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", fsync)
    _fails_whole(capsys, story, out, previous, "fault-test-2026-07-08.wav")


def test_a_real_full_disk(tmp_path: Path):
    """A 1 MB tmpfs: the first bulletin fits; a longer one of the same name is refused before
    anything is synthesized (the estimate of its length says it cannot fit), the first whole."""
    with small_disk(tmp_path / "disk", "1m") as disk:
        story, out, cache = _story(tmp_path), disk / "out", tmp_path / "cache"
        run = [sys.executable, "-m", "bulletin", "render", str(story), "-o", str(out), "--jobs", "1", "--format", "wav,mp3"]
        env = dict(os.environ, XDG_CACHE_HOME=str(cache))
        assert subprocess.run(run, cwd=ROOT, capture_output=True, env=env).returncode == 0
        previous, takes = _snapshot(out), sorted(cache.rglob("*.take"))
        story.write_text(STORY.replace("{text}", " ".join(f"Item {i} of the news goes on for a good while longer." for i in range(8))))
        done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, env=env)
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line
        assert re.fullmatch(rf"error: not enough space in {re.escape(repr(str(out)))}: the files need about "
                            r"[\d.]+ MB and [\d.]+ kB is free; free some space or choose another folder", done.stderr.strip())
        assert _snapshot(out) == previous
        assert sorted(cache.rglob("*.take")) == takes  # nothing synthesized


def test_a_disk_filled_by_another_program_during_the_render(tmp_path: Path):
    """The estimate lets the render start; then another program takes the disk's space while it
    synthesizes: the render fails writing, in one line naming the file, leaving nothing."""
    with small_disk(tmp_path / "disk", "4m") as disk:
        story, out = _story(tmp_path, " ".join(f"Item {i} of the news goes on for a while." for i in range(10))), disk / "out"
        render = subprocess.Popen([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(out), "--jobs", "1",
                                   "--no-cache", "--format", "wav,mp3"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        lines = []
        while not lines or not lines[-1].startswith("cast"):  # a stage's line comes as it ends
            lines.append(render.stderr.readline())
            assert lines[-1], "".join(lines)
        fill(disk, 64 * 1024)
        stderr = "".join(lines) + render.stderr.read()
        assert render.wait(timeout=300) == 1, stderr
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "No space left on device" in errors[0] and str(out) in errors[0], stderr
        assert "Traceback" not in stderr
        assert not out.exists()  # the folder the render made goes with it


def test_two_renders_at_once_end_with_one_whole_bulletin(tmp_path: Path):
    """Same title and date, different words, same folder, at the same time: the files there are
    all of one render or all of the other, each whole."""
    out = tmp_path / "out"
    stories = []
    for words in ("the first render speaks these words", "the second render says something else entirely"):
        folder = tmp_path / words.split()[1]
        folder.mkdir()
        stories.append(_story(folder, f"In this story {words}."))
    runs = [subprocess.Popen([sys.executable, "-m", "bulletin", "render", str(s), "-o", str(out), "--jobs", "1", "--no-cache"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for s in stories]
    for run in runs:
        assert run.wait(timeout=300) == 0, run.stderr.read()
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"fault-test-2026-07-08.{ext}" for ext in ("json", "mp3", "srt", "transcript.json", "vtt", "wav")]
    cue = json.loads((out / names[0]).read_text())
    text = cue["segments"][0]["text"]
    for captions in (names[2], names[4]):  # captions and cue sheet of one render
        lines = [re.sub(r"<v [^>]*>", "", line) for line in (out / captions).read_text().splitlines()
                 if "-->" not in line and not line.isdigit()]
        assert text in " ".join(" ".join(lines).split())
    said = json.loads((out / names[3]).read_text())["segments"]
    assert " ".join(s["body"] for s in said) == text
    info = sf.info(str(out / names[5]))
    # and the WAV (the two renders' lengths differ by far more than the cue sheet's 1 ms)
    assert info.frames / info.samplerate == pytest.approx(cue["duration"], abs=0.001)
    from tests.export.riff_reader import chunks

    found = {name: payload for name, _, payload in chunks(out / names[5])}  # walks every chunk to the end
    assert len(found[b"data"]) == info.frames * 2
    # the WAV's bext names the render whose cue sheet this is
    assert found[b"bext"][288:320].decode() == cue["air"]["bext"]["originator_reference"]
    mp3 = sf.info(str(out / names[1]))
    assert mp3.duration == pytest.approx(cue["duration"], abs=0.03)


def _commit_many(args: tuple[Path, str, int]) -> None:
    folder, label, rounds = args
    for i in range(rounds):
        with Staged(folder, "same") as staged:
            for ext in ("a", "b", "c"):
                staged.open(ext).write(f"{label} {i}".encode())


def test_staged_commits_never_interleave(tmp_path: Path):
    """Processes committing sets of files of one name as fast as they can: after each commit
    the set is one writer's (checked at the end and by a reader holding the same lock)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.map(_commit_many, [(tmp_path, label, 60) for label in ("x", "y", "z")])
    contents = {(tmp_path / f"same.{ext}").read_text() for ext in ("a", "b", "c")}
    assert len(contents) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize(("title", "slug"), [
    ("KBS World Radio News", "kbs-world-radio-news"),
    ("Defence/Foreign Affairs", "defence-foreign-affairs"),
    ("../../etc/passwd", "etc-passwd"),
    ("..", "bulletin"),
    ("News\x00\x07\x1b[31m at\tnoon\n", "news-31m-at-noon"),
    ("?!... --- ***", "bulletin"),
    ("Nachrichten über Ärzte", "nachrichten-uber-arzte"),
    ("KBS 뉴스", "kbs-뉴스"),
    ("Morning " * 40, "morning-" * 9 + "morning"),
])
def test_output_names_are_safe_and_readable(title: str, slug: str):
    assert title_slug(title) == slug


def test_a_long_title_in_any_script_fits_a_file_name():
    for title in ("x" * 300, "뉴스" * 300, "é" * 300):
        slug = title_slug(title)
        assert 0 < len(slug.encode()) <= MAX_TITLE_BYTES
        assert len(f".{slug}-2026-07-08.chapters.json.bulletin-4194304.part".encode()) <= 255
        assert len(f".{slug}-2026-07-08.transcript.json.bulletin-4194304.part".encode()) <= 255


def test_a_nasty_title_renders_into_the_output_folder(tmp_path: Path, capsys):
    story = _story(tmp_path, title='"../../../' + "Very long ../ title, " * 20 + '"')
    out = tmp_path / "out"
    assert main(["render", str(story), "-o", str(out), "--jobs", "1", "--format", "wav"]) == 0
    written = list(out.iterdir())
    assert len(written) == 5 and all(p.name.startswith("very-long-title-very-long-title") for p in written)

    assert not [p for p in tmp_path.iterdir() if p.name not in ("story.yaml", "out")]

