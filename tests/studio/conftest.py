"""The real studio: `python -m bulletin studio` in a subprocess on 127.0.0.1, and (for the page
tests) Debian's chromium driven by Playwright."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A short story with espeak-ng voices named (fast takes whatever engine `auto` prefers), two
# stories, every kind of segment, and comments that a save must keep.
STORY = """\
# Morning bulletin: a comment the studio must keep
title: Studio Test News
date: 2026-12-01

cast:
  anchor: {role: anchor, voice: anchor-us}   # the desk
  lee:
    role: reporter
    name: Lee Ji-won
    voice: reporter-plain

stories:
  - headline: First story
    segments:
      - sting: builtin:open
      - anchor: Good morning.   # short, so takes are quick
      - lee: >-
          Seoul stays firm.
      - pause: 0.5
  - headline: Second story
    segments:
      - speaker: anchor
        text: That is all.
        id: signoff
"""


class Studio:
    """A running studio: its printed URL, and plain HTTP requests to it."""

    def __init__(self, process: subprocess.Popen, url: str, story: Path) -> None:
        self.process = process
        self.url = url
        self.story = story
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.base = f"http://{parts.netloc}"
        self.token = parts.query.split("token=", 1)[1]

    def request(self, method: str, path: str, body: object = None, headers: dict | None = None,
                token: bool = True) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        sent = {"Host": f"{self.host}:{self.port}"}
        if token:
            sent["Cookie"] = f"bulletin-studio-{self.port}={self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in sent.items():
            connection.putheader(key, value)
        if data is not None:
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), payload

    def json(self, method: str, path: str, body: object = None) -> tuple[int, dict]:
        status, _, payload = self.request(method, path, body)
        return status, json.loads(payload)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, float, str]:
        """Stop it; exit status, seconds it took, and its stderr."""
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            status = self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        return status, time.monotonic() - started, self.process.stderr.read()


def start_studio(story: Path, cwd: Path, *extra: str) -> Studio:
    process = subprocess.Popen(
        [sys.executable, "-m", "bulletin", "studio", str(story), "--no-browser", "--port", "0", *extra],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    first = process.stdout.readline()
    if not first.startswith("studio: http://"):
        process.kill()
        raise AssertionError(f"first line {first!r}; stderr: {process.stderr.read()}")
    return Studio(process, first.split(" ", 1)[1].strip(), story)


@pytest.fixture
def story_file(tmp_path: Path) -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(STORY, encoding="utf-8")
    return path


@pytest.fixture
def studio(story_file: Path, tmp_path: Path):
    running = start_studio(story_file, tmp_path)
    yield running
    if running.process.poll() is None:
        running.stop()


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Debian's chromium under Playwright (never `playwright install`'s download)."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no chromium found (apt-get install chromium); the page tests need a browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[dev]'); chromium page tests skipped")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield context
        context.close()


@pytest.fixture
def page(browser, studio: Studio):
    opened = browser.new_page()
    opened.set_default_timeout(60_000)
    opened.goto(studio.url)
    opened.get_by_test_id("segment-1").wait_for()
    yield opened
    opened.close()
