"""The playout drop: each build puts the bulletin's WAV (bext and cart chunks inside) into a
playout system's watched folder as `CUT.wav`, named by the job's cut id.

The new file is copied beside the old one under a temporary name (`.CUT.wav.XXXXXXXX.tmp`:
a `*.wav` watcher does not match it), synced, and renamed over it, so a watcher sees the old
file or the new one, never part of one. A failed build never reaches the rename: the previous
`CUT.wav`, its kill date and all, stays, so automation drops it when it expires rather than
airing a stale bulletin. Only the holder of the job's lock writes here; temporaries of this
cut that a killed build left are removed by the next build.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path


def drop_name(cut: str) -> str:
    return f"{cut}.wav"


@contextlib.contextmanager
def staged_drop(folder: Path, cut: str, wav: Path) -> Iterator[Path]:
    """Copy `wav` beside `folder/CUT.wav` under a temporary name, synced; the block then decides:
    `commit_drop` renames it into place, and whatever is left when the block ends is removed."""
    folder.mkdir(parents=True, exist_ok=True)
    clear_stale(folder, cut)
    temporary = folder / f".{drop_name(cut)}.{secrets.token_hex(4)}.tmp"
    try:
        with open(wav, "rb") as source, open(temporary, "xb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
            target.flush()
            os.fsync(target.fileno())
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def commit_drop(temporary: Path, folder: Path, cut: str) -> Path:
    """Rename the staged copy over `CUT.wav` (atomic on one file system) and sync the folder."""
    final = folder / drop_name(cut)
    os.replace(temporary, final)
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return final


def clear_stale(folder: Path, cut: str) -> list[str]:
    """Remove this cut's temporaries that a killed build left (regular files only)."""
    pattern = re.compile(re.escape(f".{drop_name(cut)}.") + r"[0-9a-f]{8}\.tmp\Z")
    removed = []
    for path in folder.glob(f".{drop_name(cut)}.*.tmp"):
        if pattern.match(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def drop_record(final: Path, cue: dict) -> dict:
    """status.json's note of a drop: the file and the air window its cart chunk holds."""
    cart = (cue.get("air") or {}).get("cart") or {}
    return {"file": str(final), "cut": cart.get("cut"), "starts": cart.get("starts"), "expires": cart.get("expires")}


def kept_record(folder: Path, cut: str, last_success: dict | None) -> dict:
    """status.json's note, after a failed build, of what the playout folder still holds."""
    final = folder / drop_name(cut)
    if not final.is_file():
        return {"file": str(final), "kept": False, "note": "no earlier bulletin in the playout folder"}
    earlier = (last_success or {}).get("playout") or {}
    return {"file": str(final), "kept": True, "date": (last_success or {}).get("date"),
            "expires": earlier.get("expires"),
            "note": "the previous bulletin stays, with its kill date: automation drops it when it expires"}
