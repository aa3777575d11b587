"""`air:` in a story: what it takes, the window it gives, and every bad value refused in one
positioned line with exit status 2 and nothing written."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest

from bulletin.base.errors import InputError
from bulletin.export.onair import air_window
from bulletin.script.story import Air, load_story

HEAD = "title: T\ndate: 2019-11-22\ncast: {anchor: {role: anchor}}\nsegments: [{anchor: Hello.}]\nair:\n"
NOW = datetime.datetime(2026, 12, 5, 17, 0)


def _story(tmp_path: Path, air: str) -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(HEAD + air)
    return path


def _refused(tmp_path: Path, air: str) -> str:
    path = _story(tmp_path, air)
    with pytest.raises(InputError) as refused:
        load_story(path)
    (line,) = refused.value.lines()
    return line.removeprefix(f"{path}:")


@pytest.mark.parametrize(("air", "expected"), [
    ("  starts: 2019-11-22T06:00\n  expires: 2019-11-22T05:00\n",
     "7:12: air.expires: the kill date 2019-11-22T05:00 is not after the start (`starts`, 2019-11-22T06:00); "
     "give a later date-time, or a duration"),
    ("  cut: " + "N" * 65 + "\n",
     "6:8: air.cut: is 65 characters; a cut id is 1 to 64 ASCII letters, digits, '-', '_' or '.' "
     "(it names the playout file)"),
    ("  cut: NEWS–0600\n",
     "6:8: air.cut: 'NEWS–0600' is not ASCII: a cut id is 1 to 64 ASCII letters, digits, '-', '_' or '.' "
     "(it names the playout file)"),
    ("  cut: ../NEWS\n",
     "6:8: air.cut: '../NEWS': a cut id is 1 to 64 ASCII letters, digits, '-', '_' or '.' (it names the playout file)"),
    ("  starts: 2019-11-22T25:00\n",
     "6:11: air.starts: '2019-11-22T25:00' is not a start; write a date-time such as 2019-11-22T06:00, "
     "or a time of day on the bulletin's date such as \"06:00\""),
    ("  starts: tomorrow\n",
     "6:11: air.starts: 'tomorrow' is not a start; write a date-time such as 2019-11-22T06:00, "
     "or a time of day on the bulletin's date such as \"06:00\""),
    ("  expires: 2 hours\n",
     "6:12: air.expires: '2 hours' is not a kill date; write a duration after `starts` (30m, 2h, 1d, 1h30m) "
     "or a date-time such as 2019-11-22T07:00"),
    ("  expires: 0m\n",
     "6:12: air.expires: '0m': the bulletin must be allowed on air for some time; write e.g. 30m, 2h or 1d"),
    ("  kill: 1h\n", "6:3: air.kill: unknown key; known keys: cut, category, artist, starts, expires, outcue"),
])
def test_bad_air_is_one_positioned_line(tmp_path, air, expected):
    assert _refused(tmp_path, air) == expected


def test_air_as_written_and_the_window_it_gives(tmp_path):
    story = load_story(_story(tmp_path, "  cut: NEWS0600\n  category: NEWS\n  artist: KBS World Radio\n"
                                        "  starts: \"06:00\"\n  expires: 1h30m\n  outcue: KBS World Radio News.\n"))
    air = story.air
    assert (air.cut, air.category, air.artist, air.outcue) == ("NEWS0600", "NEWS", "KBS World Radio", "KBS World Radio News.")
    assert air_window(air, story.date, NOW) == (datetime.datetime(2019, 11, 22, 6, 0), datetime.datetime(2019, 11, 22, 7, 30))
    # without `starts`, the window starts at the render's time; `1d` is a day after it
    assert air_window(Air(expires=datetime.timedelta(days=1)), story.date, NOW) == (NOW, NOW + datetime.timedelta(days=1))
    assert air_window(Air(), story.date, NOW) == (NOW, None)


def test_a_job_air_overrides_the_storys_key_by_key(tmp_path):
    story = load_story(_story(tmp_path, "  cut: STORY\n  artist: Station\n  expires: 2h\n"))
    job = Air(cut="NEWS0600", expires=datetime.timedelta(minutes=30), expires_at=("jobs.yaml", 9, 14))
    merged = job.over(story.air)
    assert (merged.cut, merged.artist, merged.expires) == ("NEWS0600", "Station", datetime.timedelta(minutes=30))
    assert merged.expires_at == ("jobs.yaml", 9, 14)


def test_a_kill_date_before_the_renders_time_is_refused_before_any_audio(tmp_path):
    path = _story(tmp_path, "  expires: 2019-11-22T07:00\n")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "bulletin", "render", "--draft", str(path), "-o", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"{path}:6:12: air.expires: the kill date 2019-11-22T07:00 is not after the start "
                           "(the render's time, ")
    assert not out.exists()


def test_check_prints_the_air_window_and_the_cut(tmp_path):
    from bulletin.pipeline.checking import check

    path = _story(tmp_path, "  cut: NEWS0600\n  starts: \"06:00\"\n  expires: 1h\n")
    result = check(path, draft=True)
    assert ("air: cut NEWS0600, category NEWS, from 2019-11-22 06:00:00, until 2019-11-22 07:00:00 (kill date); "
            "outcue 'Hello.'") in result.report.splitlines()
    assert any("kill date 2019-11-22T07:00 has passed already" in w for w in result.warnings)
