// Recording the camera with MediaRecorder and sending it over the publish socket, and
// adapting to a weak uplink by watching its backlog: what was sent on this socket minus
// what the server says has arrived (bufferedAmount alone stays at zero in Chromium until
// megabytes sit in the network stack's buffers). The page (publisher.js) owns `state`.
//
// A MediaRecorder cannot change tracks while it records (adding or removing one stops it
// with InvalidModificationError), so a new stream (another camera) gets a new recorder;
// the protocol allows a new init segment on the same socket after {"type": "restart"}.

export const MIME = "video/webm;codecs=vp8,opus";
const BITRATES = [1_200_000, 700_000, 400_000, 200_000]; // video bits/s, best first
const AUDIO_BITRATE = 48_000;
const KEYFRAME_INTERVAL_MS = 1000;

export function startRecorder(state) {
  // Media already went out on this socket: the server must drop any half element first.
  const restarting = Boolean(state.recorder) || state.socketSent > 0;
  stopRecorder(state);
  if (!state.stream || !state.accepted || state.ws?.readyState !== WebSocket.OPEN) return;
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
  recorder.start(state.timeslice);
  state.recorder = recorder;
  state.recorders += 1;
}

export function stopRecorder(state) {
  state.generation += 1;
  if (state.recorder && state.recorder.state !== "inactive") state.recorder.stop();
  state.recorder = null;
}

// --- weak uplink -----------------------------------------------------------------
export function watchUplink(state, warn) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || !state.recorder) return;
  const now = performance.now();
  const bytesPerSecond = (BITRATES[state.ladder] + AUDIO_BITRATE) / 8;
  const backlog = backlogBytes(state) / bytesPerSecond; // seconds of media not yet arrived
  if (state.skipping) {
    if (backlog < 0.25) {
      state.skipping = false;
      startRecorder(state); // a fresh init segment and a keyframe
    }
    return;
  }
  if (backlog > 3) {
    state.skipping = true;
    warn("skipping");
    if (state.ladder < BITRATES.length - 1) state.ladder += 1;
    return;
  }
  if (backlog > 1 && now - state.lastDowngrade > 5000 && state.ladder < BITRATES.length - 1) {
    state.ladder += 1;
    state.lastDowngrade = now;
    state.calmSince = 0;
    warn("weak");
    startRecorder(state);
    return;
  }
  if (backlog < 0.2) {
    state.calmSince = state.calmSince || now;
    if (now - state.calmSince > 30000 && state.ladder > 0) {
      state.ladder -= 1;
      state.calmSince = now;
      warn("");
      startRecorder(state);
    }
  } else {
    state.calmSince = 0;
  }
}

export function backlogBytes(state) {
  const ws = state.ws;
  if (!ws) return 0;
  return Math.max(ws.bufferedAmount, state.socketSent - state.serverReceived);
}
