"""Room on the disk, known before any audio is made: the size of every output file from the
bulletin's estimated length, and a check of the folders that will hold them.

A render that cannot fit says so before it synthesizes (one line naming the folder, the space
needed and the space free), instead of failing minutes later when the disk fills. The disk
can still fill during a render (another program writing), so the writers keep their own
handling of a full disk (`files.Staged`); this only refuses what is certain to fail.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from bulletin.base.errors import BulletinError

# the estimate of a bulletin's length is within 10% for most texts (pipeline/estimate.py):
# sizes are reckoned for this much more audio, and a second over
LENGTH_MARGIN = 1.25
EXTRA_S = 1.0
# WAV chunks besides the samples (the 44-byte header, room for metadata chunks), ID3 tags with
# chapters, a cue sheet's or captions' fixed part: at most this per file
FILE_ALLOWANCE_BYTES = 16 * 1024
# the cue sheet and the captions grow with the text (quoted, escaped, wrapped) and the segments
TEXT_FACTOR = 2
SEGMENT_BYTES = 512


def output_sizes(duration_s: float, rate_hz: int, channels: int, formats: Iterable[str], *,
                 mp3_bitrate_kbps: int, text_chars: int = 0, segments: int = 0) -> dict[str, int]:
    """Bytes each output file may take, by extension, for `duration_s` of estimated audio (with
    the margins above): WAV frames x channels x 2 bytes, MP3 its bitrate x its length, the cue
    sheet (json) and captions (vtt) by the text they hold."""
    seconds = duration_s * LENGTH_MARGIN + EXTRA_S
    sizes = {}
    for ext in formats:
        if ext == "wav":
            sizes[ext] = math.ceil(seconds * rate_hz) * channels * 2
        elif ext == "mp3":
            sizes[ext] = math.ceil(seconds * mp3_bitrate_kbps * 1000 / 8)
        else:
            sizes[ext] = text_chars * TEXT_FACTOR + segments * SEGMENT_BYTES
        sizes[ext] += FILE_ALLOWANCE_BYTES
    return sizes


def check_free_space(needs: Iterable[tuple[Path, int]]) -> None:
    """Refuse (BulletinError, one line) when a folder's disk has less room than the bytes
    that will be written into it. `needs` is (folder, bytes) pairs; folders on one file
    system add up, and a folder that does not exist yet is measured at its nearest parent."""
    by_device: dict[int, tuple[Path, int, int]] = {}  # device -> (first folder, bytes, free)
    for folder, size in needs:
        existing = _nearest_existing(Path(folder))
        device = os.stat(existing).st_dev
        first, total, free = by_device.get(device) or (Path(folder), 0, shutil.disk_usage(existing).free)
        by_device[device] = (first, total + size, free)
    for folder, needed, free in by_device.values():
        if needed > free:
            raise BulletinError(f"not enough space in {str(folder)!r}: the files need about {_size(needed)} "
                                f"and {_size(free)} is free; free some space or choose another folder")


def _nearest_existing(folder: Path) -> Path:
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
