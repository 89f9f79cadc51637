// The go-live page: camera and microphone preview, device pickers, then MediaRecorder
// WebM VP8/Opus chunks over /ws/b/<slug>/publish/. Reconnects with a fresh init segment,
// and adapts to a weak uplink by watching its backlog: what it sent on this socket minus
// what the server says has arrived (bufferedAmount alone stays at zero in Chromium until
// megabytes sit in the network stack's buffers).

const MIME = "video/webm;codecs=vp8,opus";
const BITRATES = [1_200_000, 700_000, 400_000, 200_000]; // video bits/s, best first
const AUDIO_BITRATE = 48_000;
const KEYFRAME_INTERVAL_MS = 1000;

const root = document.querySelector("[data-go-live]");
const strings = JSON.parse(document.getElementById("publisher-strings").textContent);
const $ = (selector) => root.querySelector(selector);

const ui = {
  preview: $("[data-preview]"),
  form: $("[data-go-live-form]"),
  camera: $("[data-camera]"),
  microphone: $("[data-microphone]"),
  goButton: $("[data-go-button]"),
  endButton: $("[data-end-button]"),
  takeOverButton: $("[data-take-over]"),
  notice: $("[data-notice]"),
  warning: $("[data-warning]"),
  stats: $("[data-stats]"),
  elapsed: $("[data-elapsed]"),
  viewers: $("[data-viewers]"),
  bitrate: $("[data-bitrate]"),
  connection: $("[data-connection]"),
  watchLink: $("[data-watch-link]"),
  xpost: $("[data-xpost-status]"),
};

const params = new URLSearchParams(location.search);
const TIMESLICE_MS = Number(params.get("timeslice")) || Number(root.dataset.timeslice) || 100;

const state = {
  stream: null,
  broadcast: null, // {slug, publish_path, end_url, watch_url, started_at}
  ws: null,
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
};
root.publisher = state; // read-only, for tests and benches

function say(message, kind = "info") {
  ui.notice.textContent = message || "";
  ui.notice.hidden = !message;
  ui.notice.dataset.kind = kind;
}

function warn(message) {
  ui.warning.textContent = message || "";
  ui.warning.hidden = !message;
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

// --- devices ---------------------------------------------------------------------
async function acquire() {
  const video = ui.camera.value ? { deviceId: { exact: ui.camera.value } } : {};
  const audio = ui.microphone.value ? { deviceId: { exact: ui.microphone.value } } : true;
  const constraints = {
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 }, ...video },
    audio,
  };
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    state.stream?.getTracks().forEach((track) => track.stop());
    state.stream = stream;
    ui.preview.srcObject = stream;
    ui.preview.play().catch(() => {});
    root.dataset.devices = "ready";
    say("");
    await listDevices();
    if (state.recorder) startRecorder(); // a new device while live: a fresh stream
    return true;
  } catch (error) {
    root.dataset.devices = "error";
    const byName = {
      NotAllowedError: "denied",
      SecurityError: "denied",
      NotFoundError: "missing",
      OverconstrainedError: "missing",
      NotReadableError: "busy",
    };
    say(strings[byName[error.name] || "device_error"], "error");
    return false;
  }
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const active = {
    videoinput: state.stream?.getVideoTracks()[0]?.getSettings().deviceId,
    audioinput: state.stream?.getAudioTracks()[0]?.getSettings().deviceId,
  };
  for (const [select, kind, label] of [
    [ui.camera, "videoinput", strings.camera],
    [ui.microphone, "audioinput", strings.microphone],
  ]) {
    select.replaceChildren();
    devices
      .filter((device) => device.kind === kind)
      .forEach((device, index) => {
        const option = document.createElement("option");
        option.value = device.deviceId;
        option.textContent = device.label || `${label} ${index + 1}`;
        option.selected = device.deviceId === active[kind];
        select.append(option);
      });
  }
}

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
  ui.form.hidden = true;
  ui.stats.hidden = false;
  ui.endButton.hidden = false;
  ui.watchLink.href = broadcast.watch_url;
  ui.watchLink.textContent = broadcast.watch_url;
  ui.watchLink.closest("[data-watch]").hidden = false;
  openSocket(takeover);
}

function openSocket(takeover) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = `?session=${encodeURIComponent(state.session)}${takeover ? "&takeover=1" : ""}`;
  const ws = new WebSocket(`${scheme}//${location.host}${state.broadcast.publish_path}${query}`);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  state.socketSent = 0;
  state.serverReceived = 0;
  setConnection(state.retries ? "reconnecting" : "connecting");
  let refused = false;
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "ready":
        state.retries = 0;
        if (message.started_at) state.broadcast.started_at = message.started_at;
        ui.takeOverButton.hidden = true;
        say("");
        setConnection("live");
        startRecorder();
        if (message.viewers !== undefined) ui.viewers.textContent = message.viewers;
        break;
      case "viewers":
        ui.viewers.textContent = message.count;
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
    stopRecorder();
    if (state.finished || refused) return;
    setConnection("reconnecting");
    say(strings.reconnecting, "error");
    const delay = Math.min(4000, 250 * 2 ** state.retries++);
    // The same tab (same session) takes its broadcast back at once.
    setTimeout(() => !state.finished && openSocket(false), delay);
  };
}

function handleError(code, reason) {
  if (code === "already_publishing") {
    say(strings.already_publishing, "error");
    ui.takeOverButton.hidden = false;
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

function finish(reason) {
  state.finished = true;
  stopRecorder();
  state.ws?.close();
  ui.endButton.hidden = true;
  setConnection("ended");
  // Ended by moderation: say why ("ended_restricted", "ended_banned", ...).
  const why = strings[`ended_${reason}`];
  say(why || strings.ended, why ? "error" : "info");
  warn("");
  root.dataset.ended = "true";
}

async function end() {
  ui.endButton.disabled = true;
  const token = ui.form.querySelector("[name=csrfmiddlewaretoken]").value;
  const response = await fetch(state.broadcast.end_url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": token },
  }).catch(() => null);
  if (response?.ok) finish();
  ui.endButton.disabled = false;
}

// --- recording -------------------------------------------------------------------
function startRecorder() {
  const restarting = state.recorder !== null && state.recorder !== undefined;
  stopRecorder();
  if (!state.stream || !state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  const generation = ++state.generation;
  if (restarting) {
    // The old recorder's last bytes are dropped, maybe mid-element: tell the server to
    // forget any half-received element before the new stream's init segment.
    const ws = state.ws;
    state.sendChain = state.sendChain.then(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "restart" }));
    });
  }
  const recorder = new MediaRecorder(state.stream, {
    mimeType: MIME,
    videoBitsPerSecond: BITRATES[state.ladder],
    audioBitsPerSecond: AUDIO_BITRATE,
    videoKeyFrameIntervalDuration: KEYFRAME_INTERVAL_MS,
  });
  const ws = state.ws;
  recorder.ondataavailable = (event) => {
    if (!event.data.size) return;
    // In order: arrayBuffer() is async, so chain the sends.
    state.sendChain = state.sendChain.then(async () => {
      const buffer = await event.data.arrayBuffer();
      if (generation !== state.generation || ws.readyState !== WebSocket.OPEN) return;
      if (state.skipping) return; // dropped until the next keyframe (a restart)
      ws.send(buffer);
      state.sentBytes += buffer.byteLength;
      if (state.ws === ws) state.socketSent += buffer.byteLength;
    });
  };
  recorder.start(TIMESLICE_MS);
  state.recorder = recorder;
}

function stopRecorder() {
  state.generation += 1;
  if (state.recorder && state.recorder.state !== "inactive") state.recorder.stop();
  state.recorder = null;
}

// --- weak uplink -----------------------------------------------------------------
function watchUplink() {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || !state.recorder) return;
  const now = performance.now();
  const bytesPerSecond = (BITRATES[state.ladder] + AUDIO_BITRATE) / 8;
  const backlog = backlogBytes() / bytesPerSecond; // seconds of media not yet arrived
  if (state.skipping) {
    if (backlog < 0.25) {
      state.skipping = false;
      startRecorder(); // a fresh init segment and a keyframe
    }
    return;
  }
  if (backlog > 3) {
    state.skipping = true;
    warn(strings.skipping);
    if (state.ladder < BITRATES.length - 1) state.ladder += 1;
    return;
  }
  if (backlog > 1 && now - state.lastDowngrade > 5000 && state.ladder < BITRATES.length - 1) {
    state.ladder += 1;
    state.lastDowngrade = now;
    state.calmSince = 0;
    warn(strings.weak);
    startRecorder();
    return;
  }
  if (backlog < 0.2) {
    state.calmSince = state.calmSince || now;
    if (now - state.calmSince > 30000 && state.ladder > 0) {
      state.ladder -= 1;
      state.calmSince = now;
      warn("");
      startRecorder();
    }
  } else {
    state.calmSince = 0;
  }
}

function backlogBytes() {
  const ws = state.ws;
  if (!ws) return 0;
  return Math.max(ws.bufferedAmount, state.socketSent - state.serverReceived);
}

function updateStats() {
  if (!state.broadcast?.started_at || state.finished) return;
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(state.broadcast.started_at)) / 1000));
  const hh = String(Math.floor(seconds / 3600));
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  ui.elapsed.textContent = `${hh}:${mm}:${ss}`;
  const onWire = state.sentBytes - backlogBytes();
  state.rateWindow.push([performance.now(), onWire]);
  if (state.rateWindow.length > 5) state.rateWindow.shift();
  const [t0, b0] = state.rateWindow[0];
  const [t1, b1] = state.rateWindow[state.rateWindow.length - 1];
  if (t1 > t0) ui.bitrate.textContent = `${Math.max(0, Math.round(((b1 - b0) * 8) / (t1 - t0)))} kbit/s`;
}

// --- start -----------------------------------------------------------------------
async function main() {
  if (!supported()) {
    say(strings.unsupported, "error");
    root.dataset.devices = "unsupported";
    ui.goButton.disabled = true;
    return;
  }
  if (root.dataset.xpostModule) {
    state.xpost = await import(root.dataset.xpostModule).catch(() => null);
  }
  setConnection("ready");
  ui.form.addEventListener("submit", goLive);
  ui.endButton.addEventListener("click", end);
  ui.takeOverButton.addEventListener("click", () => {
    ui.takeOverButton.hidden = true;
    if (ui.stats.hidden) begin(state.broadcast, true);
    else openSocket(true);
  });
  ui.camera.addEventListener("change", acquire);
  ui.microphone.addEventListener("change", acquire);
  setInterval(watchUplink, 250);
  setInterval(updateStats, 1000);
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
      ui.takeOverButton.hidden = false;
    }
  }
}

main();
