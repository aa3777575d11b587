"""`-o` problems are found before anything is made: nothing synthesized, cached or loaded
beyond what the check needs (the story), for render and preview, through the real command in
its own process, with the take cache pointed at a folder of the test's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT

# runs the command in-process, then says what it loaded
PROGRAM = """
import json, sys
from bulletin.__main__ import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""
# what a render loads to cast and speak: none of it is needed to refuse an output
HEAVY = ("onnxruntime", "kokoro_onnx", "piper", "bulletin.engines.kokoro", "bulletin.engines.piper",
         "bulletin.engines.espeak")


def refused(tmp_path: Path, *args: str) -> str:
    """Run the command on the example (cast with neural voices) and return its one error line,
    checking that nothing heavy was loaded and the cache folder got nothing."""
    cache = tmp_path / "cache"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), BULLETIN_CACHE=str(cache / "takes"))
    run = subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=300)
    answer = json.loads(run.stdout)
    assert answer["status"] == 2, run.stderr
    assert [m for m in answer["modules"] if m.startswith(HEAVY)] == []
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()], "the cache got files"
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    return lines[0]


def test_render_into_an_existing_file(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    line = refused(tmp_path, "render", str(EXAMPLE), "-o", str(taken))
    assert line == f"error: -o/--output: {str(taken)!r} is a file, not a folder"
    assert taken.read_text() == "keep me"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux): a folder nobody can make")
def test_render_into_a_folder_that_cannot_be_made(tmp_path):
    line = refused(tmp_path, "render", str(EXAMPLE), "-o", "/proc/nonexistent/x")
    assert line.startswith("error: -o/--output: cannot write in '/proc/nonexistent/x': ")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux): a folder nobody can make")
def test_preview_into_a_folder_that_cannot_be_made(tmp_path):
    line = refused(tmp_path, "preview", str(EXAMPLE), "4", "-o", "/proc/nonexistent/x.mp3")
    assert line.startswith("error: -o/--output: cannot write in '/proc/nonexistent': ")


def test_preview_beside_a_file_in_the_way(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    line = refused(tmp_path, "preview", str(EXAMPLE), "4", "-o", str(taken / "x.wav"))
    assert line == f"error: -o/--output: {str(taken)!r} is a file, not a folder"
