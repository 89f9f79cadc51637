// The home page's live cards, kept current without a reload. It polls the live listing
// (GET data-live-url, see docs/protocol.md) every data-poll-s seconds while the tab is
// visible, backing off on errors, and stops while the tab is hidden. New broadcasts get a
// card (cloned from the page's <template>), ended ones lose theirs, viewer counts and live
// pictures follow. A picture is replaced at most once per data-thumbnail-every-s (the
// server takes one that often) and only once the new one has loaded; a card whose
// picture fails shows its neutral face, never a broken image. Text goes in with
// textContent only; every word comes from the page.

const MAX_BACKOFF_S = 60;

function sameOriginPath(value) {
  try {
    const url = new URL(value, window.location.href);
    return url.origin === window.location.origin ? url.pathname + url.search : null;
  } catch {
    return null;
  }
}

class LiveCards {
  constructor(root) {
    this.root = root;
    this.grid = root.querySelector("[data-card-grid]");
    this.empty = root.querySelector("[data-live-empty]");
    this.template = root.querySelector("template[data-card-template]");
    this.url = root.dataset.liveUrl;
    this.pollMs = Math.max(1, Number(root.dataset.pollS) || 5) * 1000;
    this.thumbnailMs = Math.max(0, Number(root.dataset.thumbnailEveryS) || 0) * 1000;
    this.failures = 0;
    this.timer = null;
    this.inFlight = false;
    this.polls = 0;
    this.delayMs = null;
    for (const card of this.cards()) this.adopt(card);
    document.addEventListener("visibilitychange", () => this.onVisibility());
    this.schedule();
  }

  cards() {
    return [...this.grid.querySelectorAll("[data-live-card]")];
  }

  // A server-rendered card: its picture counts as just shown; a failed one is hidden.
  adopt(card) {
    const img = card.querySelector("[data-card-thumb]");
    card.pictureShownAt = img.hidden ? 0 : performance.now();
    card.pictureUrl = img.hidden ? null : img.getAttribute("src");
    img.addEventListener("error", () => this.showPlaceholder(card));
    if (!img.hidden && img.complete && img.naturalWidth === 0) this.showPlaceholder(card);
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (document.hidden) return;
    const backoff = Math.min(MAX_BACKOFF_S * 1000, this.pollMs * 2 ** this.failures);
    // A little jitter: pages opened together do not poll together.
    this.delayMs = backoff * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => this.poll(), this.delayMs);
  }

  onVisibility() {
    if (document.hidden) {
      clearTimeout(this.timer);
      this.timer = null;
    } else if (!this.inFlight) {
      this.poll(); // back on the tab: catch up at once
    }
  }

  async poll() {
    clearTimeout(this.timer); // called early (the tab came back): one loop, never two
    this.timer = null;
    if (document.hidden || this.inFlight) return;
    this.inFlight = true;
    try {
      const response = await fetch(this.url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const listing = await response.json();
      this.render(Array.isArray(listing.broadcasts) ? listing.broadcasts : []);
      this.failures = 0;
    } catch {
      this.failures = Math.min(this.failures + 1, 10);
    } finally {
      this.inFlight = false;
      this.polls += 1;
      this.root.dataset.polls = String(this.polls);
    }
    this.schedule();
  }

  render(entries) {
    const bySlug = new Map(this.cards().map((card) => [card.dataset.slug, card]));
    const wanted = entries.filter((entry) => typeof entry?.slug === "string" && entry.slug);
    const keep = new Set(wanted.map((entry) => entry.slug));
    for (const [slug, card] of bySlug) {
      if (!keep.has(slug)) card.remove();
    }
    wanted.forEach((entry, index) => {
      const card = bySlug.get(entry.slug) || this.newCard(entry.slug);
      this.fill(card, entry);
      // Moved only when out of place: moving a card would drop the keyboard focus.
      const here = this.grid.children[index];
      if (here !== card) this.grid.insertBefore(card, here || null);
    });
    this.grid.hidden = wanted.length === 0;
    this.empty.hidden = wanted.length > 0;
  }

  newCard(slug) {
    const card = this.template.content.firstElementChild.cloneNode(true);
    card.dataset.slug = slug;
    this.adopt(card);
    return card;
  }

  fill(card, entry) {
    const link = card.querySelector("[data-card-link]");
    const href = sameOriginPath(entry.url);
    if (href) link.setAttribute("href", href);
    card.querySelector("[data-card-title]").textContent = entry.title ?? "";
    const who = entry.broadcaster || {};
    card.querySelector("[data-card-name]").textContent = who.name ?? "";
    card.querySelector("[data-card-handle]").textContent = who.handle ?? "";
    card.querySelector("[data-card-handle-wrap]").hidden = !who.handle;
    const viewers = card.querySelector("[data-card-viewers]");
    const known = Number.isInteger(entry.viewers);
    viewers.hidden = !known;
    if (known) {
      viewers.querySelector("[data-card-count]").textContent = String(entry.viewers);
      card.dataset.viewers = String(entry.viewers);
    } else {
      delete card.dataset.viewers;
    }
    this.updatePicture(card, entry.thumbnail ? sameOriginPath(entry.thumbnail) : null);
  }

  updatePicture(card, url) {
    if (!url) {
      card.pictureUrl = null;
      this.showPlaceholder(card);
      return;
    }
    if (url === card.pictureUrl || url === card.pendingUrl) return;
    const due = card.pictureShownAt + this.thumbnailMs;
    if (card.pictureUrl && performance.now() < due) return; // refreshed recently enough
    // Loaded off-screen first: the card swaps pictures without a blank in between.
    card.pendingUrl = url;
    const next = new Image();
    next.onload = () => {
      if (card.pendingUrl !== url) return;
      card.pendingUrl = null;
      const img = card.querySelector("[data-card-thumb]");
      img.src = url;
      img.hidden = false;
      card.querySelector("[data-card-placeholder]").hidden = true;
      card.pictureUrl = url;
      card.pictureShownAt = performance.now();
    };
    next.onerror = () => {
      if (card.pendingUrl === url) card.pendingUrl = null;
    };
    next.src = url;
  }

  showPlaceholder(card) {
    card.querySelector("[data-card-thumb]").hidden = true;
    card.querySelector("[data-card-placeholder]").hidden = false;
    card.pictureUrl = null;
    card.pendingUrl = null;
  }
}

const root = document.querySelector("[data-live-home]");
if (root) root.liveCards = new LiveCards(root);
