"""A cluster of separate processes on loopback, as in production: `dask scheduler` and two
`dask worker`s, and `bulletin build` run as a command. A worker killed mid-build does not stop
the build or leave a partial file; an unreachable scheduler fails cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest
import soundfile as sf
from cluster_site import DATE, cache_entries, free_port, local_line, regional_site
from distributed import Client
from nightly_fakes import wait_for

from bulletin.nightly.publish import read_status
from tests.conftest import ROOT

DASK = Path(sys.executable).with_name("dask")
REGIONS = ["north", "south", "east"]


def _bulletin(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bulletin", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def dask_processes(tmp_path):
    """A scheduler and two single-threaded workers on free loopback ports; every process is
    killed at the end, whatever the test did."""
    address = f"tcp://127.0.0.1:{free_port()}"
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        log = open(tmp_path / f"dask-{len(started)}.log", "w")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(
            [str(DASK), *args],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes the nanny's worker too
        )
        log.close()
        started.append(process)
        return process

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
              "--no-dashboard")  # fmt: skip
        workers = [
            start("worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard")
            for _ in range(2)
        ]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_worker_killed_mid_build_leaves_every_published_file_whole(tmp_path, dask_processes):
    address, workers = dask_processes
    jobs_file = regional_site(tmp_path, REGIONS, local_lines=6)
    cache = tmp_path / "takes"
    build = _bulletin("build", str(jobs_file), "--all", "--date", DATE.isoformat(),
                      "--scheduler", address, "--cache", str(cache))  # fmt: skip
    try:
        wait_for(lambda: cache_entries(cache), timeout_s=60)  # takes are being made
        assert build.poll() is None, build.communicate()
        os.killpg(workers[0].pid, signal.SIGKILL)
        killed_at = time.monotonic()
        out, err = build.communicate(timeout=120)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, err
    assert out.splitlines()[-1].startswith("3 bulletins built, 0 failed; ")
    assert time.monotonic() - killed_at > 0  # the build outlived the worker
    for region in REGIONS:
        folder = tmp_path / "public" / region
        stem = f"{region}-news-{DATE}"
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
            [f"{stem}.{ext}" for ext in ("mp3", "json", "vtt", "srt", "transcript.json", "chapters.json")]
            + ["feed.xml", "index.json", "latest.json", "latest.mp3", "status.json"]
        )
        assert not (folder / ".staging").exists()
        cue = json.loads((folder / f"{stem}.json").read_text())
        samples, rate_hz = sf.read(str(folder / f"{stem}.mp3"), dtype="float32")
        assert abs(samples.shape[0] / rate_hz - cue["duration"]) < 0.06  # the whole MP3
        said = json.loads((folder / f"{stem}.transcript.json").read_text())["segments"]
        assert " ".join(s["body"] for s in said).endswith(local_line(region, 5))  # the captions' words, whole
        last_cue = (folder / f"{stem}.vtt").read_text().rstrip().split("\n\n")[-1].split("\n")[2:]
        assert " ".join(last_cue).endswith(local_line(region, 5).split()[-1])

        assert json.loads((folder / f"{stem}.chapters.json").read_text())["chapters"]
        feed = feedparser.parse((folder / "feed.xml").read_bytes())
        assert not feed.bozo and feed.entries[0].enclosures[0].href.endswith(f"{stem}.mp3")
        assert read_status(folder)["last_run"]["outcome"] == "success"


def test_an_unreachable_scheduler_fails_in_one_line_and_publishes_nothing(tmp_path):
    jobs_file = regional_site(tmp_path, REGIONS)
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    env = dict(
        os.environ, BULLETIN_SCHEDULER=address, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s"
    )
    build = _bulletin("build", str(jobs_file), "--all", env=env)
    out, err = build.communicate(timeout=60)
    assert build.returncode == 1
    assert err.splitlines() == [err.strip()] and err.startswith(
        f"error: cannot reach the Dask scheduler at {address}: "
    )
    assert out == "" and not (tmp_path / "public").exists()
