"""Cluster builds on a real Dask LocalCluster (two single-threaded worker processes): shared
takes are synthesized once (counted by the engines on the workers), a broken story fails its
job alone, and the bulletins match a local build of the same stories."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import feedparser
import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from cluster_site import (
    DATE,
    NATIONAL,
    EngineCalls,
    cache_entries,
    engine_calls,
    local_line,
    regional_site,
)
from distributed import Client, LocalCluster
from nightly_fakes import wait_for

from bulletin.__main__ import main
from bulletin.mix.timeline import arrange
from bulletin.nightly.build import build_on, run_build
from bulletin.nightly.cluster import Cluster
from bulletin.nightly.jobsfile import load_jobs
from bulletin.nightly.publish import read_status
from bulletin.nightly.tasks import BulletinOrder, fit_on_worker
from bulletin.pipeline.planning import cast_story
from bulletin.pipeline.render import make_takes
from bulletin.script.story import load_story
from bulletin.sound.cache import open_cache
from bulletin.sound.takes import TakeStore
from tests.conftest import ROOT

REGIONS = ["north", "south", "east"]


@pytest.fixture(scope="module")
def cluster():
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    yield cluster
    cluster.close()


def _loudness_and_duration(mp3) -> tuple[float, float]:
    samples, rate_hz = sf.read(str(mp3), dtype="float32")
    return pyloudnorm.Meter(rate_hz).integrated_loudness(samples), samples.shape[0] / rate_hz


def test_shared_takes_are_made_once_and_bulletins_match_a_local_build(
    tmp_path, cluster, capsys, monkeypatch
):
    jobs_file = regional_site(tmp_path, [*REGIONS, "west"], broken=("west",))
    log = tmp_path / "engine-calls.log"
    with Client(cluster.scheduler_address) as client:
        client.register_plugin(EngineCalls(log), name="engine-calls")
    status = run_build(
        jobs_file,
        [],
        DATE,
        all_jobs=True,
        scheduler=cluster.scheduler_address,
        cache=str(tmp_path / "takes"),
    )
    assert status == 2  # the broken story's job; the others published
    # every sentence once, though the national ones are in three bulletins
    calls = engine_calls(log)
    assert sorted(calls) == sorted([*NATIONAL, *(local_line(r) for r in REGIONS)])
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "3 bulletins built, 1 failed; 5 takes synthesized, 9 requested"
    assert sum(" publish ok: " in line for line in out) == 3
    west = read_status(tmp_path / "public" / "west")
    assert west["last_run"]["outcome"] == "failure" and west["last_failure"]["exit_status"] == 2
    assert "'kim'" in west["last_failure"]["reason"]
    assert not list((tmp_path / "public" / "west").glob("*.mp3"))

    # the same stories built here, one after another, with a cache of their own
    local = tmp_path / "local.yaml"
    local.write_text(jobs_file.read_text().replace("publish: public/", "publish: local/"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "local-cache"))
    assert run_build(local, REGIONS, DATE) == 0
    for region in REGIONS:
        stem = f"{region}-news-{DATE}"
        made, here = tmp_path / "public" / region, tmp_path / "local" / region
        feed = feedparser.parse((made / "feed.xml").read_bytes())
        assert not feed.bozo and [e.title for e in feed.entries] == [
            f"{region.title()} News, 4 March 2026"
        ]
        cue, local_cue = (json.loads((f / f"{stem}.json").read_text()) for f in (made, here))
        assert abs(cue["duration"] - local_cue["duration"]) <= 0.010
        assert (
            abs(cue["loudness"]["integrated_lufs"] - local_cue["loudness"]["integrated_lufs"])
            <= 0.1
        )
        (lufs, duration_s), (local_lufs, local_duration_s) = (
            _loudness_and_duration(f / f"{stem}.mp3") for f in (made, here)
        )
        assert abs(lufs - local_lufs) <= 0.1 and abs(duration_s - local_duration_s) <= 0.010
        assert np.isclose(lufs, -16.0, atol=0.5)  # the MP3 as decoded, near the podcast target
    assert sorted(engine_calls(log)) == sorted(calls)  # the local build ran here, not there


def test_a_second_build_reads_every_take_from_the_shared_cache(tmp_path, cluster, capsys):
    jobs_file = regional_site(tmp_path, REGIONS[:2])
    cache = str(tmp_path / "takes")
    for _ in range(2):
        assert (
            run_build(
                jobs_file, [], DATE, all_jobs=True, scheduler=cluster.scheduler_address, cache=cache
            )
            == 0
        )
    summaries = [line for line in capsys.readouterr().out.splitlines() if "bulletins built" in line]
    assert summaries == [
        "2 bulletins built, 0 failed; 4 takes synthesized, 6 requested",
        "2 bulletins built, 0 failed; 0 takes synthesized, 6 requested",
    ]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ([], "build: name a job (north, south) or give --all"),
        (["north", "--all"], "build: name jobs or give --all, not both"),
        (["norht"], "no job named 'norht'; the jobs are: north, south; did you mean 'north'?"),
        (
            ["north", "--scheduler", "tcp://127.0.0.1:9", "--cache", "nosuch://takes"],
            "BULLETIN_CACHE: cannot use 'nosuch://takes'",
        ),
        (
            ["north", "--scheduler", "north:eighty"],
            "--scheduler: 'north:eighty' is not a scheduler",
        ),
    ],
)
def test_build_refuses_an_unclear_choice_of_jobs(tmp_path, capsys, arguments, message):
    jobs_file = regional_site(tmp_path, ["north", "south"])
    assert main(["build", str(jobs_file), *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "public").exists()


def test_the_scheduler_builds_one_job_at_a_time_on_the_cluster(tmp_path, cluster):
    """What `schedule --scheduler` runs at each job's time: build_on, which leaves the cluster
    holding none of the build's takes."""
    jobs = load_jobs(regional_site(tmp_path, ["north", "west"], broken=("west",)))
    with Cluster(cluster.scheduler_address, str(tmp_path / "takes")) as on:
        assert build_on(on, jobs.job("north"), DATE, trigger="schedule") == 0
        assert not on.takes and on.takes_line() == "0 takes synthesized, 0 requested"
        assert build_on(on, jobs.job("west"), DATE, trigger="schedule") == 2
    north = read_status(tmp_path / "public" / "north")
    assert north["last_run"]["trigger"] == "schedule" and north["last_success"]["date"] == str(DATE)
    assert (tmp_path / "public" / "north" / f"north-news-{DATE}.mp3").is_file()
    assert read_status(tmp_path / "public" / "west")["last_failure"]["exit_status"] == 2


def test_sigterm_abandons_the_bulletins_not_yet_published(tmp_path, cluster):
    jobs_file = regional_site(tmp_path, REGIONS, local_lines=6)
    cache = tmp_path / "takes"
    build = subprocess.Popen(
        [sys.executable, "-m", "bulletin", "build", str(jobs_file), "--all", "--date", str(DATE),
         "--scheduler", cluster.scheduler_address, "--cache", str(cache)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: cache_entries(cache), timeout_s=60)
        build.send_signal(signal.SIGTERM)
        out, err = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 1, err
    stopped = 0
    for region in REGIONS:
        status = read_status(tmp_path / "public" / region)
        mp3s = list((tmp_path / "public" / region).glob("*.mp3"))
        if status["last_run"]["outcome"] == "failure":
            stopped += 1
            assert (
                "stopped by SIGTERM while rendering; nothing published"
                in (status["last_failure"]["reason"])
            )
            assert not mp3s
        else:
            assert len(mp3s) == 2  # the bulletin and latest.mp3, whole
    assert stopped >= 1
    assert out.splitlines()[-1].startswith(f"{3 - stopped} bulletins built, {stopped} failed; ")


def test_a_local_build_uses_the_cache_it_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_CACHE", "")  # run_build sets it; this undoes that afterwards
    jobs_file = regional_site(tmp_path, ["north"])
    assert run_build(jobs_file, ["north"], DATE, cache=str(tmp_path / "shared")) == 0
    assert len(cache_entries(tmp_path / "shared")) >= 3  # its sentences, takes and stings


def test_a_story_with_a_post_is_fitted_to_it_on_the_cluster(tmp_path, cluster):
    """`master.duration` holds on a cluster as in a render: the pace planned from the estimate
    before the takes are submitted, the gaps closed on the worker that mixes; the WAV and the
    decoded MP3 end exactly on the post, and the cue sheet says how it was fitted."""
    jobs_file = regional_site(tmp_path, ["north"])
    jobs_file.write_text(jobs_file.read_text().replace("publish: public/north", "publish: public/north\n    wav: true"))
    story = tmp_path / "stories" / "north" / f"{DATE}.yaml"
    cache = str(tmp_path / "takes")
    assert run_build(jobs_file, ["north"], DATE, scheduler=cluster.scheduler_address, cache=cache) == 0
    stem = tmp_path / "public" / "north" / f"north-news-{DATE}"
    natural = json.loads(stem.with_suffix(".json").read_text())["duration"]
    post = round(natural * 1.04, 2)  # gaps and pace both move: 4% is more than the gaps alone give here
    story.write_text(story.read_text().replace("stings:", f"master: {{duration: {post}}}\nstings:"))
    assert run_build(jobs_file, ["north"], DATE, scheduler=cluster.scheduler_address, cache=cache) == 0
    cue = json.loads(stem.with_suffix(".json").read_text())
    assert cue["fit"]["target_met"] and cue["fit"]["target"] == post and cue["duration"] == pytest.approx(post, abs=1e-3)
    info = sf.info(str(stem.with_suffix(".wav")))
    assert info.frames == round(post * info.samplerate)
    assert sf.read(str(stem.with_suffix(".mp3")))[0].shape[0] == round(post * info.samplerate)


def test_a_worker_makes_the_speech_again_where_the_gaps_cannot_close_the_post(tmp_path, monkeypatch):
    """The step a cluster's mixing worker takes when the planned pace misses (the estimate was
    off by more than the gaps absorb): it measures, chooses the pace again and makes the speech
    again itself, and the bulletin still ends on the post."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    regional_site(tmp_path, ["north"])
    plan = cast_story(load_story(tmp_path / "stories" / "north" / f"{DATE}.yaml"))
    rate_hz = plan.story.master.sample_rate
    with TakeStore(open_cache()) as store:
        natural, _ = make_takes(plan, {s.index for s in plan.story.segments}, rate_hz, workers=1, store=store)
        hurried, _ = make_takes(plan, {s.index for s in plan.story.segments}, rate_hz, workers=1, store=store,
                                pace=1.06)
    # 6% longer than at the voices' own pace: made at +6%, the gaps cannot stretch that far
    post = round(arrange(plan.story, {i: t.duration_s for i, t in natural.items()}).duration_s * 1.06, 2)
    order = BulletinOrder(plan, ("wav",), None, post_s=post, pace=1.06)
    takes, fit = fit_on_worker(order, hurried)
    assert fit.passes == 2 and fit.pace < 1.06 and not fit.note
    assert arrange(plan.story, {i: t.duration_s for i, t in takes.items()}, gap_factor=fit.gap_factor,
                   fitted=True).duration_s == pytest.approx(post, abs=1e-6)


def test_a_bulletin_too_big_for_its_publish_disk_is_not_given_to_the_cluster(tmp_path, cluster):
    """The room check of a local build, before the cluster synthesizes anything: the job fails
    in one line naming the publish folder, and no take is made for it."""
    from tests.smalldisk import small_disk

    with small_disk(tmp_path / "public", "64k"):
        jobs_file = regional_site(tmp_path, ["north"], local_lines=30)
        cache = tmp_path / "takes"
        assert run_build(jobs_file, ["north"], DATE, scheduler=cluster.scheduler_address, cache=str(cache)) == 1
        reason = read_status(tmp_path / "public" / "north")["last_failure"]["reason"]
        assert reason.startswith(f"not enough space in {str(tmp_path / 'public' / 'north')!r}: the files need about ")
        assert not cache_entries(cache)
