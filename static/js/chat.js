// The chat panel (templates/chat/_panel.html). Protocol: docs/protocol.md, "Chat".
// Nothing a user typed is ever parsed as HTML: every node is built with textContent,
// and only http(s) links become <a> elements.

const MAX_SHOWN = 300;
const ANNOUNCE_PER_BATCH = 3; // a burst is not read out whole: its last few messages
const ANNOUNCE_KEPT = 5;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

function safeLink(candidate) {
  // Trailing punctuation is usually the sentence, not the link.
  const trimmed = candidate.replace(/[.,;:!?)\]]+$/, "");
  try {
    const url = new URL(trimmed);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return { href: url.href, text: trimmed };
  } catch {
    return null;
  }
}

// Text -> nodes: plain text nodes and, for http(s) URLs, safe anchors.
export function renderText(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const link = safeLink(match[0]);
    if (!link) continue;
    if (match.index > last) fragment.append(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = link.href;
    a.rel = "nofollow noopener ugc";
    a.target = "_blank";
    a.textContent = link.text;
    fragment.append(a);
    last = match.index + link.text.length;
  }
  if (last < text.length) fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

class ChatPanel {
  constructor(root) {
    this.root = root;
    this.t = root.dataset;
    this.log = root.querySelector("[data-chat-log]");
    this.status = root.querySelector("[data-chat-status]");
    this.presence = root.querySelector("[data-chat-presence]");
    this.announcer = root.querySelector("[data-chat-announce]");
    this.modesLine = root.querySelector("[data-chat-modes]");
    this.notice = root.querySelector("[data-chat-notice]");
    this.form = root.querySelector("[data-chat-form]");
    this.input = root.querySelector("[data-chat-input]");
    this.postToX = root.querySelector("[data-chat-x]");
    this.mod = root.querySelector("[data-chat-mod]");
    this.held = root.querySelector("[data-chat-held]");
    this.filters = root.querySelector("[data-chat-filters]");
    this.lastSeq = null;
    this.role = "anonymous";
    this.items = new Map();
    this.blocked = new Set(); // people this viewer blocked: their messages are not shown
    this.retryDelay = 1000;
    this.noticeTimer = null;
    this.nextRef = 1;
    this.closed = root.dataset.closed === "true"; // the page was made after the end
    this.bind();
    this.connect();
  }

  bind() {
    // The player (watch page) and the publisher (go-live page) say when the broadcast
    // ends; the chat socket only says so for a takedown.
    document.addEventListener("onair:ended", (event) => this.closeRoom(event.detail?.reason));
    this.form?.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (!text.trim()) return;
      this.send({ type: "send", text, post_to_x: Boolean(this.postToX?.checked) });
    });
    this.root.querySelector("[data-chat-slow]")?.addEventListener("change", (event) => {
      this.send({ type: "set_mode", slow_mode_seconds: Number(event.target.value) });
    });
    this.root.querySelector("[data-chat-enabled]")?.addEventListener("change", (event) => {
      this.send({ type: "set_mode", chat_enabled: event.target.checked });
    });
    this.root.querySelector("[data-chat-established]")?.addEventListener("change", (event) => {
      this.send({ type: "set_mode", established_only: event.target.checked });
    });
    this.root.querySelector("[data-chat-add-mod]")?.addEventListener("submit", (event) => {
      event.preventDefault();
      const field = event.target.elements.handle;
      this.send({ type: "add_moderator", handle: field.value });
      field.value = "";
    });
    this.root.querySelector("[data-chat-add-filter]")?.addEventListener("submit", (event) => {
      event.preventDefault();
      const field = event.target.elements.phrase;
      this.send({ type: "add_filter", phrase: field.value });
      field.value = "";
    });
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const resume = this.lastSeq === null ? "" : `?after_seq=${this.lastSeq}`;
    this.socket = new WebSocket(`${scheme}//${location.host}${this.t.wsPath}${resume}`);
    this.socket.addEventListener("open", () => {
      this.retryDelay = 1000;
      this.status.textContent = "";
      this.root.dataset.connection = "open";
    });
    this.socket.addEventListener("message", (event) => this.onFrame(JSON.parse(event.data)));
    this.socket.addEventListener("close", () => {
      this.root.dataset.connection = "closed";
      this.status.textContent = this.t.tReconnecting;
      setTimeout(() => this.connect(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 15000);
    });
  }

  send(frame) {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify({ ...frame, ref: this.nextRef++ }));
  }

  onFrame(frame) {
    switch (frame.type) {
      case "hello":
        this.userId = frame.user_id;
        this.blocked = new Set(frame.blocked || []);
        this.setRole(frame.role);
        this.showModes(frame.modes);
        if (frame.filters) this.showFilters(frame.filters);
        if (frame.closed) this.closeRoom(frame.closed);
        break;
      case "history":
        this.log.replaceChildren();
        this.items.clear();
        for (const event of frame.events) this.apply(event);
        this.lastSeq = frame.last_seq;
        this.scrollToEnd(true);
        break;
      case "events":
        this.onEvents(frame.events);
        break;
      case "presence":
        // Once the room is closed, a head count would only be a stale number.
        if (!this.closed) this.presence.textContent = `${frame.count} ${this.t.tViewers}`;
        break;
      case "ack":
        this.input.value = "";
        if (frame.held) this.showNotice(this.t.tHeld);
        else if (frame.x_post === "requested") this.showNotice(this.t.tXRequested);
        break;
      case "error":
      case "notice":
        this.showError(frame);
        break;
      case "resync":
        this.send({ type: "sync", after_seq: this.lastSeq });
        break;
      case "role":
        this.setRole(frame.role);
        break;
      case "held_list":
        this.held.replaceChildren(...frame.messages.map((m) => this.heldItem(m)));
        break;
      case "held":
        this.held.append(this.heldItem(frame.message));
        break;
      case "held_resolved":
        this.held.querySelector(`[data-id="${Number(frame.id)}"]`)?.remove();
        break;
      case "ok":
        if (frame.phrases) this.showFilters(frame.phrases);
        break;
      default:
        break;
    }
  }

  onEvents(events) {
    const atEnd = this.isAtEnd();
    const fresh = [];
    for (const event of events) {
      if (this.lastSeq !== null && event.seq <= this.lastSeq) continue;
      if (this.lastSeq !== null && event.seq !== this.lastSeq + 1) {
        // A gap should never happen; if it does, ask (once) for everything after what we have.
        if (!this.syncing) this.send({ type: "sync", after_seq: this.lastSeq });
        this.syncing = true;
        return;
      }
      this.syncing = false;
      this.apply(event);
      this.lastSeq = event.seq;
      if (this.worthAnnouncing(event)) fresh.push(event);
    }
    this.scrollToEnd(atEnd);
    this.announce(fresh.slice(-ANNOUNCE_PER_BATCH));
  }

  // New messages from others, as they arrive: not the history, not one's own echo, not
  // deletions, modes or head counts.
  worthAnnouncing(event) {
    return (
      event.type === "message" && !event.deleted && event.user.id !== this.userId && this.items.has(event.id)
    );
  }

  // One node per message in a polite live region: screen readers read each addition once;
  // old nodes go quietly (aria-relevant="additions").
  announce(events) {
    if (!this.announcer) return;
    for (const event of events) {
      const line = document.createElement("p");
      line.textContent = `${event.user.name}: ${event.text}`;
      this.announcer.append(line);
    }
    while (this.announcer.children.length > ANNOUNCE_KEPT) this.announcer.firstElementChild.remove();
  }

  apply(event) {
    if (event.type === "message") {
      if (this.blocked.has(event.user.id)) return;
      const item = this.messageItem(event);
      this.items.set(event.id, item);
      this.log.append(item);
      // A catch-up may carry a message already deleted: its text was blanked at the
      // source, so show it as deleted at once.
      if (event.deleted) this.apply({ type: "delete", id: event.id });
      while (this.log.children.length > MAX_SHOWN) {
        const first = this.log.firstElementChild;
        this.items.delete(Number(first.dataset.id));
        first.remove();
      }
    } else if (event.type === "delete") {
      const item = this.items.get(event.id);
      if (item) {
        item.classList.add("chat-deleted");
        item.querySelector(".chat-text").replaceChildren(document.createTextNode(this.t.tDeleted));
        item.querySelector(".chat-actions")?.remove();
        item.querySelector(".chat-report")?.remove();
      }
    } else if (event.type === "mode") {
      this.showModes(event.modes);
    } else if (event.type === "closed") {
      this.closeRoom(event.reason);
    }
  }

  messageItem(event) {
    const item = document.createElement("li");
    item.className = "chat-message";
    item.dataset.id = String(event.id);
    item.dataset.seq = String(event.seq);
    item.dataset.author = String(event.user.id);
    const author = document.createElement("span");
    author.className = "chat-author";
    author.textContent = event.user.name;
    author.title = `@${event.user.handle}`;
    const text = document.createElement("span");
    text.className = "chat-text";
    text.append(renderText(event.text));
    item.append(author, document.createTextNode(" "), text);
    if (this.role !== "anonymous") {
      const actions = this.actions(event);
      if (actions.childElementCount) item.append(actions);
    }
    if (event.user.id !== this.userId) item.append(this.reportButton(event));
    return item;
  }

  // For everyone, anonymous viewers included: static/js/report.js opens its dialog from
  // these attributes.
  reportButton(event) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "chat-report";
    button.textContent = this.t.tReport;
    button.setAttribute("aria-label", this.t.tReportMessage.replace("%s", event.user.name));
    button.dataset.reportTarget = "message";
    button.dataset.reportId = String(event.id);
    button.dataset.reportSummary = `${event.user.name}: ${event.text}`;
    return button;
  }

  actions(event) {
    const box = document.createElement("span");
    box.className = "chat-actions";
    const button = (label, frame, extraClass) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = `chat-action ${extraClass}`;
      b.textContent = label;
      b.addEventListener("click", () => this.send(frame));
      return b;
    };
    const other = event.user.id && event.user.id !== this.userId;
    if (this.isModerator()) {
      box.append(button(this.t.tDelete, { type: "delete", id: event.id }, "chat-action-delete"));
      if (other) {
        box.append(button(this.t.tTimeout, { type: "timeout", user_id: event.user.id, seconds: 600 }, "chat-action-timeout"));
        box.append(button(this.t.tBan, { type: "ban", user_id: event.user.id }, "chat-action-ban"));
      }
    }
    if (other) {
      const block = document.createElement("button");
      block.type = "button";
      block.className = "chat-tool chat-tool-block";
      block.textContent = this.t.tBlock;
      block.addEventListener("click", () => this.block(event.user));
      box.append(block);
    }
    return box;
  }

  // Blocking is an HTTP POST (accounts/blocks), not a chat frame: it holds in every room.
  async block(user) {
    let response;
    try {
      response = await fetch(this.t.blockUrl, {
        method: "POST",
        headers: { "X-CSRFToken": this.t.csrf, Accept: "application/json" },
        body: new URLSearchParams({ user: String(user.id) }),
        credentials: "same-origin",
      });
    } catch {
      this.showNotice(this.t.tBlockFailed, "block_failed");
      return;
    }
    const result = await response.json().catch(() => ({}));
    if (!response.ok) {
      this.showNotice(result.message || this.t.tBlockFailed, result.code || "block_failed");
      return;
    }
    this.blocked.add(user.id);
    for (const [id, item] of this.items) {
      if (item.dataset.author === String(user.id)) {
        item.remove();
        this.items.delete(id);
      }
    }
    this.showNotice(this.t.tBlocked.replace("%s", `@${user.handle}`), "user_blocked");
  }

  heldItem(message) {
    const item = document.createElement("li");
    item.dataset.id = String(message.id);
    const who = document.createElement("strong");
    who.textContent = message.user.name;
    const text = document.createElement("span");
    text.className = "chat-text";
    text.append(document.createTextNode(` ${message.text} `));
    const reason = document.createElement("em");
    reason.className = "chat-held-reason";
    reason.textContent = message.reason;
    const approve = document.createElement("button");
    approve.type = "button";
    approve.className = "btn btn-small btn-ghost";
    approve.textContent = this.t.tApprove;
    approve.addEventListener("click", () => this.send({ type: "approve", id: message.id }));
    const reject = document.createElement("button");
    reject.type = "button";
    reject.className = "btn btn-small btn-ghost";
    reject.textContent = this.t.tReject;
    reject.addEventListener("click", () => this.send({ type: "reject", id: message.id }));
    item.append(who, text, reason, approve, reject);
    return item;
  }

  showFilters(phrases) {
    if (!this.filters) return;
    this.filters.replaceChildren(
      ...phrases.map((phrase) => {
        const item = document.createElement("li");
        item.textContent = `${phrase} `;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn btn-small btn-ghost";
        remove.textContent = this.t.tRemove;
        remove.addEventListener("click", () => this.send({ type: "remove_filter", phrase }));
        item.append(remove);
        return item;
      }),
    );
  }

  setRole(role) {
    this.role = role;
    this.root.dataset.role = role;
    this.mod.hidden = !this.isModerator();
    const ownerTools = this.root.querySelector("[data-chat-owner-tools]");
    if (ownerTools) ownerTools.hidden = role !== "broadcaster";
  }

  // The room takes no more messages (its broadcast ended or was removed): say why, stop
  // offering to write, drop the head count. The socket stays open, so later deletions
  // still arrive.
  closeRoom(reason) {
    const why = this.root.querySelector("[data-chat-closed]");
    if (reason === "removed") why.textContent = this.t.tClosedRemoved;
    if (this.closed && !why.hidden) return;
    this.closed = true;
    this.root.dataset.closed = "true";
    why.hidden = false;
    this.presence.textContent = "";
    for (const field of this.form?.elements || []) field.disabled = true;
    const signIn = this.root.querySelector("[data-chat-signin]");
    if (signIn) signIn.hidden = true; // nothing left to sign in for
  }

  isModerator() {
    return this.role === "broadcaster" || this.role === "moderator";
  }

  showModes(modes) {
    const parts = [];
    if (!modes.chat_enabled) parts.push(this.t.tChatOff);
    if (modes.slow_mode_seconds) parts.push(this.t.tSlow.replace("%s", modes.slow_mode_seconds));
    if (modes.established_only) parts.push(this.t.tEstablished);
    this.modesLine.textContent = parts.join(" ");
    this.modesLine.hidden = parts.length === 0;
    const slow = this.root.querySelector("[data-chat-slow]");
    if (slow) slow.value = String(modes.slow_mode_seconds);
    const enabled = this.root.querySelector("[data-chat-enabled]");
    if (enabled) enabled.checked = modes.chat_enabled;
    const established = this.root.querySelector("[data-chat-established]");
    if (established) established.checked = modes.established_only;
  }

  showError(frame) {
    if (frame.code === "chat_closed") this.closeRoom(); // ended while this page was open
    let text = frame.message || frame.code;
    if (frame.retry_after) text += ` ${this.t.tRetry.replace("%s", Math.ceil(frame.retry_after))}`;
    this.showNotice(text, frame.code);
  }

  showNotice(text, code = "") {
    this.notice.textContent = text;
    this.notice.dataset.code = code;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.notice.hidden = true;
    }, 8000);
  }

  isAtEnd() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
  }

  scrollToEnd(wasAtEnd) {
    if (wasAtEnd) this.log.scrollTop = this.log.scrollHeight;
  }
}

for (const root of document.querySelectorAll("[data-chat]")) new ChatPanel(root);
