"""`bulletin studio`: bind, print the URL (with the session token), serve until SIGINT or
SIGTERM.

The socket is bound before anything else, so `--port 0` prints the port it got and a client
that connects at once waits in the listen queue instead of being refused. Signals stop the
server without the KeyboardInterrupt uvicorn would re-raise, after ending the event streams
(an open stream otherwise holds uvicorn's shutdown until its graceful timeout)."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from bulletin.base.errors import BulletinError, InputError
from bulletin.studio.security import HostCheck, is_loopback

# seconds uvicorn waits for open requests (a take being made) before cancelling them
GRACEFUL_S = 2


def serve(story: Path, *, host: str = "127.0.0.1", port: int = 0, open_browser: bool = True,
          assets: tuple[Path, ...] = (), out_dir: Path = Path("output"), draft: bool = False) -> int:
    """Serve the studio for `story` until stopped; prints `studio: URL` first."""
    story = Path(story)
    if not story.is_file():
        raise InputError(f"{story}: no such story file")
    sock = _listen(host, port)
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    if ":" in shown_host and not shown_host.startswith("["):
        shown_host = f"[{shown_host}]"
    url = f"http://{shown_host}:{port}/?token={token}"
    print(f"studio: {url}", flush=True)
    # a stop asked for while the server is still starting is honoured once it has started
    early_stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda sig, frame: early_stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    if not is_loopback(host):
        print(f"warning: the studio listens on {host}, not only this machine: anyone who can reach "
              "it and has the URL can edit the story and render", file=sys.stderr, flush=True)

    import uvicorn

    from bulletin.studio.app import create_app
    from bulletin.studio.session import Session

    work = Path(tempfile.mkdtemp(prefix="bulletin-studio-"))
    try:
        session = Session(story, assets, out_dir, work, draft)
        app, events = create_app(session, token, HostCheck(host, port))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                timeout_graceful_shutdown=GRACEFUL_S)
        server = _Server(config, events.close, early_stop)
        if open_browser:
            threading.Thread(target=_open, args=(url,), daemon=True).start()
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(work, ignore_errors=True)
    print("studio: stopped", file=sys.stderr, flush=True)
    return 0


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise BulletinError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _open(url: str) -> None:
    import webbrowser

    with contextlib.suppress(Exception):  # no browser here: the printed URL is enough
        webbrowser.open(url)


class _Server:
    """uvicorn's server with our own signal handling: SIGINT and SIGTERM end the event
    streams and stop it, and are not re-raised (no KeyboardInterrupt, no traceback)."""

    def __init__(self, config: object, on_exit: Callable[[], None], early_stop: threading.Event) -> None:
        import uvicorn

        on_exit_in_loop = self._in_loop(on_exit)

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                handlers = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
                if early_stop.is_set():
                    self.handle_exit(signal.SIGTERM, None)
                try:
                    yield
                finally:
                    for sig, handler in handlers.items():
                        signal.signal(sig, handler)

            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                on_exit_in_loop()
                super().handle_exit(sig, frame)

        self.server = Server(config)  # type: ignore[arg-type]

    @staticmethod
    def _in_loop(function: Callable[[], None]) -> Callable[[], None]:
        import asyncio

        def call() -> None:
            try:
                asyncio.get_running_loop().call_soon_threadsafe(function)
            except RuntimeError:  # no loop yet (a signal during start-up)
                function()

        return call

    def run(self, sockets: list[socket.socket]) -> None:
        self.server.run(sockets=sockets)
