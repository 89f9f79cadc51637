// The watch page's live player: WebM over a WebSocket into Media Source Extensions.
// Joins at the init segment + latest keyframe cluster, keeps near the live edge, jumps
// holes in the buffer, and carries on across a broadcaster's reconnect (a new init
// segment arrives on the same socket; `sequence` mode keeps the timeline continuous).

const MIME = 'video/webm; codecs="vp8, opus"';
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];
const TARGET_LAG = 0.15; // seconds behind the newest buffered frame
const CATCH_UP_LAG = 0.8; // above this, play a little faster
const JUMP_LAG = 2.5; // above this, jump to the live edge
const STALL_JUMP_MS = 300; // stalled this long with a later range close by: jump
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
    this.hasMedia = false;
    this.lastMediaAt = 0;
    this.stalledSince = 0;
    this.serverState = root.dataset.state;
    this.endReason = root.dataset.endReason || ""; // why it ended: "removed" has its own words
    this.stats = { frames: 0, jumps: 0, inits: 0 };
    root.livePlayer = this; // for tests and benches: read-only stats
  }

  start() {
    if (!this.MediaSourceClass || !this.MediaSourceClass.isTypeSupported(MIME) || !window.WebSocket) {
      this.setState("unsupported");
      return;
    }
    this.unmuteButton.addEventListener("click", () => this.unmute());
    this.fullscreenButton.addEventListener("click", () => this.fullscreen());
    this.video.addEventListener("volumechange", () => this.showUnmute());
    if (this.serverState === "ended") {
      this.setState("ended");
      return;
    }
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
        else if (message.state === "live") this.setState(this.hasMedia ? "live" : "waiting");
        break;
      case "viewers":
        if (this.viewersEl) {
          this.viewersEl.textContent = `${message.count} ${this.strings.viewers}`;
          this.viewersEl.dataset.count = message.count;
        }
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
      this.video.play().catch(() => {
        // Autoplay with sound refused: play muted and show the unmute button.
        this.video.muted = true;
        this.video.play().catch(() => {});
      });
      this.showUnmute();
    }
    if (!this.ended) this.setState("live");
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
    if (!sb || !sb.buffered.length || this.ended) return;
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
    // after the current time.
    if (stalled && now - this.stalledSince > STALL_JUMP_MS) {
      for (let i = 0; i < ranges.length; i += 1) {
        if (ranges.start(i) > t - 0.01 && ranges.end(i) - ranges.start(i) > 0.05) {
          video.currentTime = Math.max(ranges.start(i) + 0.01, ranges.end(i) - TARGET_LAG);
          this.stats.jumps += 1;
          this.stalledSince = 0;
          break;
        }
      }
      if (video.paused) video.play().catch(() => {});
    }
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

  // --- controls ----------------------------------------------------------------
  unmute() {
    this.userUnmuted = true;
    this.video.muted = false;
    this.video.play().catch(() => {});
    this.showUnmute();
  }

  showUnmute() {
    this.unmuteButton.hidden = !this.video.muted || !this.hasMedia;
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

  setState(state) {
    this.root.dataset.playerState = state;
    this.root.dataset.endReason = state === "ended" ? this.endReason : "";
    // Ended by moderation: say why ("ended_removed", ...), else just "ended".
    const words = state === "ended" ? this.strings[`ended_${this.endReason}`] : null;
    this.statusEl.textContent = words || this.strings[state] || "";
    this.statusEl.hidden = state === "live";
    const badge = this.root.querySelector("[data-player-live]");
    if (badge) badge.hidden = state !== "live";
    if (state === "ended") this.unmuteButton.hidden = true; // nothing left to hear
  }
}

const root = document.querySelector("[data-player]");
if (root) new LivePlayer(root).start();
