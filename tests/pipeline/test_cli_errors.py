"""Odd invocations through the real command line: one line on stderr, an exit status, no
traceback, and nothing synthesized or written where the problem could be seen first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_presets

STORY = """title: Odd Calls
date: 2026-03-04
master: {formats: [wav]}
cast:
  anchor: {role: anchor, voice: test-one}
segments:
  - anchor: Good morning.
"""


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("odd") / "story.yaml"
    path.write_text(STORY)
    write_presets(path.parent)
    return path


def bulletin(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulletin", *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, **(env or {})), timeout=120)


def one_line(run: subprocess.CompletedProcess, status: int, *words: str) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert run.returncode == status and len(lines) == 1, run.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def test_output_naming_an_existing_file_is_refused_before_synthesis(story, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    run = bulletin("render", str(story), "-o", str(taken), "--no-cache")
    one_line(run, 2, "-o/--output", str(taken), "is a file")
    assert taken.read_text() == "keep me"
    # and a folder that cannot be made (a file in its way), said the same way, nothing made
    run = bulletin("render", str(story), "-o", str(taken / "sub"), "--no-cache")
    one_line(run, 2, "-o/--output", str(taken / "sub"))


def test_output_in_a_read_only_place_is_refused(story):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs /proc (Linux) for a folder nobody can write in, root included")
    run = bulletin("render", str(story), "-o", "/proc/bulletin-out", "--no-cache")
    one_line(run, 2, "/proc/bulletin-out")


def test_a_bad_story_still_wins_over_a_bad_output_folder(tmp_path):
    story = tmp_path / "story.yaml"
    story.write_text("title: T\ncast: {anchor: {role: anchr}}\nsegments:\n  - anchor: Hi.\n")
    (tmp_path / "file").write_text("")
    run = bulletin("render", str(story), "-o", str(tmp_path / "file"))
    assert run.returncode == 2 and "story.yaml:2:" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("args", [
    ("schedule", "jobs.yaml", "--list", "--count", "-1"),
    ("schedule", "jobs.yaml", "--list", "--count", "many"),
    ("preview", "story.yaml", "1", "--jobs", "0"),
    ("render", "story.yaml", "--jobs", "-3"),
])
def test_numbers_out_of_range_are_usage_errors(args):
    run = bulletin(*args)
    one_line(run, 2, args[-2])


def test_preview_jobs_zero_through_the_library_too(story, tmp_path):
    from bulletin.base.errors import InputError
    from bulletin.pipeline.render import preview

    with pytest.raises(InputError, match="--jobs: 0"):
        preview(story, ["1"], tmp_path / "p.wav", jobs=0)


def test_a_cache_size_that_is_not_a_number(story, tmp_path):
    for value in ("lots", "nan", "-5"):
        run = bulletin("render", str(story), "-o", str(tmp_path / "out"), env={"BULLETIN_CACHE_MB": value})
        one_line(run, 2, "BULLETIN_CACHE_MB", repr(value))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_voices_say_nothing(tmp_path):
    run = bulletin("voices", "--say", "", "anchor-us", "-o", str(tmp_path / "v.wav"))
    one_line(run, 2, "empty")
    assert not (tmp_path / "v.wav").exists()
    run = bulletin("voices", "--say", "   ")
    one_line(run, 2, "empty")


def test_preview_never_writes_wav_data_under_an_mp3_name(story, tmp_path):
    import soundfile as sf

    out = tmp_path / "x.mp3"
    run = bulletin("preview", str(story), "1", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert sf.info(str(out)).format == "MP3" and sf.info(str(out)).duration > 0.5
    other = tmp_path / "x.ogg"
    run = bulletin("preview", str(story), "1", "-o", str(other))
    one_line(run, 2, ".wav or .mp3", str(other))
    assert not other.exists()


def test_an_os_error_at_the_boundary_is_one_line_naming_the_path(tmp_path):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs /proc (Linux) for a folder nobody can write in, root included")
    transcript = tmp_path / "t.txt"
    transcript.write_text("Anchor: Good morning.\n")
    run = bulletin("import", str(transcript), "-o", "/proc/story.yaml")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if not line.startswith("warning: ")]  # the importer's notes
    assert len(errors) == 1 and errors[0].startswith("error: '/proc/") and "No such file" in errors[0]
