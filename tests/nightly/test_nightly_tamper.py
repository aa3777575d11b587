"""Publishing never touches a file outside the publish folder, whatever the folder holds: a
tampered index.json, symbolic links pointing out, leftovers that are not ours."""

from __future__ import annotations

import json
import os

import feedparser
import pytest
from nightly_fakes import run, site, snapshot

from bulletin.nightly.publish import read_status


def _victims(tmp_path):
    """Files outside the publish folder, named as pruning might be tricked into deleting."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victims = {
        outside / "victim.txt": b"keep me",
        outside / "victim-2026-01-01.mp3": b"not a bulletin of this job",
        tmp_path / "public" / "victim.txt": b"beside the publish folder",
    }
    for path, data in victims.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return victims


def _assert_intact(victims):
    for path, data in victims.items():
        assert path.read_bytes() == data, path


@pytest.mark.parametrize(
    "name",
    [
        "../victim.txt",
        "../../outside/victim-2026-01-01.mp3",
        "ABSOLUTE",  # the absolute path of a victim, filled in below
        "sub/../../victim.txt",
        "test-news-2026-01-01.mp3/../../victim.txt",
    ],
)
def test_a_tampered_index_deletes_nothing_outside_the_folder(tmp_path, capsys, name):
    job = site(tmp_path, keep=1)
    victims = _victims(tmp_path)
    assert run(job, "2026-01-01") == 0
    index_path = job.publish / "index.json"
    index = json.loads(index_path.read_text())
    if name == "ABSOLUTE":
        name = str(tmp_path / "outside" / "victim-2026-01-01.mp3")
    index["episodes"][0]["files"]["vtt"] = name
    index["episodes"][0]["files"]["extra"] = name
    index_path.write_text(json.dumps(index))
    capsys.readouterr()
    # keep=1: the 1 January bulletin falls out, so every name it lists is a pruning candidate
    assert run(job, "2026-01-02") == 0
    _assert_intact(victims)
    out = capsys.readouterr().out
    assert "index rebuilt: index.json is unreadable" in out
    assert "is not a file name this program writes" in out
    # the index was rebuilt from the folder, so the superseded bulletin still went
    assert sorted(n for n in snapshot(job.publish) if "2026" in n) == [
        f"test-news-2026-01-02.{ext}" for ext in ("chapters.json", "json", "mp3", "srt", "transcript.json", "vtt")
    ]
    feed = feedparser.parse((job.publish / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 1


def test_symbolic_links_in_the_folder_are_never_followed(tmp_path):
    job = site(tmp_path, keep=1)
    victims = _victims(tmp_path)
    outside = tmp_path / "outside"
    folder = job.publish
    assert run(job, "2026-01-01") == 0
    # a dated name the old index lists (so pruning wants it gone) that is a link out
    listed = folder / "test-news-2026-01-01.vtt"
    listed.unlink()
    listed.symlink_to(outside / "victim.txt")
    # a dated name nobody lists (an "orphan") that is a link out
    (folder / "test-news-2025-12-31.mp3").symlink_to(outside / "victim-2026-01-01.mp3")
    # leftovers: a staging folder and a temporary that are links out
    (outside / "staging").mkdir()
    (outside / "staging" / "precious.wav").write_bytes(b"outside staging")
    (folder / ".staging").symlink_to(outside / "staging", target_is_directory=True)
    (folder / ".status.json.0123abcd.tmp").symlink_to(outside / "victim.txt")
    assert run(job, "2026-01-02") == 0
    _assert_intact(victims)
    assert (outside / "staging" / "precious.wav").read_bytes() == b"outside staging"
    assert not (folder / ".staging").exists()  # the link went; a real staging folder came and went
    assert (folder / "test-news-2026-01-02.mp3").is_file()
    assert read_status(folder)["last_run"]["outcome"] == "success"


def test_a_lock_file_that_links_out_is_refused_not_truncated(tmp_path, capsys):
    job = site(tmp_path)
    victims = _victims(tmp_path)
    job.publish.mkdir(parents=True)
    (job.publish / ".lock").symlink_to(tmp_path / "outside" / "victim.txt")
    assert run(job, "2026-01-01") == 1
    _assert_intact(victims)
    assert "build failed: exit 1:" in capsys.readouterr().err
    assert not any("2026" in name for name in os.listdir(job.publish))


def test_clean_up_removes_only_the_temporaries_it_writes(tmp_path, capsys):
    job = site(tmp_path)
    folder = job.publish
    assert run(job, "2026-01-01") == 0
    ours = folder / ".status.json.0123abcd.tmp"
    ours.write_text("{")
    theirs = [folder / ".notes.tmp", folder / ".backup.json.tmp", folder / ".x.NOTHEX12.tmp"]
    for path in theirs:
        path.write_text("someone else's")
    capsys.readouterr()
    assert run(job, "2026-01-02") == 0
    assert not ours.exists()
    assert all(path.read_text() == "someone else's" for path in theirs)
    assert "removed what a dead build left: .status.json.0123abcd.tmp" in capsys.readouterr().out
