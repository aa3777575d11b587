"""Play a WAV with whatever player the machine has."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bulletin.base.errors import BulletinError

PLAYERS = (
    ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "error"]),
    ("paplay", []),
    ("pw-play", []),
    ("aplay", ["-q"]),
    ("afplay", []),
    ("play", ["-q"]),
)


def play(path: Path) -> None:
    for name, options in PLAYERS:
        if shutil.which(name):
            if subprocess.run([name, *options, str(path)], check=False).returncode != 0:
                raise BulletinError(f"{name} could not play {str(path)!r}")
            return
    names = ", ".join(n for n, _ in PLAYERS)
    raise BulletinError(f"no audio player found (looked for {names}); the preview is at {path}")
