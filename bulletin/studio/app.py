"""The studio's ASGI app: the page, its JSON API under /api/ (docs/studio.md), the takes and
rendered files of this story, and server-sent events that follow the file and the render.

Audio work (takes, the render) runs on threads: a neural voice takes seconds per segment, and
the event loop must keep answering meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bulletin.base.errors import BulletinError, InputError
from bulletin.studio.security import BodyTooLarge, Guard, HostCheck
from bulletin.studio.session import Conflict, Session
from bulletin.studio.yamledit import Edits

STATIC = Path(__file__).with_name("static")
KEEPALIVE_S = 15.0
# how long the watcher waits for a burst of writes to settle (an editor's save is several)
WATCH_DEBOUNCE_MS = 150


class Events:
    """Server-sent events to every open page. `publish` may be called from any thread."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = asyncio.Event()

    def publish(self, name: str, data: dict) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._put, (name, data))

    def _put(self, event: tuple[str, dict] | None) -> None:
        for queue in self.queues:
            queue.put_nowait(event)

    def close(self) -> None:
        """End every stream (the server cannot stop while one is open)."""
        self.closed.set()
        self._put(None)

    async def stream(self, first: tuple[str, dict]) -> AsyncIterator[str]:
        queue: asyncio.Queue = asyncio.Queue()
        self.queues.add(queue)
        try:
            yield _event(*first)
            while not self.closed.is_set():
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    break
                yield _event(*event)
        finally:
            self.queues.discard(queue)


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def create_app(session: Session, token: str, hosts: HostCheck) -> tuple[Guard, Events]:
    """The app behind its guard, and its event hub (close it to let the server stop)."""
    events = Events()
    api = _Api(session, events)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(_watch(session, events))
        try:
            yield
        finally:
            events.close()
            watcher.cancel()

    app = Starlette(
        routes=[
            Route("/", api.page),
            Route("/api/story", api.story),
            Route("/api/save", api.save, methods=["POST"]),
            Route("/api/take", api.take, methods=["POST"]),
            Route("/api/backtime", api.backtime, methods=["POST"]),
            Route("/api/render", api.render_status),
            Route("/api/render", api.render_start, methods=["POST"]),
            Route("/api/events", api.stream),
            Route("/takes/{name}", api.take_file),
            Route("/files/{name}", api.rendered_file),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={InputError: api.input_error, BulletinError: _failure,
                            _BadRequest: _bad_request, BodyTooLarge: _too_large},
        lifespan=lifespan,
    )
    return Guard(app, token, hosts), events


class _Api:
    """The routes: each reads the request, calls the session, answers JSON."""

    def __init__(self, session: Session, events: Events) -> None:
        self.session = session
        self.events = events

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def story(self, request: Request) -> Response:
        return JSONResponse(await _in_thread(self.session.state))

    async def save(self, request: Request) -> Response:
        body = await _json(request)
        try:
            version = await _in_thread(self.session.save, str(body.get("version", "")), _edits(body))
        except Conflict as error:
            return JSONResponse({"error": str(error), "conflict": True, "version": self.session.version()}, 409)
        return JSONResponse({"version": version})

    async def take(self, request: Request) -> Response:
        body = await _json(request)
        index = body.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise _BadRequest("index must be a segment number")
        return JSONResponse(await _in_thread(self.session.take, index, _edits(body)))

    async def backtime(self, request: Request) -> Response:
        return JSONResponse(await _in_thread(self.session.backtime, _edits(await _json(request))))

    async def render_status(self, request: Request) -> Response:
        return JSONResponse(self.session.render.status(self.session.version()))

    async def render_start(self, request: Request) -> Response:
        await _json(request)
        s = self.session
        started = s.render.start(s.path, s.out_dir, s.assets, s.version(),
                                 lambda status: self.events.publish("render", status), s.draft)
        return JSONResponse(s.render.status(s.version()), 202 if started else 409)

    async def stream(self, request: Request) -> Response:
        first = ("story", {"version": self.session.version()})
        return StreamingResponse(self.events.stream(first), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    async def take_file(self, request: Request) -> Response:
        return _file(self.session.take_file(request.path_params["name"]), "audio/wav")

    async def rendered_file(self, request: Request) -> Response:
        return _file(self.session.render.file(request.path_params["name"]), None)

    async def input_error(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, InputError)
        source = await _in_thread(lambda: self.session.path.read_text(encoding="utf-8"))
        return JSONResponse({"error": "the story would not load", "problems": self.session.problems(error, source)}, 422)


class _BadRequest(Exception):
    pass


async def _json(request: Request) -> dict:
    try:
        body = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError as error:
        raise _BadRequest(f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object")
    return body


def _edits(body: dict) -> Edits:
    texts, voices = body.get("texts") or {}, body.get("voices") or {}
    if not isinstance(texts, dict) or not isinstance(voices, dict):
        raise _BadRequest("texts and voices must be objects")
    try:
        parsed = {int(k): v for k, v in texts.items()}
    except ValueError:
        raise _BadRequest("texts are keyed by segment number") from None
    if not all(isinstance(v, str) for v in [*parsed.values(), *voices.values()]):
        raise _BadRequest("texts and voices must be strings")
    return Edits(parsed, {str(k): v for k, v in voices.items()})


def _file(path: Path | None, media_type: str | None) -> Response:
    if path is None or not path.is_file():
        return JSONResponse({"error": "not found"}, 404)
    return FileResponse(path, media_type=media_type, headers={"cache-control": "no-store"})


async def _failure(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": str(error)}, 500)


async def _bad_request(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": str(error)}, 400)


async def _too_large(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": f"request bodies are limited to {error.args[0]} bytes"}, 413)


async def _in_thread(function: Callable[..., Any], *args: object) -> Any:
    """Run `function` on a daemon thread: a take or load still running when the studio stops
    must not keep the process alive."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()

    def run() -> None:
        try:
            result = function(*args)
        except BaseException as error:  # noqa: BLE001 (handed to the awaiting request)
            loop.call_soon_threadsafe(_settle, done, None, error)
        else:
            loop.call_soon_threadsafe(_settle, done, result, None)

    threading.Thread(target=run, name="studio-work", daemon=True).start()
    return await done


def _settle(future: asyncio.Future, result: object, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def _watch(session: Session, events: Events) -> None:
    """Tell the pages when the story file changes on disk (another editor saved it)."""
    from watchfiles import awatch

    last = session.version()
    folder = session.path.parent
    async for changes in awatch(folder, stop_event=events.closed, debounce=WATCH_DEBOUNCE_MS, step=50,
                                recursive=False, watch_filter=lambda change, path: Path(path).name == session.path.name):
        if not changes:
            continue
        try:
            version = session.version()
        except OSError:  # between an editor's delete and its write
            continue
        if version != last:
            last = version
            events.publish("story", {"version": version})
