"""Cluster builds: eight regional variants of a bulletin (the same national stories, a local
story and sign-off each) built on a Dask LocalCluster with one and with two single-threaded
workers, and the same build without a cluster.

Prints each build's wall time, the speed-up from one worker to two, and the takes (sentences)
synthesized against those requested: the national sentences are said by all eight bulletins
and made once. Every build starts with a cold take cache and empty publish folders; the
workers are started (and their engines loaded) before the clock starts, as a cluster is a
service that outlives one build (a small warm-up build runs on it first).

    .venv/bin/python scripts/bench_cluster.py [--regions 8] [--national 3] [--voices espeak]

The cast is neural by default (Kokoro): the load a cluster is for. `--voices espeak` makes the
takes so cheap that the fixed costs of a build (scheduling, the stings made here, publishing)
dominate and the speed-up says more about those than about the cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

from bulletin.nightly.build import run_build

DATE = datetime.date(2026, 3, 4)
NATIONAL = [
    (
        "Parliament passes the budget",
        [
            "Parliament passed next year's budget shortly before midnight.",
            "The vote came after eleven hours of debate in the chamber.",
            "The finance minister said the plan would bring the deficit down within three years.",
            "The opposition called the spending cuts reckless and promised to reverse them.",
        ],
    ),
    (
        "Storm warning for the coast",
        [
            "Forecasters have issued a storm warning for the whole of the east coast.",
            "Winds of up to one hundred kilometres an hour are expected from tomorrow afternoon.",
            "Ferry services have been cancelled and schools may close early.",
            "Residents are asked to secure loose objects and to stay indoors during the peak.",
        ],
    ),
    (
        "Trade talks resume",
        [
            "Trade talks between the two neighbours resumed this morning in Geneva.",
            "Negotiators hope to settle the dispute over steel tariffs before the summer.",
            "Both sides described the first session as constructive.",
        ],
    ),
    (
        "Football final tonight",
        [
            "In sport, the national football final kicks off tonight at eight.",
            "Both teams are unbeaten this season, and tickets sold out within an hour.",
        ],
    ),
]
REGIONS = ["north", "south", "east", "west", "central", "highlands", "islands", "valley",
           "coast", "capital", "lakes", "plains"]  # fmt: skip


VOICES = {"neural": ("anchor-clear", "reporter-warm"), "espeak": ("anchor-us", "reporter-plain")}


def _story(region: str, national: int, voices: tuple[str, str]) -> str:
    lines = [
        f"title: {region.title()} Morning News",
        "cast:",
        f"  anchor: {{role: anchor, voice: {voices[0]}}}",
        f"  reporter: {{role: reporter, voice: {voices[1]}}}",
        "stings: {open: builtin:open, close: builtin:close}",
        "stories:",
    ]
    for n, (headline, sentences) in enumerate(NATIONAL[:national]):
        lines += [f"  - headline: {headline}", "    segments:"]
        if n == 0:
            lines.append("      - sting: open")
        lines.append(f"      - anchor: {sentences[0]}")
        lines.append(f"      - reporter: {' '.join(sentences[1:])}")
    local = [
        f"In {region.title()}, the council has approved a new bridge over the river.",
        f"Work on the {region} bridge starts in the spring and should take two years.",
        f"Drivers in {region} are warned of delays on the ring road while it is built.",
    ]
    lines += ["  - headline: Local news", "    segments:",
              f"      - reporter: {' '.join(local)}",
              f"      - anchor: That was the news for {region.title()}. Good morning.",
              "      - sting: close"]  # fmt: skip
    return "\n".join(lines) + "\n"


def make_site(root: Path, regions: list[str], national: int, voices: tuple[str, str]) -> Path:
    jobs = ["jobs:"]
    for region in regions:
        story = root / "stories" / region / f"{DATE}.yaml"
        story.parent.mkdir(parents=True, exist_ok=True)
        story.write_text(_story(region, national, voices))
        jobs += [f"  {region}:", f"    story: stories/{region}/{{date}}.yaml",
                 f"    publish: public/{region}"]  # fmt: skip
    (root / "jobs.yaml").write_text("\n".join(jobs) + "\n")
    return root / "jobs.yaml"


def timed_build(jobs_file: Path, run: str, scheduler: str | None) -> tuple[float, str]:
    """One cold build into fresh publish folders: (wall seconds, its summary line)."""
    root = jobs_file.parent
    os.environ["XDG_CACHE_HOME"] = str(root / f"cache-{run}")  # cold: the client's sounds too
    text = jobs_file.read_text().replace("publish: public/", f"publish: public-{run}/")
    jobs = root / f"jobs-{run}.yaml"
    jobs.write_text(text)
    out = io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stdout(out):
        status = run_build(jobs, [], DATE, all_jobs=True, scheduler=scheduler,
                           cache=str(root / f"takes-{run}") if scheduler else None)  # fmt: skip
    wall_s = time.perf_counter() - began
    summary = out.getvalue().strip().splitlines()[-1]
    if status != 0:
        sys.exit(f"{run}: the build failed (exit {status}):\n{out.getvalue()}")
    return wall_s, summary


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def on_cluster(jobs_file: Path, workers: int, voices: tuple[str, str]) -> tuple[float, str, float, float]:
    """A build on a fresh LocalCluster: (wall seconds, summary, the largest worker's peak RSS
    in MB, the cores the workers got: their CPU seconds over the wall seconds)."""
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:  # fmt: skip
        with Client(cluster) as client:
            # a worker in service has made bulletins before: its engine and the mixing code
            # (with their lazily imported parts) are loaded. A one-bulletin build does that
            # here, into folders and a take cache of its own
            warm = make_site(jobs_file.parent / f"warm-{workers}w", ["warm"], 1, voices)
            timed_build(warm, "warm", cluster.scheduler_address)
            cpu_before = sum(client.run(_cpu_s).values())
            wall_s, summary = timed_build(jobs_file, f"{workers}w", cluster.scheduler_address)
            cores = (sum(client.run(_cpu_s).values()) - cpu_before) / wall_s
            worker_mb = max(client.run(_peak_rss_mb).values())
        return wall_s, summary, worker_mb, cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=8, help="regional variants (default 8)")
    parser.add_argument("--national", type=int, default=len(NATIONAL), help="national stories")
    parser.add_argument("--voices", choices=sorted(VOICES), default="neural", help="the cast (default neural)")
    args = parser.parse_args()
    voices = VOICES[args.voices]
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        jobs_file = make_site(Path(tmp), REGIONS[: args.regions], args.national, voices)
        local_s, local_summary = timed_build(jobs_file, "local", None)
        one_s, one_summary, _, one_cores = on_cluster(jobs_file, 1, voices)
        two_s, two_summary, worker_mb, two_cores = on_cluster(jobs_file, 2, voices)
    print(f"{args.regions} regional bulletins, {args.voices} voices ({', '.join(voices)}), {os.cpu_count()} cores")
    print(f"  without a cluster (here, one after another): {local_s:6.1f} s   {local_summary}")
    print(f"  LocalCluster, 1 worker x 1 thread:            {one_s:6.1f} s   {one_summary}")
    print(f"  LocalCluster, 2 workers x 1 thread:           {two_s:6.1f} s   {two_summary}")
    print(f"  speed-up from 1 to 2 workers: {one_s / two_s:.2f}x (target >= 1.7x)")
    print(
        f"  cores the workers got: {one_cores:.2f} with 1, {two_cores:.2f} with 2 (a busy machine"
        " shares its cores between sessions, not processes: the speed-up follows this)"
    )
    print(f"  2 workers against no cluster: {local_s / two_s:.2f}x")
    print(f"  a worker's peak memory (RSS): {worker_mb:.0f} MB")
    print(f"  load average after the runs: {os.getloadavg()[0]:.1f} (other work slows all three)")


if __name__ == "__main__":
    main()
