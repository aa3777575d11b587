"""What a worker process runs (see synthesis.in_workers): light on imports, so that it ignores
Ctrl-C and SIGTERM as early as it can.

Ctrl-C at a terminal goes to the whole process group: a worker still starting would print a
KeyboardInterrupt traceback. So the render starts each worker with both signals blocked (the
mask is inherited through spawn's exec; the resource tracker's start, which unblocks them, is
done first), and the worker ignores them before it unblocks them. The render handles both
signals itself and stops its workers; a worker ends when its pipe closes.
"""

from __future__ import annotations

import signal
from multiprocessing.connection import Connection

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(conn: Connection) -> None:
    """Sentences in, (True, audio) or (False, the error) out, until None comes."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by the render until now
    from bulletin.sound.sentences import synthesize_sentence  # only now: the heavy imports

    try:
        while (job := conn.recv()) is not None:
            try:
                answer: tuple[bool, object] = (True, synthesize_sentence(job))
            except Exception as error:  # the render says what went wrong, with the segment
                answer = (False, error)
            conn.send(answer)
    except (EOFError, OSError):
        pass  # the render ended (or died): nothing left to do
