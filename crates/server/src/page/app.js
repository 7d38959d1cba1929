// singerid's page: plain JavaScript over the JSON API (docs/server.md). Every text from the
// server goes in through textContent, never as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

// A stable colour per singer name.
function colour(name) {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.codePointAt(0), 16777619) >>> 0;
  // Golden-angle steps spread neighbouring hashes around the colour wheel.
  return `hsl(${Math.round((h % 1000) * 137.508) % 360} 62% 46%)`;
}

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// fetch -> JSON, turning {"error": ...} answers into exceptions with the server's message.
async function api(path, options) {
  const response = await fetch(path, options);
  let body;
  try {
    body = await response.json();
  } catch (e) {
    throw new Error(`${response.status} ${response.statusText}`);
  }
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    throw new Error(body.error + (retry ? ` (retry in ${retry} s)` : ""));
  }
  return body;
}

function say(id, text, isError) {
  const m = $(id);
  m.textContent = text;
  m.classList.toggle("error", !!isError);
}

async function refreshStatus() {
  try {
    const h = await api("/api/health");
    $("status").textContent =
      `model ${h.model} · ${h.singers} singers · ${h.recordings} recordings in the library`;
  } catch (e) {
    $("status").textContent = `server unreachable: ${e.message}`;
  }
}

// ---- Identify -------------------------------------------------------------------------

async function identify(file) {
  say("identify-message", `Listening to ${file.name}…`);
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const answer = await api("/api/identify", { method: "POST", body: form });
    showResult(answer);
    say("identify-message", `${file.name}: ${answer.files[0].duration_s.toFixed(1)} s analysed.`);
  } catch (e) {
    $("result").hidden = true;
    say("identify-message", e.message, true);
    throw e;
  }
}

function showResult(answer) {
  const r = answer.files[0];
  $("result").hidden = false;
  $("singer").textContent = r.singer;
  $("singer").style.color = r.singer === "unknown" ? "var(--muted)" : colour(r.singer);
  // An embedding model answers by profiles: its numbers are cosine similarities.
  const detail = r.unknown_reason
    ? `${r.unknown_reason}; best guess ${r.best_guess}`
    : r.by_profiles
      ? `closest profile, cosine similarity ${r.confidence.toFixed(3)}; ${r.votes} of ${r.counted} clips nearest to it` +
        (r.decided_by === "enrolled" ? " (an enrolled singer)" : "")
      : `confidence ${(100 * r.confidence).toFixed(0)} %, ${r.votes} of ${r.counted} clip votes` +
        (r.decided_by === "enrolled" ? " (an enrolled singer)" : "");
  $("answer-detail").textContent = detail;

  const candidates = $("candidates");
  candidates.replaceChildren();
  for (const t of r.top) {
    const row = el("div", { class: "bar" });
    row.append(el("span", {}, t.singer));
    const track = el("div", { class: "track" });
    const fill = el("div", { class: "fill" });
    fill.style.width = `${(100 * t.probability).toFixed(1)}%`;
    fill.style.background = colour(t.singer);
    track.append(fill);
    const value = r.by_profiles ? t.probability.toFixed(3) : `${(100 * t.probability).toFixed(1)} %`;
    row.append(track, el("span", { class: "value" }, value));
    candidates.append(row);
  }
  for (const m of r.enrolled || []) {
    const row = el("div", { class: "bar" });
    row.append(el("span", {}, `${m.singer} (enrolled)`));
    const track = el("div", { class: "track" });
    const fill = el("div", { class: "fill" });
    fill.style.width = `${Math.max(0, 100 * m.similarity).toFixed(1)}%`;
    fill.style.background = colour(m.singer);
    track.append(fill);
    row.append(track, el("span", { class: "value" }, `cos ${m.similarity.toFixed(2)}`));
    candidates.append(row);
  }

  const similar = $("similar-singers");
  similar.replaceChildren();
  if (!answer.similar_singers.length) {
    similar.append(el("li", { class: "muted" }, "none yet: enrol singers or scan recordings"));
  }
  for (const s of answer.similar_singers) {
    similar.append(el("li", {}, `${s.name} (${s.detail}), distance ${s.distance.toFixed(3)}`));
  }
  drawTimeline(r);
}

// One lane per singer named on some clip; each clip a block in its singer's lane, its
// opacity the clip's probability.
function drawTimeline(r) {
  const lanes = [];
  for (const c of r.clips) if (!lanes.includes(c.singer)) lanes.push(c.singer);
  const end = Math.max(r.duration_s, ...r.clips.map((c) => c.end_s), 1);
  const W = 900, left = 110, right = 20, laneH = 34, top = 10, axisH = 30;
  const H = top + lanes.length * laneH + axisH;
  const x = (t) => left + (t / end) * (W - left - right);
  const chart = svg("svg", {
    id: "timeline", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": "who sings when", "data-clips": r.clips.length,
  });
  lanes.forEach((name, i) => {
    const y = top + i * laneH;
    chart.append(svg("rect", { x: left, y, width: W - left - right, height: laneH - 6, fill: "#f4f6fa" }));
    chart.append(svg("text", { x: left - 8, y: y + laneH / 2, "text-anchor": "end", "font-size": 13, fill: "#1d2430" }, name));
  });
  for (const c of r.clips) {
    const y = top + lanes.indexOf(c.singer) * laneH;
    const block = svg("rect", {
      class: "clip", x: x(c.start_s), y, width: Math.max(2, x(c.end_s) - x(c.start_s) - 2),
      height: laneH - 6, rx: 3, fill: colour(c.singer), "fill-opacity": 0.3 + 0.7 * c.probability,
    });
    block.append(svg("title", {}, `${c.start_s.toFixed(1)}-${c.end_s.toFixed(1)} s: ${c.singer} ${(100 * c.probability).toFixed(0)} %`));
    chart.append(block);
    if (x(c.end_s) - x(c.start_s) > 44) {
      chart.append(svg("text", {
        x: (x(c.start_s) + x(c.end_s)) / 2, y: y + laneH / 2, "text-anchor": "middle",
        "font-size": 11, fill: "#fff",
      }, `${(100 * c.probability).toFixed(0)} %`));
    }
  }
  const axisY = top + lanes.length * laneH + 4;
  chart.append(svg("line", { x1: left, x2: W - right, y1: axisY, y2: axisY, stroke: "#687386" }));
  const step = niceStep(end);
  for (let t = 0; t <= end + 1e-9; t += step) {
    chart.append(svg("line", { x1: x(t), x2: x(t), y1: axisY, y2: axisY + 5, stroke: "#687386" }));
    chart.append(svg("text", { x: x(t), y: axisY + 18, "text-anchor": "middle", "font-size": 11, fill: "#687386" }, `${+t.toFixed(1)} s`));
  }
  $("timeline-box").replaceChildren(chart);
}

function niceStep(span) {
  const raw = span / 8;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || raw;
}

// ---- Map -------------------------------------------------------------------------------

async function refreshMap() {
  let map;
  try {
    map = await api("/api/map");
  } catch (e) {
    $("map-note").textContent = `the map failed: ${e.message}`;
    return;
  }
  const box = $("map-box");
  const points = [...map.singers, ...map.recordings];
  if (!points.length) {
    box.replaceChildren(el("p", { class: "muted" }, "The library is empty: enrol a singer (below) or run singerid scan."));
    return;
  }
  const W = 900, H = 420, pad = 30, labelRoom = 110;
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (v) => pad + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * pad - labelRoom);
  const sy = (v) => H - pad - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  const chart = svg("svg", { id: "map", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "map of the library's singers" });
  chart.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#fbfcfe" }));
  const tip = $("map-tip");
  const hover = (node, text) => {
    node.append(svg("title", {}, text));
    node.addEventListener("mousemove", (ev) => {
      tip.hidden = false;
      tip.textContent = text;
      tip.style.left = `${ev.clientX + 12}px`;
      tip.style.top = `${ev.clientY + 12}px`;
    });
    node.addEventListener("mouseleave", () => { tip.hidden = true; });
  };
  for (const r of map.recordings) {
    const dot = svg("circle", { class: "recording", cx: sx(r.x), cy: sy(r.y), r: 4, fill: colour(r.singer), "fill-opacity": 0.55 });
    hover(dot, `${r.name} (#${r.id}): the model says ${r.singer}`);
    chart.append(dot);
  }
  for (const s of map.singers) {
    const g = svg("g", { class: "singer" });
    const mark = s.kind === "enrolled"
      ? svg("rect", { x: sx(s.x) - 8, y: sy(s.y) - 8, width: 16, height: 16, fill: colour(s.name), stroke: "#1d2430", "stroke-width": 1.5 })
      : svg("circle", { cx: sx(s.x), cy: sy(s.y), r: 9, fill: colour(s.name), stroke: "#1d2430", "stroke-width": 1.5 });
    g.append(mark, svg("text", { x: sx(s.x) + 12, y: sy(s.y) + 4, "font-size": 12, fill: "#1d2430" }, s.name));
    hover(g, `${s.name} (${s.kind})`);
    chart.append(g);
  }
  box.replaceChildren(chart);
  $("map-note").textContent =
    `${map.singers.length} singers (circles: trained, squares: enrolled) and ${map.recordings.length} recordings; ` +
    `PCA axes explain ${(100 * map.explained[0]).toFixed(0)} % and ${(100 * map.explained[1]).toFixed(0)} % of the variance. Hover for names.`;
}

// ---- Enrol -----------------------------------------------------------------------------

let enrolFiles = [];

async function enrol(event) {
  event.preventDefault();
  const name = $("enrol-name").value.trim();
  if (!name || !enrolFiles.length) {
    say("enrol-message", "Give a name and at least one recording.", true);
    return;
  }
  const form = new FormData();
  for (const f of enrolFiles) form.append("file", f, f.name);
  const button = document.querySelector("#enrol-form button");
  button.disabled = true;
  say("enrol-message", `Analysing ${enrolFiles.length} recording(s) of ${name}…`);
  try {
    const s = await api(`/api/singers/${encodeURIComponent(name)}/recordings`, { method: "POST", body: form });
    say("enrol-message", `${s.new_singer ? "Enrolled" : "Updated"} ${s.singer}: ${s.recordings} recording(s) in the profile.` +
      (s.enrol_threshold == null ? " This model has no calibrated threshold, so enrolled singers are listed but never chosen." : ""));
    enrolFiles = [];
    $("enrol-files").textContent = "Drop recordings here, or click to choose";
    await Promise.all([refreshSingers(), refreshMap(), refreshStatus()]);
  } catch (e) {
    say("enrol-message", e.message, true);
  } finally {
    button.disabled = false;
  }
}

async function refreshSingers() {
  try {
    const listing = await api("/api/singers");
    const list = $("singers");
    list.replaceChildren();
    for (const s of listing.singers) {
      const label = s.kind === "enrolled" ? `${s.name} · ${s.enrolled_recordings} rec.` : s.name;
      list.append(el("li", { class: s.kind }, label));
    }
  } catch (e) {
    say("enrol-message", e.message, true);
  }
}

// ---- Wiring ----------------------------------------------------------------------------

function dropZone(zone, input, onFiles) {
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    onFiles([...e.dataTransfer.files]);
  });
  input.addEventListener("change", () => onFiles([...input.files]));
}

// /?selftest=1: upload the server's test fixture as a user would (the browser test).
async function selfTest() {
  const response = await fetch("/test/fixture");
  if (!response.ok) throw new Error(`no test fixture (${response.status})`);
  const name = response.headers.get("X-Fixture-Name") || "fixture.mp3";
  await identify(new File([await response.blob()], name));
}

async function main() {
  dropZone($("identify-drop"), $("identify-input"), (files) => {
    if (files.length) identify(files[0]).catch(() => {});
  });
  dropZone($("enrol-drop"), $("enrol-input"), (files) => {
    enrolFiles = files;
    $("enrol-files").textContent = files.map((f) => f.name).join(", ") || "Drop recordings here, or click to choose";
  });
  $("enrol-form").addEventListener("submit", enrol);
  await Promise.all([refreshStatus(), refreshSingers(), refreshMap()]);
  if (new URLSearchParams(location.search).has("selftest")) {
    try {
      await selfTest();
      document.body.dataset.selftest = "done";
    } catch (e) {
      document.body.dataset.selftest = `failed: ${e.message}`;
    }
  }
}

main();
