"""Runs a nightly build or the scheduler in a child process for the multi-process tests, with
the stand-in render: `python tests/nightly_driver.py MODE JOBS_FILE [DATE [FLAG]]`.

MODE build: build the job `morning` for DATE. MODE publish-hold: the same, but stop after two
files have been moved into the publish folder and wait there (FLAG, see nightly_fakes.hold).
MODE schedule: run the scheduler on JOBS_FILE until SIGTERM.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import nightly_fakes

from bulletin.nightly import build as nightly
from bulletin.nightly.schedule import run_schedule


def main() -> int:
    mode, jobs_file = sys.argv[1], Path(sys.argv[2])
    nightly._default_render = lambda: nightly_fakes.fake_render
    if mode == "schedule":
        return run_schedule(jobs_file)
    if mode == "publish-hold":
        flag, real_replace, moved = Path(sys.argv[4]), os.replace, []

        def replace_then_hold(source: str, target: str) -> None:
            real_replace(source, target)
            moved.append(target)
            if len(moved) == 2:
                nightly_fakes.hold(flag)

        os.replace = replace_then_hold
    return nightly.run_build(jobs_file, ["morning"], dt.date.fromisoformat(sys.argv[3]))


if __name__ == "__main__":
    sys.exit(main())
