// bulletin studio: voice directions (docs/story-format.md, Markup) put into a speech text
// from the words selected in it: pause here, spell out, slower, pronounce as (IPA or a
// respelling). Each inserts markup into the text as if typed, then plays the take at once.
"use strict";

const D = { area: null, start: 0, end: 0 };

// IPA has letters plain spelling has not: such a "pronounce as" is IPA, else a respelling
const IPA_ONLY = /[æçðøŋœɐɑɒɔɕəɚɛɜɟɡɣɪɯɲɹɾʁʃʊʌʒʔθχˈˌː]/;

function escapeAttribute(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
}

function remember(area) {
  D.area = area;
  D.start = area.selectionStart;
  D.end = area.selectionEnd;
  const bar = document.getElementById("direct");
  bar.hidden = false;
  bar.querySelector(".direct-target").textContent = `segment ${area.dataset.testid.slice(5)}`;
}

// the words selected, trimmed of the spaces around them (a double-click selects a space too)
function selection() {
  let { start, end } = D;
  const text = D.area.value;
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return { start, end, words: text.slice(start, end) };
}

function put(start, end, markup) {
  const area = D.area;
  area.value = area.value.slice(0, start) + markup + area.value.slice(end);
  area.dispatchEvent(new Event("input", { bubbles: true }));  // studio.js records the edit
  D.start = D.end = start + markup.length;
  area.focus();
  area.setSelectionRange(D.start, D.end);
  const index = Number(area.dataset.testid.slice(5));
  select(index, false);  // studio.js: hear it at once, even while the old take plays
  play(index);
}

function wrap(open, close) {
  const { start, end, words } = selection();
  if (!words) { notice("Select the words first."); return; }
  put(start, end, `${open}${words}${close}`);
}

const ACTIONS = {
  pause: () => { const at = selection().end; put(at, at, at && !/\s/.test(D.area.value[at - 1] || " ") ? ' <break time="500ms"/>' : '<break time="500ms"/> '); },
  spell: () => wrap('<say-as interpret-as="characters">', "</say-as>"),
  slower: () => wrap('<prosody rate="85%">', "</prosody>"),
  pronounce: () => {
    const said = document.getElementById("direct-said").value.trim();
    if (!said) { notice("Type how to say it: IPA (kɪm) or a respelling (keem)."); return; }
    if (IPA_ONLY.test(said)) wrap(`<phoneme alphabet="ipa" ph="${escapeAttribute(said)}">`, "</phoneme>");
    else wrap(`<sub alias="${escapeAttribute(said)}">`, "</sub>");
  },
};

function startDirecting() {
  const stories = document.getElementById("stories");
  for (const kind of ["select", "keyup", "mouseup", "focusin"]) {
    stories.addEventListener(kind, (e) => {
      if (e.target.tagName === "TEXTAREA") remember(e.target);
    });
  }
  for (const button of document.querySelectorAll("#direct button[data-action]")) {
    button.addEventListener("mousedown", (e) => e.preventDefault());  // the text keeps its selection
    button.addEventListener("click", () => D.area && ACTIONS[button.dataset.action]());
  }
  document.getElementById("direct-said").addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); if (D.area) ACTIONS.pronounce(); }
  });
}

document.addEventListener("DOMContentLoaded", startDirecting);
