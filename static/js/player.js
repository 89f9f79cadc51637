// The watch page's live player: WebM over a WebSocket into Media Source Extensions.
// Joins at the init segment + latest keyframe cluster, keeps near the live edge, jumps
// holes in the buffer, and carries on across a broadcaster's reconnect (a new init
// segment arrives on the same socket; `sequence` mode keeps the timeline continuous).
// When the broadcast ends it says so, drops its controls and the viewer count, and tells
// the rest of the page with an `onair:ended` event on `document` (the chat closes on it).

const MIME = 'video/webm; codecs="vp8, opus"';
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];
const TARGET_LAG = 0.15; // seconds behind the newest buffered frame
const CATCH_UP_LAG = 0.8; // above this, play a little faster
const JUMP_LAG = 2.5; // above this, jump to the live edge
const STALL_JUMP_MS = 300; // stalled this long with a later range close by: jump
const FROZEN_AFTER = 0.25; // seconds played without a new video frame: the picture froze
const ACK_EVERY_MS = 1000;

function startsWithInit(bytes) {
  return bytes.length >= 4 && EBML_MAGIC.every((b, i) => bytes[i] === b);
}

export class LivePlayer {
  constructor(root) {
    this.root = root;
    this.video = root.querySelector("video");
    this.statusEl = root.querySelector("[data-player-status]");
    this.viewersEl = document.querySelector("[data-player-viewers]");
    this.viewersLine = document.querySelector("[data-player-viewers-line]");
    // The page of a broadcast that has already ended has no control bar at all.
    this.bar = root.querySelector("[data-player-bar]");
    this.playButton = root.querySelector("[data-player-play]");
    this.unmuteButton = root.querySelector("[data-player-unmute]");
    this.fullscreenButton = root.querySelector("[data-player-fullscreen]");
    this.strings = JSON.parse(document.getElementById("player-strings").textContent);
    this.wsPath = root.dataset.wsPath;
    this.MediaSourceClass = window.MediaSource || window.ManagedMediaSource;
    this.queue = [];
    this.received = 0;
    this.acked = 0;
    this.retries = 0;
    this.ended = false;
    this.userPaused = false;
    this.hasMedia = false;
    this.lastMediaAt = 0;
    this.stalledSince = 0;
    this.serverState = root.dataset.state;
    this.endReason = root.dataset.endReason || ""; // why it ended: "removed" has its own words
    this.stats = { frames: 0, jumps: 0, inits: 0, unfreezes: 0 };
    root.livePlayer = this; // for tests and benches: read-only stats
  }

  start() {
    if (this.serverState === "ended") {
      this.setState("ended");
      return;
    }
    if (!this.MediaSourceClass || !this.MediaSourceClass.isTypeSupported(MIME) || !window.WebSocket) {
      this.setState("unsupported");
      return;
    }
    this.playButton.addEventListener("click", () => (this.userPaused ? this.resume() : this.pause()));
    this.unmuteButton.addEventListener("click", () => this.unmute());
    this.fullscreenButton.addEventListener("click", () => this.fullscreen());
    this.video.addEventListener("volumechange", () => this.showControls());
    document.addEventListener("fullscreenchange", () => this.showControls());
    this.setState(this.serverState === "created" ? "created" : "connecting");
    this.connect();
    setInterval(() => this.tick(), 200);
    setInterval(() => this.ack(), ACK_EVERY_MS);
  }

  // --- socket ------------------------------------------------------------------
  connect() {
    this.openMediaSource();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${this.wsPath}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.received = 0;
    this.acked = 0;
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        this.onControl(JSON.parse(event.data));
        return;
      }
      const bytes = new Uint8Array(event.data);
      this.received += bytes.byteLength;
      if (this.userPaused) return; // dropped: play joins afresh at the live edge
      this.lastMediaAt = performance.now();
      if (startsWithInit(bytes)) this.stats.inits += 1;
      this.enqueue(bytes);
    };
    ws.onopen = () => {
      this.retries = 0;
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      if (this.ended || event.code === 1000) {
        this.ended = true;
        this.setState("ended");
        return;
      }
      if (event.code === 4404) {
        this.setState("not_found");
        return;
      }
      if (event.code === 4429) {
        // Too many players open from this address (server cap): try again slowly.
        this.setState("too_many");
        setTimeout(() => this.connect(), 15000);
        return;
      }
      this.setState("lost");
      const delay = Math.min(5000, 500 * 2 ** this.retries++);
      setTimeout(() => this.connect(), delay);
    };
  }

  onControl(message) {
    switch (message.type) {
      case "state":
        this.serverState = message.state;
        if (message.state === "created") this.setState("created");
        else if (message.state === "reconnecting") this.setState("reconnecting");
        else if (message.state === "live") this.setState(this.liveState());
        break;
      case "viewers":
        this.showViewers(message.count);
        break;
      case "ended":
        this.ended = true;
        this.endReason = message.reason || "";
        this.setState("ended");
        break;
      case "error":
        if (message.code === "not_found") this.setState("not_found");
        break;
      default:
        break;
    }
  }

  liveState() {
    if (this.userPaused) return "paused";
    return this.hasMedia ? "live" : "waiting";
  }

  ack() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.received !== this.acked) {
      this.acked = this.received;
      this.ws.send(JSON.stringify({ type: "ack", bytes: this.received }));
    }
  }

  // --- Media Source ------------------------------------------------------------
  openMediaSource() {
    this.queue = [];
    this.sourceBuffer = null;
    this.hasMedia = false;
    const mediaSource = new this.MediaSourceClass();
    this.mediaSource = mediaSource;
    if (window.ManagedMediaSource && mediaSource instanceof window.ManagedMediaSource) {
      this.video.disableRemotePlayback = true;
    }
    this.video.src = URL.createObjectURL(mediaSource);
    mediaSource.addEventListener("sourceopen", () => {
      URL.revokeObjectURL(this.video.src);
      const sourceBuffer = mediaSource.addSourceBuffer(MIME);
      // Timestamps restart at zero after a broadcaster reconnects: sequence mode lays
      // each new run of media right after the previous one.
      sourceBuffer.mode = "sequence";
      sourceBuffer.addEventListener("updateend", () => this.pump());
      this.sourceBuffer = sourceBuffer;
      this.pump();
    });
  }

  enqueue(bytes) {
    this.queue.push(bytes);
    this.pump();
  }

  pump() {
    const sb = this.sourceBuffer;
    if (!sb || sb.updating || this.queue.length === 0 || this.mediaSource.readyState !== "open") return;
    const bytes = this.queue.shift();
    try {
      if (startsWithInit(bytes) && sb.buffered.length) {
        // A new stream: drop any half-parsed cluster of the old one first.
        sb.abort();
      }
      sb.appendBuffer(bytes);
      if (!startsWithInit(bytes)) this.onMediaAppended();
    } catch (error) {
      if (error.name === "QuotaExceededError") {
        this.queue.unshift(bytes);
        this.trim(true);
      } else {
        // The element fell over (decode error): start again from a fresh join.
        this.ws?.close();
      }
    }
  }

  onMediaAppended() {
    if (!this.hasMedia) {
      this.hasMedia = true;
      this.video.muted = this.video.muted || !this.userUnmuted;
      this.video.play().catch((error) => {
        // Autoplay with sound refused: play muted and show the unmute button. (A pause
        // before it started also rejects this promise: that is no refusal.)
        if (error.name !== "NotAllowedError" || this.userPaused) return;
        this.video.muted = true;
        this.video.play().catch(() => {});
      });
      this.showControls();
    }
    if (!this.ended) this.setState(this.liveState());
  }

  trim(force = false) {
    const sb = this.sourceBuffer;
    if (!sb || sb.updating || !sb.buffered.length) return;
    const keepFrom = this.video.currentTime - (force ? 2 : 15);
    if (sb.buffered.start(0) < keepFrom - (force ? 0 : 15)) {
      sb.remove(0, keepFrom);
    }
  }

  // --- live edge and holes -----------------------------------------------------
  tick() {
    const video = this.video;
    const sb = this.sourceBuffer;
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    if (q) this.stats.frames = q.totalVideoFrames;
    if (!sb || !sb.buffered.length || this.ended || this.userPaused) return;
    const ranges = sb.buffered;
    const last = ranges.length - 1;
    const liveEdge = ranges.end(last);
    const t = video.currentTime;
    let inRange = -1;
    for (let i = 0; i < ranges.length; i += 1) {
      if (t >= ranges.start(i) && t < ranges.end(i)) inRange = i;
    }
    const now = performance.now();
    const stalled = inRange === -1 || video.readyState < 3;
    if (stalled) {
      this.stalledSince = this.stalledSince || now;
    } else {
      this.stalledSince = 0;
    }
    // A hole (or a join before the first range): jump to the next range that starts
    // after the current time. Never within the range it is in: waiting for data there
    // (a join still filling its first range) is no hole, and a seek would start it over.
    if (stalled && now - this.stalledSince > STALL_JUMP_MS) {
      for (let i = 0; i < ranges.length; i += 1) {
        if (i !== inRange && ranges.start(i) > t - 0.01 && ranges.end(i) - ranges.start(i) > 0.05) {
          video.currentTime = Math.max(ranges.start(i) + 0.01, ranges.end(i) - TARGET_LAG);
          this.stats.jumps += 1;
          this.stalledSince = 0;
          break;
        }
      }
      if (video.paused) video.play().catch(() => {});
    }
    this.unfreeze(q, t, liveEdge);
    const lag = liveEdge - video.currentTime;
    if (lag > JUMP_LAG) {
      video.currentTime = liveEdge - TARGET_LAG;
      this.stats.jumps += 1;
    } else if (lag > CATCH_UP_LAG) {
      video.playbackRate = 1.15;
    } else if (lag > TARGET_LAG * 1.5) {
      video.playbackRate = 1.05;
    } else {
      video.playbackRate = 1.0;
    }
    if (this.hasMedia && !this.ended && this.serverState !== "reconnecting" && now - this.lastMediaAt > 3000) {
      this.setState("waiting");
    }
    if (Math.random() < 0.02) this.trim();
  }

  // The picture can freeze while the clock runs on: a gap in the video track alone (a
  // broadcaster whose camera or encoder skipped frames under load) stops the video
  // decoder there while the audio plays on, so currentTime advances past the gap and
  // readyState stays HAVE_ENOUGH; Chromium only calls it a stall about 3 s later, with
  // the gap behind the playhead, where the hole jump above never looks. No new frame
  // decoded over FROZEN_AFTER of playback: seek near the live edge, which restarts the
  // decoder from a keyframe past the gap.
  unfreeze(q, t, liveEdge) {
    const video = this.video;
    if (!q || video.paused || video.seeking || q.totalVideoFrames !== this.framesSeen) {
      this.framesSeen = q ? q.totalVideoFrames : 0;
      this.framesSeenAt = t;
      return;
    }
    if (t - this.framesSeenAt < FROZEN_AFTER) return;
    video.currentTime = Math.max(t, liveEdge - TARGET_LAG);
    this.framesSeenAt = video.currentTime;
    this.stats.unfreezes += 1;
  }

  // --- controls ----------------------------------------------------------------
  // Pausing a live broadcast stops the picture; playing again rejoins at the live edge
  // (a fresh join), not where it stopped. The socket stays open meanwhile so the page
  // still hears the viewer count and the end; the media it brings is dropped.
  pause() {
    this.userPaused = true;
    this.video.pause();
    this.setState("paused");
    this.showControls();
  }

  resume() {
    this.userPaused = false;
    this.showControls();
    if (this.ended) return;
    const old = this.ws;
    this.ws = null; // its close is not a lost connection
    old?.close();
    this.setState("connecting");
    this.connect();
  }

  unmute() {
    const focused = document.activeElement === this.unmuteButton;
    this.userUnmuted = true;
    this.video.muted = false;
    this.video.play().catch(() => {});
    this.showControls();
    // The button goes once it has done its job: keep keyboard focus in the bar.
    if (focused) this.playButton.focus();
  }

  // What the bar offers follows what can be done now: play/pause once there is a
  // picture, unmute while muted, the fullscreen button's words for the way it goes.
  showControls() {
    if (!this.bar) return;
    this.playButton.hidden = !this.hasMedia && !this.userPaused;
    this.playButton.dataset.paused = String(this.userPaused);
    this.label(this.playButton, this.userPaused ? this.strings.play : this.strings.pause);
    this.unmuteButton.hidden = this.ended || !this.video.muted || !this.hasMedia;
    const full = document.fullscreenElement === this.root;
    this.label(this.fullscreenButton, full ? this.strings.exit_fullscreen : this.strings.fullscreen);
  }

  label(button, words) {
    button.setAttribute("aria-label", words);
    button.title = words;
  }

  fullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (this.root.requestFullscreen) {
      this.root.requestFullscreen().catch(() => {});
    } else if (this.video.webkitEnterFullscreen) {
      this.video.webkitEnterFullscreen();
    }
  }

  showViewers(count) {
    if (!this.viewersEl || this.ended) return;
    this.viewersEl.textContent = `${count} ${this.strings.viewers}`;
    this.viewersEl.dataset.count = count;
    if (this.viewersLine) this.viewersLine.hidden = false;
  }

  setState(state) {
    const reason = state === "ended" ? this.endReason : "";
    // The words change only with the state: a screen reader hears each change once.
    if (this.root.dataset.playerState !== state || this.root.dataset.endReason !== reason) {
      this.root.dataset.playerState = state;
      this.root.dataset.endReason = reason;
      // Ended by moderation: say why ("ended_removed", ...), else just "ended".
      const words = state === "ended" ? this.strings[`ended_${reason}`] : null;
      this.statusEl.textContent = words || this.strings[state] || "";
    }
    this.statusEl.hidden = state === "live" || state === "paused";
    const badge = this.root.querySelector("[data-player-live]");
    if (badge) badge.hidden = state !== "live";
    // No picture will come: no controls either.
    if (this.bar && (state === "unsupported" || state === "not_found")) this.bar.hidden = true;
    if (state === "ended" && !this.endShown) this.showEnded(reason);
  }

  // Nothing left to play, hear or count: a clean end, said once to the rest of the page.
  showEnded(reason) {
    this.ended = true;
    this.endShown = true;
    if (this.bar) this.bar.hidden = true;
    if (document.fullscreenElement === this.root) document.exitFullscreen().catch(() => {});
    if (this.viewersLine) this.viewersLine.hidden = true;
    if (this.viewersEl) {
      this.viewersEl.textContent = "";
      delete this.viewersEl.dataset.count;
    }
    document.dispatchEvent(new CustomEvent("onair:ended", { detail: { reason } }));
  }
}

const root = document.querySelector("[data-player]");
if (root) new LivePlayer(root).start();
