"""The jobs file loader (positioned problems, exit 2) and when runs fall, across DST changes."""

from __future__ import annotations

import datetime as dt
import textwrap
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from bulletin.base.errors import InputError
from bulletin.nightly.jobsfile import load_jobs
from bulletin.nightly.schedule import list_runs, run_schedule
from bulletin.nightly.timing import iter_runs, parse_cron, resolve_wall_time

UTC = dt.UTC


def write(tmp_path, text: str):
    path = tmp_path / "jobs.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_jobs(write(tmp_path, text))
    assert caught.value.exit_status == 2
    return caught.value.lines()


def test_a_full_job_loads_with_paths_relative_to_the_jobs_file(tmp_path):
    jobs = load_jobs(
        write(
            tmp_path,
            """\
            timezone: Asia/Seoul
            jobs:
              morning:
                story: stories/{date}/story.yaml   # the build date
                at: 05:30
                publish: public/morning
                keep: 3
                grace: 1h30m
                wav: true
                loudness: broadcast
                assets: [jingles]
                feed:
                  title: KBS Morning News
                  base_url: https://example.org/morning
              evening:
                story: evening.yaml
                cron: "0 18 * * mon-fri"
                timezone: Europe/London
                publish: public/evening
            """,
        )
    )
    morning = jobs.job("morning")
    assert morning.story_path(dt.date(2026, 1, 2)) == tmp_path / "stories/2026-01-02/story.yaml"
    assert morning.publish == tmp_path / "public" / "morning"
    assert morning.assets == (tmp_path / "jingles",)
    assert (morning.keep, morning.grace, morning.wav, morning.loudness) == (
        3,
        dt.timedelta(minutes=90),
        True,
        "broadcast",
    )
    assert morning.timing.clock == ((5, 30),)
    assert morning.feed.base_url == "https://example.org/morning/"  # a folder: "/" added
    assert morning.feed.description == "KBS Morning News"
    evening = jobs.job("evening")
    assert evening.timezone == ZoneInfo("Europe/London") and evening.feed is None
    assert (evening.keep, evening.grace) == (14, dt.timedelta(hours=2))


def test_every_problem_is_reported_with_its_position(tmp_path):
    lines = problems(
        tmp_path,
        """\
        timezone: Mars/Olympus_Mons
        jobs:
          morning:
            story: stories/{day}/story.yaml
            at: "25:30"
            publsh: public
            keep: 0
            grace: two hours
            feed: {title: News, base_url: ftp://example.org}
          late:
            story: late.yaml
            at: "05:00"
            cron: "0 5 * * *"
            publish: late
          nightly:
            story: s.yaml
            cron: "61 * * * *"
            publish: n
          odd:
            story: s.yaml
            cron: "0 0 31 2 *"
            publish: o
        """,
    )
    text = "\n".join(lines)
    f = str(tmp_path / "jobs.yaml")
    assert f"{f}:1:11: timezone: unknown time zone 'Mars/Olympus_Mons'" in text
    assert (
        f"{f}:4:12: jobs.morning.story: 'stories/{{day}}/story.yaml' is not a path template" in text
    )
    assert f"{f}:5:9: jobs.morning.at: '25:30' is not a time of day" in text
    assert f"{f}:6:5: jobs.morning.publsh: unknown key; did you mean 'publish'?" in text
    assert f"{f}:4:5: jobs.morning.publish: is required" in text
    assert f"{f}:7:11: jobs.morning.keep: 0 is out of range" in text
    assert f"{f}:8:12: jobs.morning.grace: 'two hours' is not a duration" in text
    assert (
        f"{f}:9:35: jobs.morning.feed.base_url: 'ftp://example.org' is not an http(s) URL" in text
    )
    assert f"{f}:13:5: jobs.late: give either `at:` or `cron:`, not both" in text
    assert f"{f}:17:11: jobs.nightly.cron: '61 * * * *' is not a valid cron expression" in text
    assert f"{f}:21:11: jobs.odd.cron: never runs" in text
    assert [line.split(":")[1] for line in lines] == sorted(
        (line.split(":")[1] for line in lines), key=int
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "jobs:\n  story: s.yaml\n  publish: p\n",
            "jobs.story: `story:` is a job setting, so the job's name is missing",
        ),
        ("jobs: {}\n", "jobs: has no jobs"),
        ("timezone: UTC\n", "jobs: is required"),
        ("", "file: is empty"),
        (
            "jobs:\n  morning: !!python/object/apply:os.system [ls]\n",
            "jobs.yaml:2:12: YAML: tag ",
        ),
        ("jobs:\n  a b: {story: s, publish: p}\n", "a job name may hold only letters"),
        (
            "jobs:\n  a: {story: s, publish: p}\n  b: {story: s, publish: p}\n",
            "jobs.b.publish: is job 'a''s folder too",
        ),
        ("jobs:\n  a: {story: s, publish: p, cron: '0 5 * *'}\n", "has 4 fields; cron needs five"),
        ("jobs:\n  a: {story: s, publish: p, cron: '0 0 L * *'}\n", "not supported here"),
        ("jobs:\n  a: {story: s, publish: p, wav: 1}\n", "jobs.a.wav: must be true or false"),
        (
            "jobs:\n  a: {story: s, publish: p, feed: {base_url: 'https://x.org/'}}\n",
            "jobs.a.feed.title: is required",
        ),
        ("jobs: [\n", "YAML"),
    ],
)
def test_bad_jobs_files_are_refused(tmp_path, text, expected):
    assert expected in "\n".join(problems(tmp_path, text))


def test_an_unknown_job_name_is_an_input_error_with_a_suggestion(tmp_path):
    jobs = load_jobs(write(tmp_path, "jobs:\n  morning: {story: s, publish: p}\n"))
    with pytest.raises(InputError) as caught:
        jobs.job("mornin")
    assert "jobs: no job named 'mornin'; the jobs are: morning; did you mean 'morning'?" in str(
        caught.value
    )


def test_a_missing_jobs_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_jobs(tmp_path / "nope.yaml")


# --- when runs fall ---------------------------------------------------------------------------


def runs(cron: str, zone: str, after: dt.datetime, count: int):
    timing, error = parse_cron(cron)
    assert timing, error
    return list(islice(iter_runs(timing, ZoneInfo(zone), after), count))


def test_london_0130_on_the_spring_forward_day_runs_at_0200_bst():
    # 29 March 2026: clocks go 01:00 GMT -> 02:00 BST, so 01:30 does not exist that day.
    found = runs("30 1 * * *", "Europe/London", dt.datetime(2026, 3, 27, 12, tzinfo=UTC), 4)
    assert [r.at.isoformat() for r in found] == [
        "2026-03-28T01:30:00+00:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-30T01:30:00+01:00",
        "2026-03-31T01:30:00+01:00",
    ]
    assert "does not exist" in found[1].note and found[1].date == dt.date(2026, 3, 29)


def test_london_0130_on_the_fall_back_day_runs_once_at_the_first_0130():
    # 25 October 2026: 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT).
    found = runs("30 1 * * *", "Europe/London", dt.datetime(2026, 10, 24, 12, tzinfo=UTC), 3)
    assert [r.at.astimezone(UTC).isoformat() for r in found] == [
        "2026-10-25T00:30:00+00:00",
        "2026-10-26T01:30:00+00:00",
        "2026-10-27T01:30:00+00:00",
    ]
    assert "happens twice" in found[0].note


def test_new_york_0130_exists_on_the_spring_forward_day_but_0230_does_not():
    # 8 March 2026: clocks go 02:00 EST -> 03:00 EDT.
    at_0130 = runs("30 1 * * *", "America/New_York", dt.datetime(2026, 3, 7, 12, tzinfo=UTC), 2)
    assert [r.at.isoformat() for r in at_0130] == [
        "2026-03-08T01:30:00-05:00",
        "2026-03-09T01:30:00-04:00",
    ]
    assert at_0130[0].note == ""
    at_0230 = runs("30 2 * * *", "America/New_York", dt.datetime(2026, 3, 7, 12, tzinfo=UTC), 2)
    assert [r.at.isoformat() for r in at_0230] == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


def test_every_half_hour_through_both_changes_runs_each_instant_once():
    spring = runs("*/30 0-3 * * *", "Europe/London", dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC), 6)
    # 01:00 and 01:30 do not exist: both land on 02:00 BST, which runs once.
    assert [f"{r.at:%H:%M%z}" for r in spring] == [
        "00:30+0000",
        "02:00+0100",
        "02:30+0100",
        "03:00+0100",
        "03:30+0100",
        "00:00+0100",
    ]
    autumn = runs(
        "*/30 0-2 * * *", "Europe/London", dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC), 6
    )
    assert [f"{r.at.astimezone(UTC):%H:%M}" for r in autumn] == [
        "23:30",
        "00:00",
        "00:30",
        "02:00",
        "02:30",
        "00:00",
    ]


def test_cron_day_fields_follow_cron_rules():
    after = dt.datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
    weekdays = runs("30 5 * * 1-5", "UTC", after, 3)
    assert [r.at.date().isoformat() for r in weekdays] == ["2026-01-01", "2026-01-02", "2026-01-05"]
    # Both day fields restricted: either may match (the 15th, or any Sunday).
    either = runs("0 6 15 * sun", "UTC", after, 4)
    assert [r.at.date().isoformat() for r in either] == [
        "2026-01-04",
        "2026-01-11",
        "2026-01-15",
        "2026-01-18",
    ]
    leap = runs("0 0 29 2 *", "UTC", after, 1)
    assert leap[0].at.date() == dt.date(2028, 2, 29)


def test_a_zone_without_dst_is_plain():
    found = runs("30 5 * * *", "Asia/Seoul", dt.datetime(2026, 3, 7, 0, tzinfo=UTC), 2)
    assert [r.at.isoformat() for r in found] == [
        "2026-03-08T05:30:00+09:00",
        "2026-03-09T05:30:00+09:00",
    ]


def test_resolve_wall_time_in_a_gap_lands_on_the_jump():
    run = resolve_wall_time(dt.datetime(2026, 3, 29, 1, 59), ZoneInfo("Europe/London"))
    assert run.at.astimezone(UTC) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


# --- schedule --list --------------------------------------------------------------------------


DST_JOBS = """\
jobs:
  london:
    story: s.yaml
    at: "01:30"
    timezone: Europe/London
    publish: london
  newyork:
    story: s.yaml
    cron: "30 2 * * *"
    timezone: America/New_York
    publish: newyork
  manual:
    story: s.yaml
    publish: manual
"""


def test_list_shows_next_runs_across_the_dst_change(tmp_path):
    jobs = load_jobs(write(tmp_path, DST_JOBS))
    lines = list_runs(jobs, dt.datetime(2026, 3, 7, 12, tzinfo=UTC), count=3)
    text = "\n".join(lines)
    assert "london: at 01:30, Europe/London, grace 2h" in text
    assert "  2026-03-08T01:30:00+00:00  Sun 2026-03-08 01:30 GMT" in text
    assert "newyork: cron 30 2 * * *, America/New_York" in text
    assert (
        "  2026-03-08T03:00:00-04:00  Sun 2026-03-08 03:00 EDT  (clocks go forward: 02:30 does not exist that day, so it runs at 03:00)"
        in text
    )
    assert "  2026-03-09T02:30:00-04:00  Mon 2026-03-09 02:30 EDT" in text
    assert "manual: not scheduled" in text
    london = load_jobs(write(tmp_path, DST_JOBS))
    text = "\n".join(list_runs(london, dt.datetime(2026, 3, 28, 12, tzinfo=UTC), count=2))
    assert (
        "  2026-03-29T02:00:00+01:00  Sun 2026-03-29 02:00 BST  (clocks go forward: 01:30 does not exist that day, so it runs at 02:00)"
        in text
    )


def test_run_schedule_list_prints_and_exits_zero(tmp_path, capsys):
    assert run_schedule(write(tmp_path, DST_JOBS), list_only=True, count=2) == 0
    out = capsys.readouterr().out
    assert out.count("\n  20") == 4 and "london:" in out and "newyork:" in out


def test_run_schedule_refuses_a_bad_jobs_file(tmp_path):
    with pytest.raises(InputError):
        run_schedule(write(tmp_path, "jobs:\n  a: {story: s}\n"), list_only=True)
