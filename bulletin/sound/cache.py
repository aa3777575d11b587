"""A content-addressed cache of takes, in a folder (the user's cache folder, or a shared mount)
or at an fsspec URL (`s3://...`, `gcs://...`, `memory://` in tests) that every worker reaches.

Each entry is one file `KK/KEY.take`: a magic line, the SHA-256 of the rest, and the rest, an
.npz of the take (`samples`, float32 frames x channels) and, for a segment's take, its
`profile` for mastering (see loudness.level_and_profile), and for speech its `words` (each
word's start and end in seconds, engines.timing). An entry whose checksum does not
match (truncated by a full disk, a killed writer, a bad copy) is a miss: it is removed and made
again, never mixed in.

Safe when renders run at once: in a folder an entry is written to a unique temporary name and
renamed into place, and at a URL it is one put of the whole object, so a reader sees a whole
entry or none; a render never relies on an entry staying there after it read it (another render
may prune it). A folder is bounded in size (BULLETIN_CACHE_MB, default 512): least recently used
first out; a bucket's own lifecycle rules bound a URL's. A cache that cannot be written (full,
read-only, not a folder) says so once and the render goes on without it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from bulletin.base.errors import InputError

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
MAGIC = b"bulletin-take 1\n"
DIGEST_BYTES = 32
SUFFIX = ".take"
# entries live in folders named by the first two hex digits of their key
ENTRIES = f"[0-9a-f][0-9a-f]/*{SUFFIX}"


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bulletin" / "takes"


def content_key(parts: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _name(key: str) -> str:
    return f"{key[:2]}/{key}{SUFFIX}"


class Store(Protocol):
    """Where entries are kept: whole files by name (`KK/KEY.take`)."""

    location: str

    def read(self, name: str) -> bytes | None:
        """The entry's bytes, or None when there is none (or it cannot be read)."""
        ...

    def write(self, name: str, data: bytes) -> None:
        """Put the whole entry in place at once; OSError when it cannot."""
        ...

    def remove(self, name: str) -> None: ...

    def has(self, name: str) -> bool:
        """Whether an entry of this name is there (not read, not checked)."""
        ...

    def clear(self) -> int:
        """Remove every entry (and leftovers); the number of entries removed."""
        ...


class FolderStore:
    """Entries in a folder: written beside their name and renamed into place; a read marks
    the entry as used, for pruning least recently used first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.location = str(folder)

    def read(self, name: str) -> bytes | None:
        path = self.folder / name
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only cache is still read
        return data

    def has(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def write(self, name: str, data: bytes) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def remove(self, name: str) -> None:
        try:
            (self.folder / name).unlink(missing_ok=True)
        except OSError:
            pass  # read-only: the entry stays a miss

    def prune(self, max_bytes: int) -> int:
        """Drop least recently used entries until the folder holds at most `max_bytes`."""
        entries = []
        for path in self.folder.glob(ENTRIES):
            try:
                stat = path.stat()
            except OSError:
                continue  # pruned by another render meanwhile
            entries.append((stat.st_mtime_ns, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries):
            if total <= max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed

    def clear(self) -> int:
        removed = 0
        for path in self.folder.glob("[0-9a-f][0-9a-f]/*"):
            is_entry = path.suffix == SUFFIX
            path.unlink(missing_ok=True)  # and temporaries of a render killed while writing
            removed += is_entry
        return removed


class FsspecStore:
    """Entries at an fsspec URL: each written with one put of the whole object (atomic on
    object stores); a stale or half entry is caught by its checksum."""

    def __init__(self, url: str) -> None:
        import fsspec

        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as error:
            raise InputError(f"BULLETIN_CACHE: cannot use {url!r}: {error}") from None
        self.location = url

    def read(self, name: str) -> bytes | None:
        try:
            return self.fs.cat_file(f"{self.root}/{name}")
        except (OSError, ValueError):
            return None

    def has(self, name: str) -> bool:
        try:
            return bool(self.fs.exists(f"{self.root}/{name}"))
        except OSError:
            return False

    def write(self, name: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.root}/{name}", data)

    def remove(self, name: str) -> None:
        try:
            self.fs.rm_file(f"{self.root}/{name}")
        except OSError:
            pass

    def clear(self) -> int:
        try:
            names = [name for name in self.fs.find(self.root) if name.endswith(SUFFIX)]
        except OSError:
            return 0
        if names:
            self.fs.rm(names)
        return len(names)


class Entry(NamedTuple):
    """A cache entry: the samples, the profile of a segment's take (None for a sentence), and
    the start and end in seconds of each word said in it (None where there are none: a sound)."""

    samples: np.ndarray
    profile: np.ndarray | None
    words: np.ndarray | None = None


def _pack(samples: np.ndarray, profile: np.ndarray | None, words: np.ndarray | None) -> bytes:
    arrays = {"samples": samples}
    if profile is not None:
        arrays["profile"] = profile
    if words is not None:
        arrays["words"] = np.asarray(words, np.float64)
    payload = io.BytesIO()
    np.savez(payload, allow_pickle=False, **arrays)
    body = payload.getvalue()
    return MAGIC + hashlib.sha256(body).digest() + body


def _unpack(data: bytes) -> Entry | None:
    """The entry, or None when it is not whole and as written."""
    head = len(MAGIC) + DIGEST_BYTES
    if not data.startswith(MAGIC) or len(data) <= head:
        return None
    body = data[head:]
    if hashlib.sha256(body).digest() != data[len(MAGIC):head]:
        return None
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as arrays:
            samples = arrays["samples"]
            profile = arrays["profile"] if "profile" in arrays.files else None
            words = arrays["words"] if "words" in arrays.files else None
    except (OSError, ValueError, KeyError, EOFError):
        return None
    return Entry(samples, profile, words)


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


def _warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


class TakeCache:
    """Takes by content key over a store (a folder, by default the user's cache folder, or an
    fsspec URL)."""

    def __init__(self, location: Path | str | None = None, max_bytes: int | None = None,
                 on_warning: Callable[[str], None] = _warn) -> None:
        if isinstance(location, str) and "://" in location and not location.startswith("file://"):
            self.store: FolderStore | FsspecStore = FsspecStore(location)
        else:
            folder = location.removeprefix("file://") if isinstance(location, str) else location
            self.store = FolderStore(Path(folder) if folder else cache_folder())
        self.max_bytes = max_bytes or _env_limit_bytes()
        self.on_warning = on_warning
        self.writable = True

    @property
    def location(self) -> str:
        return self.store.location

    def read(self, key: str) -> Entry | None:
        """The entry of `key`, or None when there is no whole entry for it (a broken one is
        removed, to be made again)."""
        data = self.store.read(_name(key))
        if data is None:
            return None
        entry = _unpack(data)
        if entry is None:
            self.store.remove(_name(key))
        return entry

    def has(self, key: str) -> bool:
        """Whether the cache holds an entry for `key` (a quick look: not read, not checked)."""
        return self.store.has(_name(key))

    def get(self, key: str) -> np.ndarray | None:
        entry = self.read(key)
        return entry[0] if entry is not None else None

    def put(self, key: str, samples: np.ndarray, profile: np.ndarray | None = None,
            words: np.ndarray | None = None) -> bool:
        """Store `samples` (and their profile and word times) under `key`; False when the cache
        cannot be written (said once: a cache that cannot be written only costs speed)."""
        if not self.writable:
            return False
        try:
            self.store.write(_name(key), _pack(samples, profile, words))
        except OSError as error:
            self.writable = False
            cause = error.strerror or type(error).__name__
            self.on_warning(f"the take cache {self.location} cannot be written ({cause}); rendering without it")
            return False
        return True

    def prune(self) -> int:
        """Drop least recently used entries until a folder cache fits its size; how many."""
        if isinstance(self.store, FolderStore) and self.writable:
            try:
                return self.store.prune(self.max_bytes)
            except OSError:
                return 0
        return 0

    def clear(self) -> int:
        """Empty the cache; returns the number of entries removed."""
        return self.store.clear()


def open_cache(location: str | None = None) -> TakeCache:
    """The take cache at `location` (a folder or an fsspec URL, as `--cache` gives it), else
    at BULLETIN_CACHE, else in the user's cache folder. InputError for a bad BULLETIN_CACHE_MB."""
    chosen = location or os.environ.get("BULLETIN_CACHE", "").strip() or None
    return TakeCache(chosen)
