// The go-live page: camera and microphone preview, device pickers, going live, the
// publish socket /ws/b/<slug>/publish/ (reconnecting with a fresh init segment), the
// live controls of a phone broadcaster (other camera, mute, screen kept on, a word when
// the page goes to the background), and the end: ask first, let go of the camera, sum
// up. Recording and the weak-uplink ladder are in publisher_recording.js.
//
// Switching cameras gives the recorder a new stream (a new recorder: see
// publisher_recording.js). Muting only disables the audio track: the recording goes on,
// silent.

import {
  backlogBytes,
  MIME,
  startRecorder as startRecording,
  stopRecorder as stopRecording,
  watchUplink,
} from "./publisher_recording.js";
import { createDevices } from "./publisher_devices.js";
import { copyText, fill, formatClock, screenWakeLock } from "./publisher_tools.js";

const NOTE_MS = 15000; // how long a passing note ("Copied", "You are back") stays

const root = document.querySelector("[data-go-live]");
const strings = JSON.parse(document.getElementById("publisher-strings").textContent);
const $ = (selector) => root.querySelector(selector);

const ui = {
  preview: $("[data-preview]"),
  previewStatus: $("[data-preview-status]"),
  form: $("[data-go-live-form]"),
  camera: $("[data-camera]"),
  microphone: $("[data-microphone]"),
  goButton: $("[data-go-button]"),
  goBlocked: $("[data-go-blocked]"),
  retryRow: $("[data-retry-row]"),
  retryButton: $("[data-retry]"),
  liveControls: $("[data-live-controls]"),
  muteButton: $("[data-mute]"),
  mutedBadge: $("[data-muted-badge]"),
  switchButton: $("[data-switch-camera]"),
  endButton: $("[data-end-button]"),
  endDialog: document.querySelector("[data-end-dialog]"),
  endConfirm: document.querySelector("[data-end-confirm]"),
  endCancel: document.querySelector("[data-end-cancel]"),
  takeOverRow: $("[data-take-over-row]"),
  takeOverButton: $("[data-take-over]"),
  notice: $("[data-notice]"),
  warning: $("[data-warning]"),
  away: $("[data-away]"),
  livePanel: $("[data-live-panel]"),
  liveTitle: $("[data-live-title]"),
  stats: $("[data-stats]"),
  elapsed: $("[data-elapsed]"),
  viewers: $("[data-viewers]"),
  bitrate: $("[data-bitrate]"),
  connection: $("[data-connection]"),
  watchLink: $("[data-watch-link]"),
  copyButton: $("[data-copy-link]"),
  copyStatus: $("[data-copy-status]"),
  xpost: $("[data-xpost-status]"),
  summary: $("[data-summary]"),
};

const params = new URLSearchParams(location.search);
const PAGE_TITLE = document.title;

const state = {
  // MediaRecorder's timeslice in ms (benches set ?timeslice=)
  timeslice: Number(params.get("timeslice")) || Number(root.dataset.timeslice) || 100,
  stream: null,
  broadcast: null, // {slug, title, publish_path, end_url, api_url, watch_url, started_at}
  ws: null,
  accepted: false, // the server said "ready" on the current socket
  recorder: null,
  generation: 0,
  session: (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)).slice(0, 36),
  finished: false,
  retries: 0,
  ladder: 0,
  skipping: false,
  lastDowngrade: 0,
  calmSince: 0,
  sentBytes: 0,
  socketSent: 0, // media bytes sent on the current socket
  serverReceived: 0, // ...and how many of them the server reports as arrived
  rateWindow: [],
  sendChain: Promise.resolve(),
  xpost: null,
  muted: false,
  peakViewers: 0,
  awaySince: 0,
  timers: {},
  recorders: 0, // recorders started so far (a camera switch starts one)
};
root.publisher = state; // read-only, for tests and benches

const wakeLock = screenWakeLock((held) => {
  root.dataset.wakeLock = held ? "held" : "released";
});
state.wakeLock = wakeLock;

function say(message, kind = "info") {
  ui.notice.textContent = message || "";
  ui.notice.hidden = !message;
  ui.notice.dataset.kind = kind;
  delete ui.notice.dataset.about;
}

function warn(message) {
  ui.warning.textContent = message || "";
  ui.warning.hidden = !message;
}

// A message that clears itself after a while (`key` names its timer). A live region that
// stays in the page (`hide` false) is announced more surely than one that appears.
function note(element, message, key, { hide = true } = {}) {
  clearTimeout(state.timers[key]);
  element.textContent = message || "";
  if (hide) element.hidden = !message;
  if (message) state.timers[key] = setTimeout(() => note(element, "", key, { hide }), NOTE_MS);
}

function setConnection(key) {
  root.dataset.connection = key;
  ui.connection.textContent = strings[key] || key;
}

function supported() {
  return Boolean(
    window.MediaRecorder &&
      MediaRecorder.isTypeSupported(MIME) &&
      navigator.mediaDevices?.getUserMedia &&
      window.WebSocket,
  );
}

const live = () => Boolean(state.broadcast) && !state.finished && !ui.livePanel.hidden;
const startRecorder = () => startRecording(state);
const stopRecorder = () => stopRecording(state);
const { acquire, blockGoing, followPermission, releaseDevices, setMuted, switchCamera } =
  createDevices({ root, ui, strings, state, say, warn, startRecorder, stopRecorder });


// --- going live ------------------------------------------------------------------
async function goLive(event) {
  event.preventDefault();
  if (!state.stream && !(await acquire())) return;
  ui.goButton.disabled = true;
  setConnection("starting");
  const response = await fetch(ui.form.action, {
    method: "POST",
    body: new FormData(ui.form),
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  }).catch(() => null);
  if (!response || response.status !== 201) {
    const body = response ? await response.json().catch(() => ({})) : {};
    // Restricted: the page itself says until when and why.
    if (body.code === "restricted") return location.reload();
    say(strings[body.code] || strings.start_failed, "error");
    ui.goButton.disabled = false;
    setConnection("ready");
    return;
  }
  // Reload as the page of a live broadcast (with its chat), which starts sending at once.
  const broadcast = await response.json();
  const next = new URLSearchParams({ autostart: broadcast.slug });
  if (params.get("timeslice")) next.set("timeslice", params.get("timeslice"));
  location.assign(`${ui.form.action}?${next}`);
}

function begin(broadcast, takeover) {
  state.broadcast = broadcast;
  state.finished = false;
  root.dataset.slug = broadcast.slug;
  root.dataset.phase = "live";
  ui.form.hidden = true;
  ui.livePanel.hidden = false;
  ui.liveControls.hidden = false;
  ui.endButton.hidden = false;
  ui.liveTitle.textContent = broadcast.title;
  ui.watchLink.href = broadcast.watch_url;
  ui.watchLink.textContent = broadcast.watch_url;
  openSocket(takeover);
}

function showTakeOver(shown) {
  ui.takeOverRow.hidden = !shown;
}

function openSocket(takeover) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = `?session=${encodeURIComponent(state.session)}${takeover ? "&takeover=1" : ""}`;
  const ws = new WebSocket(`${scheme}//${location.host}${state.broadcast.publish_path}${query}`);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  state.accepted = false;
  state.socketSent = 0;
  state.serverReceived = 0;
  setConnection(state.retries ? "reconnecting" : "connecting");
  let refused = false;
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "ready":
        state.retries = 0;
        state.accepted = true;
        if (message.started_at) state.broadcast.started_at = message.started_at;
        showTakeOver(false);
        say("");
        setConnection("live");
        startRecorder();
        wakeLock.hold();
        if (message.viewers !== undefined) showViewers(message.viewers);
        break;
      case "viewers":
        showViewers(message.count);
        break;
      case "received":
        if (state.ws === ws) state.serverReceived = message.bytes;
        break;
      case "x_post":
        ui.xpost.hidden = false;
        state.xpost?.renderXPostStatus(ui.xpost, message);
        ui.xpost.dataset.state = message.state || "";
        break;
      case "ended":
        finish(message.reason);
        break;
      case "error":
        refused = true;
        handleError(message.code, message.reason);
        break;
      default:
        break;
    }
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.accepted = false;
    stopRecorder();
    if (state.finished || refused) return;
    setConnection("reconnecting");
    say(strings.reconnecting, "error");
    const delay = Math.min(4000, 250 * 2 ** state.retries++);
    // The same tab (same session) takes its broadcast back at once.
    setTimeout(() => !state.finished && openSocket(false), delay);
  };
}

function showViewers(count) {
  ui.viewers.textContent = count;
  state.peakViewers = Math.max(state.peakViewers, Number(count) || 0);
}

function handleError(code, reason) {
  if (code === "already_publishing") {
    say(strings.already_publishing, "error");
    showTakeOver(true);
    setConnection("ready");
  } else if (code === "taken_over") {
    say(strings.taken_over, "error");
    setConnection("ready");
  } else if (code === "not_live") {
    finish(reason); // ended meanwhile, maybe removed: say why
  } else if (code === "restricted") {
    location.reload(); // the page says until when and why
  } else {
    say(strings[code] || strings.start_failed, "error");
  }
}

// --- the end -----------------------------------------------------------------------
// Ended here, by the system or by staff: let go of the camera and microphone, keep the
// screen's lock no longer, show the summary, and tell the rest of the page (the chat).
function finish(reason = "owner", summary = null) {
  if (state.finished) {
    // The socket said "ended" before the End button's answer came: use its figures.
    if (summary) showFigures(summary);
    return;
  }
  state.finished = true;
  state.accepted = false;
  stopRecorder();
  state.ws?.close();
  releaseDevices();
  wakeLock.release();
  clearAway();
  ui.previewStatus.textContent = strings.camera_off;
  ui.previewStatus.hidden = false;
  ui.liveControls.hidden = true;
  ui.livePanel.hidden = true;
  showTakeOver(false);
  setConnection("ended");
  root.dataset.phase = "ended";
  // Ended by moderation or by the system: say why ("ended_removed", ...).
  const why = strings[`ended_${reason}`];
  say(why || "", "error");
  warn("");
  showSummary(summary);
  root.dataset.ended = "true";
  document.dispatchEvent(new CustomEvent("onair:ended", { detail: { reason } }));
}

async function showSummary(summary) {
  const broadcast = state.broadcast;
  ui.summary.hidden = false;
  $("[data-summary-of]").textContent = fill(strings.summary_of, { title: broadcast.title });
  const started = Date.parse(broadcast.started_at || "");
  fillSummary({
    duration_s: Number.isNaN(started) ? 0 : (Date.now() - started) / 1000,
    peak_viewers: 0,
    chat_messages: null,
  });
  const known = summary || (await fetchSummary(broadcast));
  if (known) showFigures(known);
  else if (root.dataset.summary !== "ready") root.dataset.summary = "local";
}

function showFigures(summary) {
  fillSummary(summary);
  root.dataset.summary = "ready";
}

async function fetchSummary(broadcast) {
  try {
    const response = await fetch(broadcast.api_url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    return response.ok ? (await response.json()).summary || null : null;
  } catch {
    return null;
  }
}

function fillSummary({ duration_s: duration, peak_viewers: peak, chat_messages: messages }) {
  $("[data-summary-duration]").textContent = formatClock(duration);
  $("[data-summary-peak]").textContent = Math.max(peak || 0, state.peakViewers);
  $("[data-summary-messages]").textContent = messages ?? "–";
}

function askToEnd() {
  if (typeof ui.endDialog.showModal === "function") ui.endDialog.showModal();
  else if (window.confirm(ui.endDialog.querySelector("h2").textContent)) end();
}

async function end() {
  ui.endConfirm.disabled = true;
  const token = ui.form.querySelector("[name=csrfmiddlewaretoken]").value;
  const response = await fetch(state.broadcast.end_url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": token, Accept: "application/json" },
  }).catch(() => null);
  const body = response?.ok ? await response.json().catch(() => ({})) : null;
  ui.endConfirm.disabled = false;
  if (ui.endDialog.open) ui.endDialog.close();
  if (!body) {
    say(strings.end_failed, "error");
    return;
  }
  finish("owner", body.summary || null);
  $("[data-summary-title]").focus(); // from the closed dialog to what it did
}

// --- copy the watch link --------------------------------------------------------------
async function copyLink() {
  const copied = await copyText(state.broadcast.watch_url);
  root.dataset.copied = String(copied);
  note(ui.copyStatus, copied ? strings.copied : strings.copy_failed, "copy", { hide: false });
  if (!copied) getSelection().selectAllChildren(ui.watchLink);
}

// --- the page in the background ----------------------------------------------------
// A phone pauses the camera of a page it hides: say what viewers see and what happens
// next, and on the way back, how long it lasted (and get the camera back if it ended).
function onVisibility() {
  if (!live()) return;
  if (document.visibilityState === "hidden") {
    state.awaySince = Date.now();
    clearTimeout(state.timers.away);
    ui.away.textContent = strings.away;
    ui.away.hidden = false;
    root.dataset.away = "true";
    document.title = `● ${strings.title_away} · ${PAGE_TITLE}`;
    return;
  }
  if (!state.awaySince) return;
  const seconds = Math.round((Date.now() - state.awaySince) / 1000);
  state.awaySince = 0;
  document.title = PAGE_TITLE;
  root.dataset.away = "false";
  note(ui.away, fill(strings.back, { seconds }), "away");
  if (state.stream?.getTracks().some((track) => track.readyState === "ended")) acquire();
}

function clearAway() {
  state.awaySince = 0;
  note(ui.away, "", "away");
  document.title = PAGE_TITLE;
}


function updateStats() {
  if (!state.broadcast?.started_at || state.finished) return;
  ui.elapsed.textContent = formatClock((Date.now() - Date.parse(state.broadcast.started_at)) / 1000);
  const onWire = state.sentBytes - backlogBytes(state);
  state.rateWindow.push([performance.now(), onWire]);
  if (state.rateWindow.length > 5) state.rateWindow.shift();
  const [t0, b0] = state.rateWindow[0];
  const [t1, b1] = state.rateWindow[state.rateWindow.length - 1];
  if (t1 > t0) ui.bitrate.textContent = `${Math.max(0, Math.round(((b1 - b0) * 8) / (t1 - t0)))} kbit/s`;
}

// --- start -----------------------------------------------------------------------
function listen() {
  ui.form.addEventListener("submit", goLive);
  ui.retryButton.addEventListener("click", acquire);
  ui.endButton.addEventListener("click", askToEnd);
  ui.endConfirm.addEventListener("click", end);
  ui.endCancel.addEventListener("click", () => ui.endDialog.close());
  ui.muteButton.addEventListener("click", () => setMuted(!state.muted));
  ui.switchButton.addEventListener("click", switchCamera);
  ui.copyButton.addEventListener("click", copyLink);
  ui.takeOverButton.addEventListener("click", () => {
    showTakeOver(false);
    if (ui.livePanel.hidden) begin(state.broadcast, true);
    else openSocket(true);
  });
  ui.camera.addEventListener("change", acquire);
  ui.microphone.addEventListener("change", acquire);
  document.addEventListener("visibilitychange", onVisibility);
  setInterval(() => watchUplink(state, (key) => warn(strings[key] || "")), 250);
  setInterval(updateStats, 1000);
}

async function main() {
  if (!supported()) {
    blockGoing(strings.unsupported, "unsupported");
    ui.goBlocked.hidden = true; // the notice says it all: no camera will fix it
    return;
  }
  if (root.dataset.xpostModule) {
    state.xpost = await import(root.dataset.xpostModule).catch(() => null);
  }
  setConnection("ready");
  listen();
  followPermission();
  await acquire();
  const resumeEl = document.getElementById("live-broadcast");
  const resume = resumeEl ? JSON.parse(resumeEl.textContent) : null;
  if (resume) {
    // Already live (another tab, or this one reloaded): offer to send from here.
    state.broadcast = resume;
    if (params.get("autostart") === resume.slug) {
      history.replaceState(null, "", ui.form.action);
      begin(resume, false);
    } else {
      say(strings.resume);
      showTakeOver(true);
    }
  }
}

main();
