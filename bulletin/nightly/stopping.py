"""Stopping cleanly: SIGTERM and SIGINT abandon a render at once, let a publish finish, and wake
a sleeping scheduler."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived while a render could still be abandoned.

    A BaseException, like KeyboardInterrupt, so that `except Exception` in a render lets it by.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


class Stopper:
    """Turns SIGTERM/SIGINT into a clean stop: a render is abandoned at once (nothing of it is
    published), a publish runs to its end (a few renames), and a sleeping scheduler wakes."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._abandonable = False
        self._wake = threading.Event()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def request(self, signum: int, frame: FrameType | None = None) -> None:
        self.signum = signum
        # set from another thread: a signal handler runs in the main thread between two of its
        # bytecodes, perhaps while that thread holds the event's own lock inside wait(), and
        # setting it here would then wait for that lock for ever (seen once in a test run: a
        # scheduler that SIGTERM did not stop)
        threading.Thread(target=self._wake.set, name="stop-request", daemon=True).start()
        if self._abandonable:
            self._abandonable = False
            raise Stopped(signum)

    @contextlib.contextmanager
    def abandonable(self) -> Iterator[None]:
        """Inside the block, a stop request raises Stopped at once."""
        if self.signum is not None:
            raise Stopped(self.signum)
        self._abandonable = True
        try:
            yield
        finally:
            self._abandonable = False

    def wait(self, seconds: float) -> None:
        """Sleep, waking early for a stop request."""
        self._wake.wait(max(0.0, seconds))

    @contextlib.contextmanager
    def installed(self) -> Iterator[Stopper]:
        """Handle SIGTERM and SIGINT for the block (only the main thread may set handlers)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self.request) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
