"""SIGINT and SIGTERM from the first instant of the command: one line, exit status 130 / 143.

The command's process sets these handlers before it imports anything heavy (numpy, onnxruntime
and the engines take seconds to import on a slow machine): `bulletin/__init__.py` runs this
module first of all its code, for `python -m bulletin` and for the `bulletin` script alike,
and `bulletin/__main__.py` again for a program that runs it as `__main__` (runpy). A program
that only imports bulletin keeps its own handlers.

While the command has nothing to undo (importing, reading its arguments, loading the story,
printing what it made) a signal ends the process at once; while it makes files, `__main__`'s
`_stoppable` raises instead, so that they are removed and the workers stopped as it unwinds.
What remains is the interpreter's own start-up, before any of this code runs: a signal then
ends the process by the signal itself (nothing of ours ran, so nothing was written either).
"""

import _signal  # the C module: `signal` itself builds its enums first (5 ms on a busy machine)
import os
import sys

NOTHING_WRITTEN = "; no files were written"
_NAMES = {_signal.SIGINT: "SIGINT", _signal.SIGTERM: "SIGTERM"}


class EndAtOnce:
    """A handler for SIGINT and SIGTERM while nothing needs undoing: one line, and the process
    ends there (no file open for writing, no worker process, no thread that must finish)."""

    def __init__(self, note: str) -> None:
        self.note = note

    def __call__(self, signum: int, frame: object) -> None:
        os.write(2, f"error: {stopped_by(signum)}{self.note}\n".encode())
        os._exit(128 + signum)


def stopped_by(signum: int) -> str:
    """How the command's last line names the signal that stopped it."""
    return "interrupted" if signum == _signal.SIGINT else f"stopped by {_NAMES.get(signum, signum)}"


def is_the_command() -> bool:
    """Whether this process runs the command: `python -m bulletin` (Python runs the package's
    `__init__` with `-m` as sys.argv[0], then `__main__`) or the `bulletin` script."""
    argv = getattr(sys, "orig_argv", [])
    by_module = sys.argv[:1] == ["-m"] and any(
        a == "-m" and b == "bulletin" for a, b in zip(argv, argv[1:], strict=False))
    script = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    return by_module or os.path.basename(script) == "bulletin"


def end_at_once_from_now(command: bool) -> None:
    """Set the handlers (in the command's own process only: `command`)."""
    if command and not isinstance(_signal.getsignal(_signal.SIGTERM), EndAtOnce):
        for signum in (_signal.SIGINT, _signal.SIGTERM):
            _signal.signal(signum, EndAtOnce(NOTHING_WRITTEN))
