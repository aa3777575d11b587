"""The clean-up of temporaries a killed render left removes only names this program writes."""

from __future__ import annotations

import os
import subprocess
import sys

from bulletin.export.files import write_all


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_our_dead_temporaries_are_removed(tmp_path):
    dead = _dead_pid()
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(b"not ours")
    folder = tmp_path / "out"
    folder.mkdir()
    ours = folder / f".old-2026-01-01.mp3.bulletin-{dead}.part"
    ours.write_bytes(b"half a render")
    kept = {
        folder / f".notes.{dead}.part": b"another program's",
        folder / f".live.mp3.bulletin-{os.getpid()}.part": b"a render still running",
        folder / f".mine.bulletin-{dead}.part.txt": b"not a temporary",
    }
    for path, data in kept.items():
        path.write_bytes(data)
    link = folder / f".link.mp3.bulletin-{dead}.part"
    link.symlink_to(outside)
    written = write_all(folder, "new", {"txt": lambda: b"hello"})
    assert written["txt"].read_bytes() == b"hello"
    assert not ours.exists()
    assert all(path.read_bytes() == data for path, data in kept.items())
    assert link.is_symlink() and outside.read_bytes() == b"not ours"
