"""A nightly build whose bulletin cannot fit in its publish folder's disk fails before it
synthesizes anything, saying so in its log and status.json; what was published stays."""

from __future__ import annotations

import datetime as dt
import re

from nightly_fakes import STORY, make_site, snapshot, write_story

from bulletin.nightly.build import run_build
from bulletin.nightly.publish import read_status
from tests.smalldisk import small_disk


def test_a_build_too_big_for_the_publish_disk_fails_before_synthesis(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("BULLETIN_CACHE", str(cache))
    with small_disk(tmp_path / "public", "1m"):
        jobs_file = make_site(tmp_path, ["2026-01-01", "2026-01-02"])
        story = STORY.replace("{role: anchor}", "{role: anchor, voice: anchor-us}")
        write_story(tmp_path, "2026-01-01", story)
        assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 1)) == 0
        folder = tmp_path / "public" / "morning"
        before, takes = snapshot(folder), sorted(cache.rglob("*.take"))
        write_story(tmp_path, "2026-01-02", story + "".join(
            f"  - anchor: Item {i}, and the news goes on for a little while longer.\n" for i in range(40)))
        capsys.readouterr()
        assert run_build(jobs_file, ["morning"], dt.date(2026, 1, 2)) == 1
        reason = read_status(folder)["last_failure"]["reason"]
        assert re.fullmatch(rf"not enough space in {re.escape(repr(str(folder)))}: the files need about [\d.]+ [kMG]?B "
                            r"and [\d.]+ [kMG]?B is free; free some space or choose another folder", reason), reason
        assert reason in capsys.readouterr().err
        after = snapshot(folder)
        assert {k: v for k, v in after.items() if k != "status.json"} == {k: v for k, v in before.items() if k != "status.json"}
        assert sorted(cache.rglob("*.take")) == takes  # nothing synthesized
