// bulletin studio: the page over the JSON API in docs/studio.md. Plain JS, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const S = {
  story: null,          // GET /api/story
  version: "",          // the file version the page shows
  edits: { texts: {}, voices: {} },
  selected: null,       // segment number
  playing: null,        // segment number playing now
  playRequest: 0,       // ignores a take that arrives after another play was asked for
  taken: {},            // segment number -> seconds of its last take
  render: null,         // the last render status
  takeWords: {},        // segment number -> its last take's words, [{word, start, end}] from the take's start
  spoken: null,         // the highlighted word's test id
};


function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, { credentials: "same-origin", ...options });
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  return { status: response.status, ok: response.ok, data };
}

function clock(seconds) {
  if (seconds === undefined || seconds === null) return "";
  const m = Math.floor(seconds / 60), s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

function dirty() {
  return Object.keys(S.edits.texts).length + Object.keys(S.edits.voices).length > 0;
}

function markDirty() {
  $("dirty").hidden = !dirty();
}

function notice(text) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = !text;
}

// -- loading and drawing the story ---------------------------------------------------------

async function load(message) {
  const { data } = await api("/api/story");
  S.story = data;
  S.version = data.version;
  S.edits = { texts: {}, voices: {} };
  S.taken = {};
  markDirty();
  draw();
  showProblems(data.problems || []);
  showRender(data.render);
  if (message) notice(message);
}

function draw() {
  const story = S.story;
  $("title").textContent = story.title || story.file;
  document.title = `${story.title || story.file} · bulletin studio`;
  $("file").textContent = `${story.folder}/${story.file}` + (story.date ? ` · ${story.date}` : "");
  $("total").textContent = story.estimated_s ? `estimated ${clock(story.estimated_s)}` : "";
  showBacktime(story.backtime);
  drawCast(story);
  drawSegments(story);
  $("warnings").replaceChildren(...(story.warnings || []).map((w) => el("li", { text: w })));
}

function drawCast(story) {
  $("cast").replaceChildren(...story.cast.map((m) => {
    const menu = el("select", { "data-testid": `voice-${m.id}`, "aria-label": `voice of ${m.id}`,
      onchange: (e) => chooseVoice(m, e.target.value) });
    const auto = m.voice === "auto";
    menu.append(el("option", { value: "auto", text: `auto${auto ? ` (${m.preset})` : ""}`, selected: auto }));
    for (const c of m.choices) {
      menu.append(el("option", { value: c.name, text: c.name, title: c.description, selected: !auto && c.name === m.preset }));
    }
    return el("tr", { "data-member": m.id },
      el("td", { class: "id", text: m.id }), el("td", { text: m.role }), el("td", { text: m.name }),
      el("td", {}, menu), el("td", { class: "muted", text: `${m.engine} ${m.engine_voice}` }));
  }));
}

function drawSegments(story) {
  const names = Object.fromEntries(story.cast.map((m) => [m.id, m.name]));
  $("stories").replaceChildren(...story.stories.map((part) => el("div", { class: "story" },
    el("h3", {}, el("span", { class: "n", text: `${part.index}` }), part.headline),
    ...part.segments.map((s) => segmentRow(s, names)))));
  select(S.selected && rowOf(S.selected) ? S.selected : firstSegment(), false);
}

function segmentRow(s, names) {
  const play = el("button", { class: "play", type: "button", "data-testid": `play-${s.index}`,
    title: "Play this segment (Space)", "aria-pressed": "false", text: "▶",
    onclick: (e) => { e.stopPropagation(); select(s.index); togglePlay(s.index); } });
  let body;
  if (s.editable) {
    body = el("textarea", { "data-testid": `text-${s.index}`, rows: 1, spellcheck: "true",
      "aria-label": `text of segment ${s.index}`, oninput: (e) => editText(s, e.target),
      onfocus: () => select(s.index, false) });
    body.textContent = s.text;  // its default value too, so the row's text is the segment's
  } else {
    body = el("div", { class: "label", text: s.text ? `${s.label || ""} “${s.text}”` : (s.label || "") });
  }
  const who = s.speaker ? el("div", { class: "speaker", text: s.speaker },
    names[s.speaker] && names[s.speaker] !== s.speaker ? el("small", { text: names[s.speaker] }) : null) : el("div");
  const row = el("div", { class: "segment", "data-testid": `segment-${s.index}`, "data-index": s.index,
    onclick: () => select(s.index, false) },
    el("div", { class: "num", text: s.index }), play, el("div", {}, el("span", { class: `kind ${s.kind}`, text: s.kind })),
    who, el("div", { class: "text" }, body, el("div", { class: "words", "data-testid": `words-${s.index}` }),
      el("div", { class: "inline-errors" })),
    el("div", { class: "dur", title: "estimated", text: `~${s.estimate_s.toFixed(1)} s` }));
  requestAnimationFrame(() => body.tagName === "TEXTAREA" && fit(body));
  return row;
}

function fit(area) {
  area.style.height = "auto";
  area.style.height = `${area.scrollHeight + 2}px`;
}

function rowOf(index) {
  return document.querySelector(`[data-testid="segment-${index}"]`);
}

function segments() {
  return S.story ? S.story.stories.flatMap((p) => p.segments) : [];
}

function firstSegment() {
  const all = segments();
  return all.length ? all[0].index : null;
}

function select(index, scroll = true) {
  if (index === null) return;
  document.querySelectorAll(".segment.selected").forEach((r) => r.classList.remove("selected"));
  const row = rowOf(index);
  if (!row) return;
  row.classList.add("selected");
  S.selected = index;
  if (scroll) row.scrollIntoView({ block: "nearest" });
}

function showDuration(index, seconds, rendered) {
  const cell = rowOf(index)?.querySelector(".dur");
  if (!cell) return;
  cell.textContent = `${seconds.toFixed(1)} s`;
  cell.title = rendered ? "rendered" : "take";
  cell.classList.add("rendered");
}

// -- edits ----------------------------------------------------------------------------------

function editText(s, area) {
  fit(area);
  if (area.value === s.text) delete S.edits.texts[s.index];
  else S.edits.texts[s.index] = area.value;
  area.classList.toggle("edited", area.value !== s.text);
  markDirty();
  scheduleBacktime();
}

// the estimate against the post (master.duration), as `check` prints it, kept up to date while
// the producer types: asked of the server a moment after the last keystroke
function showBacktime(backtime) {
  const box = $("backtime");
  box.textContent = backtime ? backtime.line : "";
  box.className = "backtime" + (backtime ? (backtime.fits ? "" : " misses") + (backtime.over > 0.05 ? " over" : backtime.over < -0.05 ? " under" : "") : "");
}

function scheduleBacktime() {
  if (!S.story || !S.story.backtime) return;
  clearTimeout(S.backtimeTimer);
  S.backtimeTimer = setTimeout(async () => {
    const { ok, data } = await api("/api/backtime", S.edits);
    if (ok && data.backtime) showBacktime(data.backtime);
    if (ok && data.estimated_s) $("total").textContent = `estimated ${clock(data.estimated_s)}`;
  }, 250);
}

function chooseVoice(member, value) {
  if (value === member.voice) delete S.edits.voices[member.id];
  else S.edits.voices[member.id] = value;
  markDirty();
  scheduleBacktime();
  if (member.first_line) {  // audition the voice on the member's first line
    select(member.first_line);
    play(member.first_line);
  }
}

function showProblems(problems) {
  document.querySelectorAll(".inline-errors").forEach((box) => box.replaceChildren());
  document.querySelectorAll(".segment.has-error").forEach((r) => r.classList.remove("has-error"));
  const general = [];
  for (const p of problems) {
    const box = p.segment ? rowOf(p.segment)?.querySelector(".inline-errors") : null;
    const shown = el("div", { class: "error", "data-testid": "error", text: p.text });
    if (box) { box.append(shown); rowOf(p.segment).classList.add("has-error"); }
    else general.push(shown);
  }
  $("errors").replaceChildren(...general);
}

function showError(text) {
  $("errors").replaceChildren(el("div", { class: "error", "data-testid": "error", text }));
}

async function save() {
  if (!dirty()) { notice("Nothing to save."); return true; }
  $("save").disabled = true;
  try {
    const { status, data } = await api("/api/save", { version: S.version, ...S.edits });
    if (status === 200) {
      await load(`Saved ${S.story.file}.`);
      return true;
    }
    if (status === 409) {
      await load(`${S.story.file} changed on disk since this page loaded it, so it was not overwritten: `
        + "the page now shows the file as it is. Make your edits again.");
      showError(data.error);
      return false;
    }
    if (data.problems) showProblems(data.problems);
    else showError(data.error || `save failed (${status})`);
    notice("Not saved: the story would not load with these edits.");
    return false;
  } finally {
    $("save").disabled = false;
  }
}

// -- playing takes --------------------------------------------------------------------------

function setPlaying(index) {
  document.querySelectorAll(".segment.playing").forEach((r) => {
    r.classList.remove("playing");
    const b = r.querySelector(".play");
    b.textContent = "▶"; b.setAttribute("aria-pressed", "false");
  });
  S.playing = index;
  const row = index === null ? null : rowOf(index);
  if (row) {
    row.classList.add("playing");
    const b = row.querySelector(".play");
    b.textContent = "■"; b.setAttribute("aria-pressed", "true");
  }
  $("now-playing").textContent = index === null ? "" : `▶ playing segment ${index}`;
}

function stop() {
  S.playRequest++;
  $("player").pause();
  setPlaying(null);
}

function togglePlay(index) {
  if (S.playing === index) stop();
  else play(index);
}

async function play(index, fromS = 0) {
  const request = ++S.playRequest;
  $("player").pause();
  setPlaying(index);
  $("now-playing").textContent = `… making segment ${index}`;
  const { ok, data } = await api("/api/take", { index, ...S.edits });
  if (request !== S.playRequest) return;
  if (!ok) {
    setPlaying(null);
    if (data.problems) showProblems(data.problems); else showError(data.error || "the take could not be made");
    return;
  }
  S.taken[index] = data.duration_s;
  showDuration(index, data.duration_s, false);
  S.takeWords[index] = data.words;
  showWords(index, data.words, "take");
  const player = $("player");
  if (player.dataset.src !== data.url) { player.src = data.url; player.dataset.src = data.url; }
  player.currentTime = fromS;
  $("now-playing").textContent = `▶ playing segment ${index}`;
  try { await player.play(); } catch (e) { setPlaying(null); showError(`the browser would not play it: ${e.message}`); }
}

// -- words: the one being said is highlighted; a click plays from it -------------------------

function showWords(index, words, source) {
  const box = rowOf(index)?.querySelector(".words");
  if (!box || !words) return;
  box.dataset.source = source;
  box.replaceChildren(...words.map((w, i) => el("span", { class: "word", "data-testid": `word-${index}-${i}`,
    title: `${w.start.toFixed(2)} s`, text: w.word,
    onclick: (e) => { e.stopPropagation(); select(index, false); playWord(index, i); } })));
}

// where a click on a word starts: a little inside it, since a browser's seek in a compressed
// file can land a frame (26 ms of MP3) early, in the word before
function into(word) {
  return word.start + Math.min(0.05, (word.end - word.start) / 2);
}

function playWord(index, i) {
  const r = S.render?.result;
  const rendered = r && !S.render.stale ? r.segments.find((s) => s.index === index && s.words) : null;
  if (rendered && rowOf(index).querySelector(".words").dataset.source === "master") {
    stop();
    const master = $("master");
    master.currentTime = into(rendered.words[i]);
    master.play();
  } else {
    play(index, S.takeWords[index] ? into(S.takeWords[index][i]) : 0);
  }
}

function spokenNow() {
  const player = $("player"), master = $("master");
  if (S.playing !== null && !player.paused && S.takeWords[S.playing]) {
    return { index: S.playing, words: S.takeWords[S.playing], t: player.currentTime };
  }
  const r = S.render?.result;
  if (r && !master.paused) {
    const t = master.currentTime;
    const s = r.segments.find((x) => x.words && x.start <= t && t <= x.end);
    if (s) return { index: s.index, words: s.words, t };
  }
  return null;
}

function highlight() {
  const now = spokenNow();
  let id = null;
  if (now) {
    let i = -1;
    while (i + 1 < now.words.length && now.words[i + 1].start <= now.t) i++;
    if (i >= 0) id = `word-${now.index}-${i}`;
  }
  if (id !== S.spoken) {
    document.querySelectorAll(".word.spoken").forEach((w) => w.classList.remove("spoken"));
    const span = id && document.querySelector(`[data-testid="${id}"]`);
    if (span) span.classList.add("spoken");
    S.spoken = span ? id : null;
  }
  requestAnimationFrame(highlight);
}

// -- render ---------------------------------------------------------------------------------

async function startRender() {
  if (dirty() && !(await save())) return;
  $("render").disabled = true;
  const { status, data } = await api("/api/render", {});
  if (status === 202 || status === 409) showRender(data);
  else { $("render").disabled = false; showError(data.error || `render failed (${status})`); }
}

const STAGES = { load: "loading", cast: "casting", synthesize: "synthesizing", arrange: "arranging",
  mix: "mixing", master: "mastering", encode: "encoding" };

function showRender(status) {
  if (!status) return;
  S.render = status;
  const box = $("render-status");
  box.classList.toggle("done", status.state === "done");
  box.classList.toggle("failed", status.state === "error");
  $("progress-bar").style.width = `${Math.round(status.fraction * 100)}%`;
  $("render").disabled = status.state === "running";
  if (status.state === "running") {
    const takes = status.stage === "synthesize" && status.takes_total ? ` ${status.takes_done}/${status.takes_total}` : "";
    box.textContent = `${STAGES[status.stage] || status.stage}${takes}…`;
  } else if (status.state === "error") {
    box.textContent = `render failed: ${status.error}`;
  } else if (status.state === "done") {
    const r = status.result;
    box.textContent = `done in ${r.seconds.toFixed(1)} s` + (status.stale ? " (the story changed since)" : "");
    showResult(r, status.stale);
  } else {
    box.textContent = "not rendered yet";
  }
}

function showResult(r, stale) {
  $("result").hidden = false;
  $("m-duration").textContent = clock(r.duration_s);
  $("m-lufs").textContent = `${r.integrated_lufs.toFixed(1)} LUFS` + (r.target_lufs !== null ? ` (target ${r.target_lufs})` : "");
  $("m-peak").textContent = `${r.true_peak_dbtp.toFixed(1)} dBTP`;
  for (const ext of ["wav", "mp3", "json", "vtt", "srt", "transcript.json"]) {
    const link = $(`download-${ext.replace(".json", "")}`);

    link.hidden = !r.urls[ext];
    if (r.urls[ext]) { link.href = r.urls[ext]; link.setAttribute("download", r.files[ext]); }
  }
  const master = $("master");
  const source = r.urls.mp3 || r.urls.wav;
  if (master.dataset.src !== source + r.seconds) { master.src = source; master.dataset.src = source + r.seconds; }
  if (!stale) for (const s of r.segments) showDuration(s.index, s.end - s.start, true);
  if (!stale) for (const s of r.segments) if (s.words && !S.takeWords[s.index]) showWords(s.index, s.words, "master");
  drawWaveform(r);
}

const KIND_COLOURS = { speech: "#4dabf7", sting: "#da77f2", pause: "#868e96", clip: "#ffa94d" };

function drawWaveform(r) {
  const canvas = $("waveform");
  const width = canvas.clientWidth || 1000, height = canvas.clientHeight || 120;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio; canvas.height = height * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const x = (t) => (t / r.duration_s) * width;
  for (const s of r.segments) {  // segment spans, coloured by kind, numbered
    g.fillStyle = KIND_COLOURS[s.kind] || "#868e96";
    g.globalAlpha = 0.16;
    g.fillRect(x(s.start), 0, Math.max(1, x(s.end) - x(s.start)), height);
    g.globalAlpha = 0.9;
    g.fillRect(x(s.start), 0, 1, height);
    g.font = "10px system-ui, sans-serif";
    if (x(s.end) - x(s.start) > 14) g.fillText(String(s.index), x(s.start) + 3, 11);
  }
  g.globalAlpha = 1;
  g.fillStyle = "#e9ecef";
  const mid = height / 2 + 6, scale = (height - 16) / 2;
  const n = r.peaks.length;
  for (let i = 0; i < n; i++) {
    const [low, high] = r.peaks[i];
    const left = (i / n) * width;
    g.fillRect(left, mid - high * scale, Math.max(1, width / n), Math.max(1, (high - low) * scale));
  }
  const master = $("master");
  if (!master.paused || master.currentTime > 0) {
    g.fillStyle = "#ff8a4c";
    g.fillRect(x(master.currentTime), 0, 2, height);
  }
}

// -- events from the server -------------------------------------------------------------------

function follow() {
  const source = new EventSource("/api/events");
  source.addEventListener("story", (e) => {
    const { version } = JSON.parse(e.data);
    if (version === S.version) return;
    if (dirty()) notice(`${S.story.file} changed on disk. Saving will not overwrite it: save reloads the file instead.`);
    else load(`${S.story.file} changed on disk: reloaded.`);
  });
  source.addEventListener("render", (e) => {
    const status = JSON.parse(e.data);
    const finished = status.state !== "running" && S.render && S.render.state === "running";
    showRender(status);
    if (finished && status.state === "done") notice("Render done.");
  });
}

// -- keyboard ---------------------------------------------------------------------------------

function onKey(e) {
  if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); return; }
  const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(e.target.tagName);
  if (typing) { if (e.key === "Escape") e.target.blur(); return; }
  const all = segments().map((s) => s.index);
  const at = all.indexOf(S.selected);
  if (e.key === " " || e.code === "Space") {
    e.preventDefault();
    if (S.selected !== null) togglePlay(S.selected);
  } else if (e.key === "ArrowDown" && at < all.length - 1) {
    e.preventDefault(); select(all[at + 1]);
  } else if (e.key === "ArrowUp" && at > 0) {
    e.preventDefault(); select(all[at - 1]);
  }
}

function start() {
  if (location.search.includes("token=")) history.replaceState(null, "", location.pathname);  // the cookie has it now
  $("save").addEventListener("click", save);
  $("render").addEventListener("click", startRender);
  $("player").addEventListener("ended", () => setPlaying(null));
  const master = $("master");
  master.addEventListener("timeupdate", () => S.render?.result && drawWaveform(S.render.result));
  $("waveform").addEventListener("click", (e) => {
    const r = S.render?.result;
    if (!r) return;
    const box = e.target.getBoundingClientRect();
    master.currentTime = ((e.clientX - box.left) / box.width) * r.duration_s;
    master.play();
  });
  window.addEventListener("resize", () => S.render?.result && drawWaveform(S.render.result));
  document.addEventListener("keydown", onKey);
  // Space on a focused button is ours (play/stop), not also that button's click
  document.addEventListener("keyup", (e) => { if (e.key === " " && e.target.tagName === "BUTTON") e.preventDefault(); });
  $("master").addEventListener("play", () => {
    // the bulletin's own words where it is heard, not a take's
    for (const s of S.render?.result?.segments || []) if (s.words && !S.render.stale) showWords(s.index, s.words, "master");
  });
  requestAnimationFrame(highlight);
  load().then(follow);

}

document.addEventListener("DOMContentLoaded", start);
