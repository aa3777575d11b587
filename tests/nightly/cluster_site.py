"""Helpers for the cluster tests: regional variants of a bulletin (the same national stories,
a local one each), a worker plugin that counts what the engines say, free loopback ports."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

DATE = dt.date(2026, 3, 4)
NATIONAL = (
    "The national assembly passed the budget late last night.",
    "Lawmakers argued for hours before the final vote.",
)
BROKEN = "title: Broken News\ncast: {anchor: {role: anchor}}\nsegments:\n  - kim: Nobody cast me.\n"


def local_line(region: str, n: int = 0) -> str:
    return f"In {region}, bridge number {n + 1} reopens on Monday after repairs."


def regional_site(
    root: Path, regions: list[str], *, local_lines: int = 1, broken: tuple[str, ...] = ()
) -> Path:
    """A jobs file with one job per region (its own publish folder and feed) and each job's
    story for DATE: a sting, the national stories, then `local_lines` local sentences."""
    jobs = ["jobs:"]
    for region in regions:
        jobs += [
            f"  {region}:",
            f"    story: stories/{region}/{{date}}.yaml",
            f"    publish: public/{region}",
            f"    feed: {{title: {region} News, base_url: 'https://example.org/{region}/'}}",
        ]
        story = root / "stories" / region / f"{DATE}.yaml"
        story.parent.mkdir(parents=True, exist_ok=True)
        local = "".join(f"      - anchor: {local_line(region, n)}\n" for n in range(local_lines))
        story.write_text(
            BROKEN
            if region in broken
            else f"title: {region.title()} News\n"
            # voices whose espeak-ng variants say a sentence the same way every time (some, such
            # as en-us+m3, +f1, +m8 and +victor, vary by a few samples a sentence, which adds up
            # past 10 ms between a cluster build and a local one that does not share its take cache)
            "cast: {anchor: {role: anchor, voice: guest-edward}, kim: {role: reporter, voice: anchor-us}}\n"
            "stings: {open: builtin:open}\nstories:\n  - headline: National\n    segments:\n"
            f"      - sting: open\n      - anchor: {NATIONAL[0]}\n      - kim: {NATIONAL[1]}\n"
            f"  - headline: Local\n    segments:\n{local}"
        )
    path = root / "jobs.yaml"
    path.write_text("\n".join(jobs) + "\n")
    return path


class EngineCalls(WorkerPlugin):
    """On each worker, wraps the espeak engine so that every text it synthesizes is appended
    to `log` (one JSON line per call, with the worker's pid): the count comes from the engine
    itself, not from the cache or the runner's own report."""

    def __init__(self, log: Path) -> None:
        self.log = str(log)

    def setup(self, worker: object) -> None:
        from bulletin.engines import get_engine

        engine = get_engine("espeak")
        original = engine.synthesize
        log = self.log

        def counted(text: str, *args: object, **kwargs: object) -> object:
            with open(log, "a") as out:
                fcntl.flock(out, fcntl.LOCK_EX)
                out.write(json.dumps({"pid": os.getpid(), "text": text}) + "\n")
            return original(text, *args, **kwargs)

        engine.synthesize = counted


def engine_calls(log: Path) -> list[str]:
    return (
        [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cache_entries(folder: Path) -> list[Path]:
    """The entries a take cache folder holds (not the temporaries being written)."""
    return [p for p in folder.glob("*/*") if p.is_file() and not p.name.startswith(".")]
