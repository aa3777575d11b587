"""The real page in headless chromium (Playwright), over the real studio server."""

from __future__ import annotations

import io
import time

import pytest
import soundfile as sf

pytest.importorskip("playwright", reason="Playwright for Python is not installed; chromium page tests skipped")
from playwright.sync_api import expect  # noqa: E402


def _played(page, index: int) -> None:
    """The segment plays: its row says so and the page's player is running its take."""
    expect(page.get_by_test_id(f"segment-{index}")).to_have_class("segment selected playing")
    page.wait_for_function("() => { const p = document.getElementById('player');"
                           " return p.src.includes('/takes/') && !p.paused && p.currentTime > 0 }")


def test_play_renders_the_take_once_and_shows_which_is_playing(page):
    with page.expect_response("**/api/take") as first:
        page.get_by_test_id("play-2").click()
    _played(page, 2)
    expect(page.get_by_test_id("play-2")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("play-2").click()  # stops
    expect(page.get_by_test_id("segment-2")).not_to_have_class("segment selected playing")
    started = time.monotonic()
    with page.expect_response("**/api/take") as second:
        page.get_by_test_id("play-2").click()
    assert second.value.json() == first.value.json()
    _played(page, 2)
    assert time.monotonic() - started < 2.0  # the take is not made again


def test_keyboard_moves_the_selection_and_space_plays(page):
    page.get_by_test_id("segment-1").click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("segment-3")).to_have_class("segment selected")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Space")
    _played(page, 2)
    page.keyboard.press("Space")
    expect(page.get_by_test_id("segment-2")).to_have_class("segment selected")
    page.get_by_test_id("play-5").click()  # the button keeps the focus: Space stops, once
    _played(page, 5)
    page.keyboard.press("Space")
    expect(page.get_by_test_id("segment-5")).to_have_class("segment selected")
    page.wait_for_timeout(300)
    assert page.evaluate("document.getElementById('player').paused")


def test_edit_and_save_writes_the_file_keeping_comments(page, studio):
    page.get_by_test_id("text-2").fill("Good morning, and welcome.")
    page.get_by_test_id("voice-lee").select_option("reporter-us")  # auditions segment 3
    _played(page, 3)
    page.get_by_test_id("save").click()
    expect(page.locator("#notice")).to_contain_text("Saved")
    written = studio.story.read_text()
    assert "  - anchor: Good morning, and welcome.   # short, so takes are quick" not in written
    assert "- anchor: Good morning, and welcome. # short, so takes are quick" in written
    assert "# Morning bulletin: a comment the studio must keep" in written
    assert "    voice: reporter-us\n" in written and "reporter-plain" not in written
    expect(page.get_by_test_id("voice-lee")).to_have_value("reporter-us")
    expect(page.get_by_test_id("text-2")).to_have_value("Good morning, and welcome.")


def test_an_outside_edit_appears_within_two_seconds(page, studio):
    studio.story.write_text(studio.story.read_text().replace("That is all.", "That is all for now."))
    expect(page.get_by_test_id("text-5")).to_have_value("That is all for now.", timeout=2000)
    expect(page.get_by_test_id("segment-5")).to_contain_text("That is all for now.")
    expect(page.locator("#notice")).to_contain_text("changed on disk")


def test_a_bad_edit_is_shown_beside_its_segment_and_nothing_is_written(page, studio):
    before = studio.story.read_bytes()
    page.get_by_test_id("text-3").fill("")
    page.get_by_test_id("save").click()
    error = page.get_by_test_id("segment-3").get_by_test_id("error")
    expect(error).to_contain_text("story.yaml:17:")
    expect(error).to_contain_text("segment 3")
    expect(page.get_by_test_id("error")).to_have_count(1)
    assert studio.story.read_bytes() == before


def test_a_save_over_an_outside_change_reloads_instead(page, studio):
    page.get_by_test_id("text-2").fill("Mine.")
    outside = studio.story.read_text().replace("That is all.", "Theirs.")
    studio.story.write_text(outside)
    expect(page.locator("#notice")).to_contain_text("changed on disk")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("error")).to_contain_text("changed on disk")
    expect(page.get_by_test_id("text-5")).to_have_value("Theirs.")
    assert studio.story.read_text() == outside


def test_render_to_done_with_a_playable_mp3_and_the_waveform(page, studio, tmp_path):
    page.get_by_test_id("render").click()
    expect(page.get_by_test_id("render-status")).to_contain_text("done", timeout=180_000)
    expect(page.locator("#progress-bar")).to_have_attribute("style", "width: 100%;")
    link = page.get_by_test_id("download-mp3")
    href = link.evaluate("a => a.href")  # absolute
    assert href.startswith(studio.base) and href.endswith(".mp3")
    response = page.request.get(href)  # with the page's cookie
    samples, rate = sf.read(io.BytesIO(response.body()))
    assert response.ok and len(samples) / rate > 2.0
    expect(page.locator("#m-lufs")).to_contain_text("LUFS")
    expect(page.locator("#m-peak")).to_contain_text("dBTP")
    assert page.evaluate("document.getElementById('waveform').width") > 0
    # the bulletin's words under their segments: a click plays the bulletin from that word, and
    # the words are lit as the bulletin goes on
    expect(page.get_by_test_id("words-5").locator(".word")).to_have_text(["That", "is", "all."])
    page.get_by_test_id("word-5-1").click()
    page.wait_for_function("() => !document.getElementById('master').paused")
    seen = page.evaluate(_SPOKEN_IN_TURN, "master")
    # from the clicked word on, in order ("is" is short: polling may begin after it)
    assert seen and seen[-1] == "word-5-2" and "word-5-0" not in seen and seen == sorted(seen), seen

    page.locator("#result").screenshot(path=str(tmp_path / "result.png"))
    assert (tmp_path / "result.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _select(page, index: int, words: str) -> None:
    """Select `words` in the text of segment `index`, as a producer's drag would."""
    page.get_by_test_id(f"text-{index}").evaluate(
        "(area, words) => { area.focus(); const at = area.value.indexOf(words);"
        " area.setSelectionRange(at, at + words.length); area.dispatchEvent(new Event('select', {bubbles: true})) }",
        words)


def _direct(page, index: int, words: str, action: str, said: str = "") -> None:
    """Select `words` in segment `index`, press the `action` button; the take is made."""
    _select(page, index, words)
    if said:
        page.get_by_test_id("direct-said").fill(said)
    with page.expect_response("**/api/take") as take:
        page.get_by_test_id(f"direct-{action}").click()
    assert take.value.ok


def test_selected_words_are_directed_heard_at_once_and_saved(page, studio):
    _direct(page, 2, "morning", "spell")
    expect(page.get_by_test_id("direct")).to_be_visible()
    _played(page, 2)
    expect(page.get_by_test_id("text-2")).to_have_value('Good <say-as interpret-as="characters">morning</say-as>.')
    _direct(page, 2, "Good", "pause")
    expect(page.get_by_test_id("text-2")).to_have_value(
        'Good <break time="500ms"/> <say-as interpret-as="characters">morning</say-as>.')
    _direct(page, 3, "Seoul", "pronounce", said="soʊl")
    _played(page, 3)
    _direct(page, 3, "firm", "slower")
    expect(page.get_by_test_id("text-3")).to_have_value(
        '<phoneme alphabet="ipa" ph="soʊl">Seoul</phoneme> stays <prosody rate="85%">firm</prosody>.')
    _direct(page, 5, "all", "pronounce", said="awl")
    expect(page.get_by_test_id("text-5")).to_have_value('That is <sub alias="awl">all</sub>.')
    page.get_by_test_id("save").click()
    expect(page.locator("#notice")).to_contain_text("Saved")
    written = studio.story.read_text()
    assert '<say-as interpret-as="characters">morning</say-as>' in written
    assert '<phoneme alphabet="ipa" ph="soʊl">Seoul</phoneme>' in written and '<sub alias="awl">all</sub>' in written
# every word highlighted in turn while the player runs (polled each animation frame)
_SPOKEN_IN_TURN = """(player) => new Promise((resolve, reject) => {
  const seen = [], p = document.getElementById(player), started = performance.now();
  function poll() {
    const w = document.querySelector('.word.spoken'), id = w && w.dataset.testid;
    if (id && seen[seen.length - 1] !== id) seen.push(id);
    if (p.ended) resolve(seen);
    else if (performance.now() - started > 60000) reject(new Error('never ended: ' + seen));
    else requestAnimationFrame(poll);
  }
  poll();
})"""


def test_a_take_highlights_each_word_as_it_is_said_and_a_click_plays_from_a_word(page):
    with page.expect_response("**/api/take") as made:
        page.get_by_test_id("play-3").click()
    seen = page.evaluate(_SPOKEN_IN_TURN, "player")
    words = made.value.json()["words"]
    assert [w["word"] for w in words] == ["Seoul", "stays", "firm."]
    assert seen == ["word-3-0", "word-3-1", "word-3-2"]  # each word once, in the order said
    expect(page.get_by_test_id("words-3").locator(".word")).to_have_text(["Seoul", "stays", "firm."])
    page.get_by_test_id("word-3-2").click()  # plays from that word: it is the one lit first
    page.wait_for_function("([t]) => { const p = document.getElementById('player');"
                           " return !p.paused && p.currentTime >= t }", arg=[words[2]["start"]])
    assert page.evaluate("document.querySelector('.word.spoken')?.dataset.testid") in ("word-3-2", None)
    assert page.evaluate("document.getElementById('player').currentTime") < words[2]["start"] + 0.5


def test_the_backtime_follows_the_text_as_it_is_typed(page, studio):
    studio.story.write_text(studio.story.read_text().replace("date: 2026-12-01\n",
                                                             "date: 2026-12-01\nmaster: {duration: '0:08'}\n"))
    line = page.get_by_test_id("backtime")
    expect(line).to_contain_text("estimated for a 0:08.0 post", timeout=5000)

    def over_s() -> float:
        text = line.text_content()
        sign = 1 if ": over by " in text else -1
        return sign * float(text.split(" by ", 1)[1].split(" s")[0])

    before = over_s()
    page.get_by_test_id("text-3").fill("Seoul stays firm, and the talks in Busan will go on all through the "
                                       "night and into tomorrow morning, officials said.")
    page.wait_for_function(f"() => !document.getElementById('backtime').textContent.includes('by {abs(before):.1f} s')")
    assert over_s() > before + 3
    assert "does not fit" in line.text_content() or "fits" in line.text_content()


def test_the_readme_picture_is_taken_from_the_current_page(browser, tmp_path):
    """docs/studio.png (the README's picture) is this page as it is now: the example's cast with
    the neural voices `auto` gives it, a finished render with its waveform, the segments. The
    example's speech is cut to its first words so the render takes seconds."""
    from tests.conftest import ROOT, shorten_story
    from tests.studio.conftest import start_studio

    story = tmp_path / "story.yaml"
    story.write_text((ROOT / "examples" / "gsomia" / "story.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    shorten_story(story)
    studio = start_studio(story, tmp_path)
    shown = browser.new_page()
    try:
        shown.set_viewport_size({"width": 1280, "height": 1000})
        shown.set_default_timeout(60_000)
        shown.goto(studio.url)
        shown.get_by_test_id("segment-1").wait_for()
        engines = shown.evaluate("fetch('/api/story').then(r => r.json()).then(s => s.cast.map(m => m.engine))")
        assert engines and all(engine in {"kokoro", "piper"} for engine in engines), engines
        shown.get_by_test_id("render").click()
        expect(shown.get_by_test_id("render-status")).to_contain_text("done", timeout=300_000)
        shown.screenshot(path=str(tmp_path / "studio.png"))
    finally:
        shown.close()
        studio.stop()
    picture = (tmp_path / "studio.png").read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"
    (ROOT / "docs" / "studio.png").write_bytes(picture)
