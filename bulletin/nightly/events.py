"""The nightly log: one line per event (ISO time in the job's zone, job, event, outcome,
details), alarms on stderr, and the one-line reasons a failure is recorded with."""

from __future__ import annotations

import datetime as dt
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bulletin.nightly.jobs import Job

Clock = Callable[[], dt.datetime]

# Outcomes written to stderr rather than stdout: what monitoring and cron mail should see.
ALARMS = {"failed", "busy", "missed"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class EventLog:
    """One line per event: ISO time in the job's zone, job, event, outcome, details."""

    job: Job
    clock: Clock = now

    def __call__(self, event: str, outcome: str, detail: str = "") -> None:
        stamp = self.clock().astimezone(self.job.timezone).isoformat(timespec="seconds")
        line = f"{stamp} {self.job.name} {event} {outcome}"
        if detail:
            line += ": " + " ".join(detail.split())  # one event, one line, whatever the message
        print(line, file=sys.stderr if outcome in ALARMS else sys.stdout, flush=True)

    def time(self, moment: dt.datetime) -> str:
        return moment.astimezone(self.job.timezone).isoformat(timespec="seconds")


def os_reason(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def internal_reason(error: Exception) -> str:
    """An unexpected exception as one line, with where it was raised (there is no traceback)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"internal error: {type(error).__name__}: {error}{where}"
