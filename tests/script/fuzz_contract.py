"""The contract every fuzz case must meet, for the loader and for `bulletin check` (in-process
or as a subprocess): success, or exit status 2 whose every stderr line is positioned
(`FILE:LINE:COLUMN: `); never a traceback, never another exception, within LIMIT_S."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from fuzz_cases import STORY_DATA, Case

from bulletin.base.errors import InputError

LIMIT_S = 10.0  # per case; the loader's own budget for hostile input is far below this


class CaseTimeout(BaseException):
    """The case ran past LIMIT_S (a BaseException, so that no handler under test swallows it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def prepare(folder: Path) -> None:
    """The audio files the seed stories name (clips/, jingles/), beside where cases are written."""
    for sub in ("clips", "jingles"):
        if not (folder / sub).exists():
            shutil.copytree(STORY_DATA / sub, folder / sub)


def _unpositioned(lines: list[str], given: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(given)}:\d+:\d+: ")
    return [line for line in lines if not pattern.match(line)]


def _load(case: Case, path: Path) -> str | None:
    from bulletin.nightly.jobsfile import load_jobs
    from bulletin.script.story import load_story

    try:
        (load_story if case.kind == "story" else load_jobs)(path)
    except InputError as error:
        if not error.problems:
            return f"loader: InputError without positions: {error.lines()}"
        if bad := _unpositioned(error.lines(), str(path)):
            return f"loader: unpositioned lines: {bad[:3]}"
    return None


def _command(case: Case, path: Path) -> list[str]:
    if case.kind == "story":
        return ["check", "--draft", str(path)]
    return ["schedule", str(path), "--list", "--count", "1"]


def _in_process(case: Case, path: Path) -> str | None:
    from bulletin.__main__ import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        status = main(_command(case, path))
    return _judge(status, err.getvalue(), str(path), "check")


def _judge(status: int, stderr: str, given: str, what: str) -> str | None:
    if "Traceback" in stderr:
        return f"{what}: traceback: {stderr[-2000:]}"
    if status == 0:
        return None
    if status != 2:
        return f"{what}: exit {status}: {stderr[-1000:]}"
    lines = [line for line in stderr.splitlines() if not line.startswith("warning: ")]
    if not lines:
        return f"{what}: exit 2 with nothing said"
    if bad := _unpositioned(lines, given):
        return f"{what}: exit 2 with unpositioned lines: {bad[:3]}"
    return None


def run_case(case: Case, folder: Path, *, as_subprocess: bool = False) -> str | None:
    """Why `case` breaks the contract, or None when it keeps it."""
    path = folder / ("story.yaml" if case.kind == "story" else "jobs.yaml")
    path.write_bytes(case.content)
    try:
        if as_subprocess:
            # the interpreter's start-up and imports come on top of the case's own time
            done = subprocess.run([sys.executable, "-m", "bulletin", *_command(case, path)], cwd=folder,
                                  capture_output=True, text=True, errors="replace", timeout=LIMIT_S + 20)
            return _judge(done.returncode, done.stderr, str(path), "subprocess")
        with _time_limit(LIMIT_S):
            return _load(case, path) or _in_process(case, path)
    except CaseTimeout as timeout:
        return f"timeout: {timeout}"
    except subprocess.TimeoutExpired:
        return "subprocess: timeout"
    except Exception as error:  # the contract: nothing but InputError may come out
        return f"exception: {type(error).__name__}: {error}"[:2000]


def save(case: Case, why: str, folder: Path, number: int) -> Path:
    """The failing input and why, for a person to replay with `bulletin check`."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{number:04d}-{case.kind}.yaml"
    (folder / name).write_bytes(case.content)
    (folder / f"{name}.txt").write_text(f"{case.describe()}\n{why}\n", "utf-8", errors="replace")
    return folder / name

