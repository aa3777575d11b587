"""A content-addressed cache of takes in the user's cache folder.

Each entry is a take (`KEY.npy`, float32 frames x channels, levelled) and, beside it, its
profile for mastering (`KEY.profile`, the same .npy format; see loudness.level_and_profile).

Safe when renders run at once: entries are written to a unique temporary name and renamed
into place, so a reader sees a whole entry or none; a render never relies on an entry staying
there after it read it (another render may prune it). Bounded in size (BULLETIN_CACHE_MB,
default 512): least recently used first out.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from bulletin.base.errors import InputError

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
# entries live in folders named by the first two hex digits of their key
ENTRIES = "[0-9a-f][0-9a-f]/*.npy"


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bulletin" / "takes"


def content_key(parts: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _env_limit_bytes() -> int:
    """BULLETIN_CACHE_MB in bytes, or the default where it is unset."""
    text = os.environ.get("BULLETIN_CACHE_MB", "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = float("nan")
    if not 0 <= megabytes < 1e9:  # also refuses nan and inf
        raise InputError(f"BULLETIN_CACHE_MB: {text!r} is not a number of megabytes (such as 512)")
    return int(megabytes * 1024 * 1024)


class TakeCache:
    def __init__(self, folder: Path | None = None, max_bytes: int | None = None) -> None:
        self.folder = folder or cache_folder()
        self.max_bytes = max_bytes or _env_limit_bytes()

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def profile_path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.profile"

    def get(self, key: str) -> np.ndarray | None:
        path = self.path(key)
        try:
            samples = np.load(path, allow_pickle=False)
            os.utime(path)  # mark as recently used, for pruning
        except (OSError, ValueError, EOFError):
            return None
        return samples

    def get_profile(self, key: str) -> np.ndarray | None:
        try:
            return np.load(self.profile_path(key), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None

    def put(self, key: str, samples: np.ndarray, profile: np.ndarray | None = None) -> Path | None:
        """Store `samples` (and their profile) under `key`; the take's path, or None when it
        could not be written."""
        path = self._write(self.path(key), samples)
        if profile is not None and path is not None:
            self._write(self.profile_path(key), profile)
        return path

    def _write(self, path: Path, array: np.ndarray) -> Path | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    np.save(out, array, allow_pickle=False)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            return None  # a cache that cannot be written only costs speed
        return path

    def prune(self) -> int:
        """Drop least recently used entries until the cache fits its size; returns how many."""
        entries = []
        for path in self.folder.glob(ENTRIES):
            profile = path.with_suffix(".profile")
            try:
                size = path.stat().st_size
                used = path.stat().st_mtime_ns
            except OSError:
                continue  # pruned by another render meanwhile
            try:
                size += profile.stat().st_size
            except OSError:
                pass
            entries.append((used, size, path))
        for profile in self.folder.glob("[0-9a-f][0-9a-f]/*.profile"):
            if not profile.with_suffix(".npy").exists():
                profile.unlink(missing_ok=True)  # its take was pruned, or never written
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            path.with_suffix(".profile").unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed

    def clear(self) -> int:
        """Empty the cache; returns the number of entries removed."""
        removed = 0
        for path in self.folder.glob(ENTRIES):
            path.unlink(missing_ok=True)
            removed += 1
        for pattern in ("[0-9a-f][0-9a-f]/*.profile", "[0-9a-f][0-9a-f]/.tmp-*.part"):
            for path in self.folder.glob(pattern):
                path.unlink(missing_ok=True)  # profiles; temporaries of a render killed while writing
        return removed
