"""The studio's guard, in front of every request (the page, its static files, the API):

- the Host header must name the address the studio is bound to (a DNS-rebinding page
  reaches us under its own name, and is refused);
- the session token, from the URL once (then kept in a cookie: HttpOnly, SameSite=Strict)
  or that cookie; without it, 403;
- writes (anything but GET and HEAD) must come from the page's own origin;
- request bodies are at most the story size limit.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from bulletin.script.yamlnodes import MAX_FILE_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = ("GET", "HEAD")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


class HostCheck:
    """Which Host headers name this studio: the bound address and port; for a loopback
    address also `localhost`; for a wildcard bind (0.0.0.0, ::) any IP address literal
    (never a name, which is what rebinding needs)."""

    def __init__(self, host: str, port: int) -> None:
        self.port = port
        self.host = host.lower()
        self.wildcard = self.host in ("0.0.0.0", "::", "")
        self.names = {self.host if ":" not in self.host else f"[{self.host}]"}
        if is_loopback(host):
            self.names.update(LOOPBACK_NAMES)

    def __call__(self, header: str) -> bool:
        name, _, port = header.lower().rpartition(":")
        if not name or port != str(self.port):
            return False
        if name in self.names:
            return True
        return self.wildcard and _is_ip_literal(name)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        return False


class Guard:
    """ASGI middleware enforcing the rules above."""

    def __init__(self, app: App, token: str, hosts: HostCheck, max_body_bytes: int = MAX_FILE_BYTES) -> None:
        self.app = app
        self.token = token
        self.hosts = hosts
        self.max_body_bytes = max_body_bytes
        # cookies are per host, not per port: one studio's cookie must not shadow another's
        self.cookie = f"bulletin-studio-{hosts.port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _respond(send, *refusal)
            return
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > self.max_body_bytes:
            await _respond(send, 413, f"request bodies are limited to {self.max_body_bytes} bytes")
            return
        from_url = self._token_in_url(scope)
        await self.app(scope, self._limited(receive), self._with_cookie(send) if from_url else send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if not self.hosts(host):
            return 403, f"Host {host!r} is not this studio's address"
        if not (self._token_in_url(scope) or self._token_in_cookie(headers)):
            return 403, "the session token is missing or wrong: open the URL the studio printed"
        if scope.get("method", "GET") not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin != f"http://{host}":
                return 403, f"a write from {origin!r} is cross-origin"
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                return 403, "a cross-site write is refused"
        return None

    def _token_in_url(self, scope: Scope) -> bool:
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
        return any(hmac.compare_digest(t.encode(), self.token.encode()) for t in given)

    def _token_in_cookie(self, headers: dict[str, str]) -> bool:
        jar = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            return False
        morsel = jar.get(self.cookie)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), self.token.encode())

    def _with_cookie(self, send: Send) -> Send:
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        return sending

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def receiving() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return receiving


class BodyTooLarge(Exception):
    """A chunked body grew past the limit (a Content-Length over it is refused up front)."""


async def _respond(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
