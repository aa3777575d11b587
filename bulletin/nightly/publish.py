"""Publishing into a job's folder: whole files or nothing, and one build of a job at a time.

Layout of a publish folder (see docs/nightly.md):

    SLUG-DATE.mp3 .json .vtt .chapters.json [.wav]   one set per kept bulletin
    latest.mp3  latest.json                          the newest bulletin and its cue sheet
    feed.xml                                         the podcast feed (when the job has `feed:`)
    index.json                                       the manifest: the feed and pruning read it
    status.json                                      last success, last failure, schedule state
    .lock                                            flock()ed by the build that runs
    .staging/                                        renders in progress (same filesystem)

Every file appears by `os.replace` of a finished file beside it, so readers (a web server, a
playout system) see the old file or the new one, never a part. `index.json` is the commit
point: dated files are moved in before it, and files it no longer lists are deleted after it.
Only the holder of `.lock` writes here, so anything in `.staging/` or named like its
temporaries (`.NAME.XXXXXXXX.tmp`) that another holder finds was left by a build that died,
and is removed.

Nothing outside the folder is ever deleted or written, whatever the folder holds: names read
from index.json are used only when they are plain file names of the dated form this program
writes, and a symbolic link in the folder is never followed to delete or truncate what it
points at (at most the link itself is replaced, as any file of that name would be).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bulletin.base.errors import BulletinError
from bulletin.nightly.feed import Episode, chapters, feed_xml, headlines
from bulletin.nightly.jobs import Job

INDEX_NAME = "index.json"
STATUS_NAME = "status.json"
FEED_NAME = "feed.xml"
LOCK_NAME = ".lock"
STAGING_NAME = ".staging"
LATEST_MP3 = "latest.mp3"
LATEST_JSON = "latest.json"
INDEX_VERSION = 1
# The dated files a build publishes, by kind; only files named like these are ever pruned.
DATED_SUFFIXES = {
    "mp3": ".mp3", "json": ".json", "vtt": ".vtt", "chapters": ".chapters.json", "wav": ".wav", "srt": ".srt",
    "transcript": ".transcript.json",
}  # fmt: skip
DATED_FILE = re.compile(r"(?P<stem>[^/\\\0]+-\d{4}-\d{2}-\d{2})\.(?:mp3|json|vtt|wav|chapters\.json|srt|transcript\.json)\Z")
# The temporaries write_atomic makes: `.NAME.` then eight hex digits, then `.tmp`.
TEMPORARY_FILE = re.compile(r"\.[^/\\\0]+\.[0-9a-f]{8}\.tmp\Z")


class Busy(BulletinError):
    """Another build of the same job holds the publish folder's lock."""


class Rendered(Protocol):
    """What publishing needs from a render (bulletin.pipeline.render.RenderResult has these)."""

    files: dict[str, Path]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    cue: dict


@dataclass(frozen=True)
class Published:
    episode: Episode
    files: list[str]  # names written into the publish folder
    pruned: list[str]  # names removed from it
    kept: int  # bulletins in the index (and the feed) now
    note: str = ""  # how a missing or unreadable index.json was rebuilt, if it was


# --- the lock -------------------------------------------------------------------------------


@contextlib.contextmanager
def job_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the block, or raise Busy at once if another build holds it.

    flock() belongs to the open file: the kernel drops it when the holder exits, even by
    kill -9, so a crashed build never blocks the next one. The descriptor is not inherited by
    child processes (PEP 446), so a stray engine subprocess cannot keep the lock alive either.
    The lock file is never deleted: deleting a lock file lets two holders lock two inodes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    # O_NOFOLLOW: a `.lock` that is a symbolic link is refused rather than truncated through
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "holder unknown"
            raise Busy(f"already running: another build holds {path} ({holder})") from None
        note = f"pid {os.getpid()} since {dt.datetime.now().astimezone().isoformat(timespec='seconds')}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode() + b"\n", 0)
        yield
    finally:
        os.close(fd)


# --- files ----------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, sync it, and rename it into place."""
    temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    # os.open with 0o666 lets the umask decide the mode, as for any new file (mkstemp: 0600).
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _json_bytes(data: object) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n"


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make renames in `folder` durable; some filesystems cannot sync a folder, which is fine."""
    with contextlib.suppress(OSError):
        _fsync_file(folder)


def _file_mode() -> int:
    """The mode a new file gets under the umask (read here, as Python has no getumask)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def own_file(path: Path) -> bool:
    """A regular file itself, not a symbolic link to one (which may point outside the folder)."""
    return path.is_file() and not path.is_symlink()


def clear_leftovers(folder: Path) -> list[str]:
    """Remove what dead builds left: `.staging/` and write_atomic's temporaries. Call holding
    the lock."""
    removed = []
    staging = folder / STAGING_NAME
    if staging.is_symlink() or staging.is_file():
        staging.unlink()  # a link itself, never what it points at
        removed.append(STAGING_NAME)
    elif staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(STAGING_NAME)
    for path in sorted(folder.glob(".*.tmp")):
        if TEMPORARY_FILE.match(path.name) and own_file(path):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def new_staging(folder: Path, date: dt.date) -> Path:
    """A fresh folder for one render, inside the publish folder so moving out is a rename."""
    parent = folder / STAGING_NAME
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{date.isoformat()}-", dir=parent))


def remove_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()  # only if empty: leaves nothing behind after a clean build


# --- status ---------------------------------------------------------------------------------


def read_status(folder: Path) -> dict:
    """status.json, or {} if there is none yet (or it is unreadable: it is rewritten whole)."""
    try:
        status = json.loads((folder / STATUS_NAME).read_bytes())
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def update_status(folder: Path, changes: dict) -> dict:
    """Replace the given top-level keys of status.json, atomically. Call holding the lock."""
    status = read_status(folder) | changes
    write_atomic(folder / STATUS_NAME, _json_bytes(status))
    return status


# --- the index ------------------------------------------------------------------------------


def load_index(folder: Path) -> tuple[list[Episode], str]:
    """The published bulletins, and a note if index.json had to be rebuilt from the files."""
    path = folder / INDEX_NAME
    try:
        data = json.loads(path.read_bytes())
        return [_checked(Episode.from_json(entry)) for entry in data["episodes"]], ""
    except FileNotFoundError:
        why = f"{INDEX_NAME} is missing"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        why = f"{INDEX_NAME} is unreadable ({type(error).__name__}: {error})"
    episodes = recover_index(folder)
    return (
        episodes,
        f"{why}; rebuilt it from {len(episodes)} bulletins in the folder" if episodes else "",
    )


def _checked(episode: Episode) -> Episode:
    """An episode from index.json, refused (ValueError) unless every file it names is a plain
    dated file name of its own bulletin: pruning deletes such names, and the feed links them."""
    for name in episode.files.values():
        match = DATED_FILE.match(name)
        if not match or match["stem"] != episode.stem:
            raise ValueError(f"{name!r} is not a file name this program writes")
    return episode


def recover_index(folder: Path) -> list[Episode]:
    """The bulletins in a folder without a usable index: each cue sheet with its MP3 beside it.

    Adopting them (rather than starting an empty index) keeps a lost index.json from making
    the next builds prune every earlier bulletin as unlisted.
    """
    episodes = []
    for cue_path in sorted(folder.glob("*.json")):
        match = DATED_FILE.match(cue_path.name)
        mp3 = folder / f"{match['stem']}.mp3" if match else None
        if not match or cue_path.name.endswith((".chapters.json", ".transcript.json")) or not own_file(mp3):
            continue
        try:
            cue = json.loads(cue_path.read_bytes())
            date = dt.date.fromisoformat(cue["date"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a cue sheet of ours
        stem = match["stem"]
        files = {
            kind: stem + suffix
            for kind, suffix in DATED_SUFFIXES.items()
            if own_file(folder / (stem + suffix))
        }
        episodes.append(
            Episode(
                date=date,
                stem=stem,
                title=str(cue.get("title") or stem),
                published=dt.datetime.fromtimestamp(mp3.stat().st_mtime, dt.UTC),
                duration_s=float(cue.get("duration") or 0.0),
                mp3_bytes=mp3.stat().st_size,
                headlines=headlines(cue),
                files=files,
            )
        )
    return sorted(episodes, key=lambda e: e.date, reverse=True)


def index_bytes(job: Job, episodes: list[Episode]) -> bytes:
    return _json_bytes(
        {"version": INDEX_VERSION, "job": job.name, "episodes": [e.to_json() for e in episodes]}
    )


# --- publishing -----------------------------------------------------------------------------


def staged_files(job: Job, rendered: Rendered) -> dict[str, Path]:
    """The rendered files publishing needs, checked to be there."""
    wanted = ["mp3", "json", "vtt"] + (["wav"] if job.wav else [])
    missing = [
        kind for kind in wanted if kind not in rendered.files or not rendered.files[kind].is_file()
    ]
    if missing:
        raise BulletinError(f"the render wrote no {', '.join(missing)} file; nothing published")
    return {kind: rendered.files[kind] for kind in wanted} | {  # and the SRT and JSON transcript where written
        kind: rendered.files[k] for kind, k in (("srt", "srt"), ("transcript", "transcript.json")) if k in rendered.files}



def publish(
    job: Job, staging: Path, rendered: Rendered, date: dt.date, published_at: dt.datetime
) -> Published:
    """Move a finished render from `staging` into the job's folder; update latest, feed, index.

    Everything new is first made complete in `staging`, then renamed into place: dated files,
    then index.json (the commit), then feed.xml and latest.*, then superseded files go.
    """
    folder = job.publish
    staged = staged_files(job, rendered)
    episode = _stage_chapters(job, staged, rendered, date, published_at)
    old, note = load_index(folder)
    episodes = sorted(
        [e for e in old if e.date != date] + [episode], key=lambda e: e.date, reverse=True
    )
    kept = episodes[: job.keep]
    is_kept = any(e is episode for e in kept)  # a back-filled date older than `keep` is not
    moves = [(path, path.name) for path in staged.values()] if is_kept else []
    moves += _stage_derived(job, staging, kept, episode, staged)
    mode = _file_mode()
    for path, _ in moves:
        os.chmod(path, mode)  # the render may have made them private; the web server reads them
        _fsync_file(path)
    for path, name in moves:
        os.replace(path, folder / name)
    _fsync_dir(folder)
    keep_names = {name for e in kept for name in e.files.values()}
    pruned = _prune(folder, old, keep_names)
    return Published(episode, [name for _, name in moves], pruned, len(kept), note)


def _stage_chapters(
    job: Job, staged: dict[str, Path], rendered: Rendered, date: dt.date, published_at: dt.datetime
) -> Episode:
    """Write the chapters file beside the render and describe the bulletin for the index."""
    stem = staged["mp3"].stem
    podcast_name = job.feed.title if job.feed else ""
    staged["chapters"] = staged["mp3"].with_name(f"{stem}.chapters.json")
    staged["chapters"].write_bytes(_json_bytes(chapters(rendered.cue, podcast_name)))
    return Episode(
        date=date,
        stem=stem,
        title=str(rendered.cue.get("title") or stem),
        published=published_at,
        duration_s=round(float(rendered.duration_s), 2),
        mp3_bytes=staged["mp3"].stat().st_size,
        headlines=headlines(rendered.cue),
        files={kind: path.name for kind, path in staged.items()},
    )


def _stage_derived(
    job: Job, staging: Path, kept: list[Episode], episode: Episode, staged: dict[str, Path]
) -> list[tuple[Path, str]]:
    """index.json, feed.xml and latest.* made in staging, in the order they go live."""
    moves = []
    index = staging / INDEX_NAME
    index.write_bytes(index_bytes(job, kept))
    moves.append((index, INDEX_NAME))
    if job.feed:
        feed = staging / FEED_NAME
        feed.write_bytes(feed_xml(job.feed, kept, FEED_NAME))
        moves.append((feed, FEED_NAME))
    if kept and kept[0] is episode:  # latest is the newest date, not a back-filled older one
        for source, name in ((staged["mp3"], LATEST_MP3), (staged["json"], LATEST_JSON)):
            moves.append((_copy(source, staging / name), name))
    return moves


def _copy(source: Path, target: Path) -> Path:
    """A hard link where the filesystem has them (no second copy of the audio), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target


def _prune(folder: Path, old: list[Episode], keep_names: set[str]) -> list[str]:
    """Delete published files the index no longer lists, so the feed and the files agree.

    Besides what the old index listed, dated files it never listed go too: a build killed
    between moving its files in and committing the index leaves such orphans. Only regular
    files with dated names (load_index checked the index's names) are deleted.
    """
    known = {name for e in old for name in e.files.values()}
    known |= {p.name for p in folder.iterdir() if DATED_FILE.match(p.name)}
    pruned = sorted(name for name in known - keep_names if own_file(folder / name))
    for name in pruned:
        (folder / name).unlink(missing_ok=True)
    if pruned:
        _fsync_dir(folder)
    return pruned
