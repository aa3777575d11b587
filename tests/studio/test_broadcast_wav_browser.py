"""A browser's audio element plays the Broadcast WAV (bext and cart chunks before `data`) as any
WAV: headless chromium reads its duration and plays it to the end."""

from __future__ import annotations

import soundfile as sf

from bulletin.pipeline.render import render

STORY = """\
title: Browser Test
date: 2026-12-05
cast: {anchor: {role: anchor}}
segments:
  - sting: builtin:open
  - anchor: Good morning, and this is the news.
air: {cut: NEWS0600, starts: "06:00", expires: 1h}
"""


def test_chromium_plays_the_broadcast_wav(browser, tmp_path):
    (tmp_path / "story.yaml").write_text(STORY)
    wav = render(tmp_path / "story.yaml", tmp_path, jobs=1, draft=True, formats=["wav"]).files["wav"]
    (tmp_path / "index.html").write_text(f'<audio id="a" preload="auto" src="{wav.name}"></audio>')
    page = browser.new_page()
    try:
        page.goto((tmp_path / "index.html").as_uri())
        duration = page.evaluate("""() => new Promise((done, fail) => {
            const a = document.getElementById('a');
            a.onerror = () => fail('error ' + (a.error && a.error.code));
            if (a.readyState >= 1) done(a.duration); else a.onloadedmetadata = () => done(a.duration);
        })""")
        assert abs(duration - sf.info(str(wav)).duration) < 0.05
        ended = page.evaluate("""() => new Promise((done, fail) => {
            const a = document.getElementById('a');
            a.onended = () => done(a.currentTime);
            a.onerror = () => fail('error ' + (a.error && a.error.code));
            a.playbackRate = 4; a.play().catch(fail);
        })""")
        assert abs(ended - duration) < 0.05
    finally:
        page.close()
