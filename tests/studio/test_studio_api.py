"""The studio over plain HTTP: its security rules, and the JSON API its page uses."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import threading
import time
from pathlib import Path

import soundfile as sf
from conftest import start_studio

from bulletin.script.yamlnodes import MAX_FILE_BYTES


def test_first_line_is_the_url_with_the_port_it_got(studio):
    assert studio.port and studio.port > 0
    assert studio.host == "127.0.0.1"
    assert len(studio.token) >= 24
    status, _, page = studio.request("GET", f"/?token={studio.token}", token=False)
    assert status == 200 and b"bulletin studio" in page


def test_without_the_token_everything_is_refused(studio):
    for path in ("/", "/api/story", "/static/studio.js", "/api/events", "/files/x.mp3"):
        assert studio.request("GET", path, token=False)[0] == 403, path
    assert studio.request("GET", "/api/story?token=wrong", token=False)[0] == 403
    wrong_cookie = {"Cookie": f"bulletin-studio-{studio.port}=wrong"}
    assert studio.request("GET", "/api/story", token=False, headers=wrong_cookie)[0] == 403
    assert studio.request("POST", "/api/save", {"version": "x"}, token=False)[0] == 403


def test_the_token_in_the_url_becomes_a_strict_httponly_cookie(studio):
    status, headers, _ = studio.request("GET", f"/?token={studio.token}", token=False)
    cookie = headers["set-cookie"]
    assert status == 200
    assert cookie.startswith(f"bulletin-studio-{studio.port}={studio.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert studio.request("GET", "/api/story")[0] == 200  # the cookie alone is enough


def test_a_foreign_host_is_refused_even_with_the_token(studio):
    for host in (f"evil.example:{studio.port}", "127.0.0.1:1", f"localhost.evil.example:{studio.port}"):
        status, _, body = studio.request("GET", f"/api/story?token={studio.token}", headers={"Host": host})
        assert status == 403, host
        assert b"not this studio's address" in body
    assert studio.request("GET", "/api/story", headers={"Host": f"localhost:{studio.port}"})[0] == 200


def test_paths_outside_the_story_files_are_not_found(studio):
    for path in ("/files/../story.yaml", "/files/..%2Fstory.yaml", "/files/%2Fetc%2Fpasswd",
                 "/takes/..%2F..%2Fetc%2Fpasswd", "/takes/take-1-0000.wav", "/static/..%2F__init__.py",
                 "/static/../session.py", "/story.yaml", "/files/kbs.mp3"):
        assert studio.request("GET", path)[0] == 404, path


def test_cross_origin_writes_are_refused_and_nothing_is_written(studio):
    before = studio.story.read_bytes()
    _, state = studio.json("GET", "/api/story")
    body = {"version": state["version"], "texts": {"2": "Hijacked."}}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        assert studio.request("POST", "/api/save", body, headers=headers)[0] == 403, headers
    assert studio.request("POST", "/api/render", {}, headers={"Origin": "http://evil.example"})[0] == 403
    assert studio.story.read_bytes() == before
    same = {"Origin": f"http://127.0.0.1:{studio.port}", "Sec-Fetch-Site": "same-origin"}
    assert studio.request("POST", "/api/save", body, headers=same)[0] == 200


def test_request_bodies_are_limited_to_the_story_size(studio):
    huge = json.dumps({"texts": {"2": "x" * MAX_FILE_BYTES}}).encode()
    assert studio.request("POST", "/api/save", huge)[0] == 413


def test_story_lists_cast_and_segments_numbered_as_check_numbers_them(studio):
    status, state = studio.json("GET", "/api/story")
    assert status == 200 and state["title"] == "Studio Test News" and state["problems"] == []
    segments = [s for part in state["stories"] for s in part["segments"]]
    assert [s["index"] for s in segments] == [1, 2, 3, 4, 5]
    assert [s["kind"] for s in segments] == ["sting", "speech", "speech", "pause", "speech"]
    assert [p["headline"] for p in state["stories"]] == ["First story", "Second story"]
    assert segments[2] | {"text": "Seoul stays firm.", "speaker": "lee", "editable": True} == segments[2]
    assert all(s["estimate_s"] > 0 for s in segments)
    cast = {m["id"]: m for m in state["cast"]}
    assert cast["lee"]["preset"] == "reporter-plain" and cast["lee"]["first_line"] == 3
    assert all("reporter" in _roles(c["name"]) for c in cast["lee"]["choices"])


def _roles(preset: str) -> str:
    return (Path(__file__).resolve().parents[2] / "voices" / f"{preset}.yaml").read_text()


def test_save_changes_only_the_edited_lines(studio):
    before = studio.story.read_text()
    _, state = studio.json("GET", "/api/story")
    status, saved = studio.json("POST", "/api/save", {"version": state["version"],
                                                       "texts": {"3": "Seoul stays firm, for now."},
                                                       "voices": {"anchor": "anchor-warm"}})
    assert status == 200
    after = studio.story.read_text()
    expected = before.replace("          Seoul stays firm.", "          Seoul stays firm, for now.")
    expected = expected.replace("voice: anchor-us}   #", "voice: anchor-warm} #")  # the comment keeps its column
    assert after == expected
    assert studio.json("GET", "/api/story")[1]["version"] == saved["version"]


def test_a_bad_edit_is_refused_with_its_position_and_nothing_written(studio):
    before = studio.story.read_bytes()
    _, state = studio.json("GET", "/api/story")
    status, refused = studio.json("POST", "/api/save", {"version": state["version"], "texts": {"2": "  "}})
    assert status == 422
    [problem] = refused["problems"]
    assert problem["segment"] == 2 and problem["line"] == 16
    assert problem["text"].startswith(f"{studio.story}:16:")
    assert studio.story.read_bytes() == before
    assert not [p for p in studio.story.parent.iterdir() if p.name.startswith(".story.yaml")]


def test_a_save_over_a_file_changed_on_disk_is_refused(studio):
    _, state = studio.json("GET", "/api/story")
    outside = studio.story.read_text().replace("Good morning.", "Good evening.")
    studio.story.write_text(outside)
    status, refused = studio.json("POST", "/api/save", {"version": state["version"], "texts": {"5": "Bye."}})
    assert status == 409 and refused["conflict"]
    assert studio.story.read_text() == outside


def test_a_take_is_made_once_and_then_served_at_once(studio):
    started = time.monotonic()
    status, first = studio.json("POST", "/api/take", {"index": 2})
    cold = time.monotonic() - started
    started = time.monotonic()
    status, second = studio.json("POST", "/api/take", {"index": 2})
    warm = time.monotonic() - started
    assert status == 200 and second == first and warm < max(cold, 0.2)
    code, headers, wav = studio.request("GET", first["url"])
    samples, rate = sf.read(io.BytesIO(wav))
    assert code == 200 and headers["content-type"] == "audio/wav"
    assert abs(len(samples) / rate - first["duration_s"]) < 0.02 and abs(samples).max() > 0.05
    # an unsaved edit is heard, not the saved text; the file is untouched
    _, edited = studio.json("POST", "/api/take", {"index": 2, "texts": {"2": "Good morning to you all, and welcome."}})
    assert edited["url"] != first["url"] and edited["duration_s"] > first["duration_s"]
    assert "welcome" not in studio.story.read_text()


def test_render_through_the_api_to_a_decodable_mp3(studio):
    assert studio.request("POST", "/api/render", {})[0] == 202
    deadline = time.monotonic() + 180
    while (status := studio.json("GET", "/api/render")[1])["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert status["state"] == "done", status
    result = status["result"]
    assert abs(result["integrated_lufs"] - result["target_lufs"]) <= 0.1 and result["true_peak_dbtp"] <= -1.0
    assert [s["index"] for s in result["segments"]] == [1, 2, 3, 4, 5] and len(result["peaks"]) > 100
    code, _, mp3 = studio.request("GET", result["urls"]["mp3"])
    samples, rate = sf.read(io.BytesIO(mp3))
    assert code == 200 and abs(len(samples) / rate - result["duration_s"]) < 0.1
    for ext in ("wav", "json", "vtt"):
        assert studio.request("GET", result["urls"][ext])[0] == 200


def test_sigint_and_sigterm_stop_it_at_once_with_event_streams_open(story_file, tmp_path):
    for sig in (signal.SIGINT, signal.SIGTERM):
        running = start_studio(story_file, tmp_path)
        streams = [threading.Thread(target=_hold_stream, args=(running,), daemon=True) for _ in range(2)]
        for stream in streams:
            stream.start()
        time.sleep(0.5)
        status, seconds, stderr = running.stop(sig)
        assert status == 0 and seconds < 5, (sig, seconds, stderr)
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def _hold_stream(running) -> None:
    with contextlib.suppress(OSError):  # the server ends the stream as it stops
        running.request("GET", "/api/events")


def test_another_host_is_served_with_a_warning(story_file, tmp_path):
    running = start_studio(story_file, tmp_path, "--host", "0.0.0.0")
    try:
        assert running.host == "127.0.0.1"
        assert running.request("GET", "/api/story")[0] == 200
        assert running.request("GET", "/api/story", headers={"Host": f"rebind.example:{running.port}"})[0] == 403
    finally:
        _, _, stderr = running.stop()
    assert "warning: the studio listens on 0.0.0.0" in stderr


def test_backtime_against_the_post_with_unsaved_edits(studio):
    assert studio.json("GET", "/api/story")[1]["backtime"] is None  # no post: nothing to backtime
    studio.story.write_text(studio.story.read_text().replace("date: 2026-12-01\n",
                                                             "date: 2026-12-01\nmaster: {duration: 10}\n"))
    status, state = studio.json("GET", "/api/story")
    assert status == 200 and state["backtime"]["post"] == 10.0
    assert state["backtime"]["line"].startswith(f"0:{state['backtime']['estimated']:04.1f} estimated for a 0:10.0 post")
    status, edited = studio.json("POST", "/api/backtime", {"texts": {"3": "Seoul stays firm, the minister said today."}})
    assert status == 200 and edited["backtime"]["estimated"] > state["backtime"]["estimated"] + 1
    assert edited["estimated_s"] > state["estimated_s"] + 1
    assert "Seoul stays firm." in studio.story.read_text()  # nothing was written
