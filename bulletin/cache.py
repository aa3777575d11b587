"""A content-addressed cache of takes in the user's cache folder.

Safe when renders run at once: entries are written to a unique temporary name and renamed
into place, so a reader sees a whole entry or none. Bounded in size: oldest-used first out.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bulletin" / "takes"


def content_key(parts: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class TakeCache:
    def __init__(self, folder: Path | None = None, max_bytes: int | None = None) -> None:
        self.folder = folder or cache_folder()
        env_limit = os.environ.get("BULLETIN_CACHE_MB")
        self.max_bytes = max_bytes or (int(env_limit) * 1024 * 1024 if env_limit else DEFAULT_MAX_BYTES)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        try:
            samples = np.load(path, allow_pickle=False)
            os.utime(path)  # mark as recently used, for pruning
        except (OSError, ValueError):
            return None
        return samples

    def put(self, key: str, samples: np.ndarray) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
            with os.fdopen(fd, "wb") as out:
                np.save(out, samples, allow_pickle=False)
            os.replace(tmp, path)
        except OSError:
            return  # a cache that cannot be written only costs speed

    def prune(self) -> None:
        """Drop least recently used entries until the cache fits its size."""
        try:
            entries = [(p.stat(), p) for p in self.folder.glob("*/*.npy")]
        except OSError:
            return
        total = sum(s.st_size for s, _ in entries)
        for stat, path in sorted(entries, key=lambda e: e[0].st_mtime):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= stat.st_size

    def clear(self) -> int:
        """Empty the cache; returns the number of entries removed."""
        removed = 0
        for path in self.folder.glob("*/*.npy"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed
