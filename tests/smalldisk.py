"""A real small disk for the tests of a full disk: a tmpfs of a given size, mounted where this
machine lets the tests mount one (root, or a namespace that allows mount), else a skip that
says why."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """`folder` (made here) as the mount point of a tmpfs of `size` ("1m", "300k") for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root in a namespace that allows mount is needed): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill `disk` with one file until only about `leave_bytes` are free (another program
    taking the space)."""
    import shutil

    room = shutil.disk_usage(disk).free - leave_bytes
    with open(disk / "filler", "wb") as file:
        while room > 0:
            written = file.write(b"\0" * min(room, 1 << 20))
            room -= written
