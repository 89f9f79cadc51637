// The go-live post to X, as the broadcaster sees it: queued -> posted (with a link to the
// post), or the failure reason. The element carries the localized strings as data
// attributes (see templates/accounts/_x_post_status.html); text goes in with
// textContent only, never innerHTML. A reason reads "trying again" only while the post
// is still queued; once it failed, it says why it was not posted and, when the element
// has data-share-url (X's share intent), offers to post the link by hand.
//
//   renderXPostStatus(element, {state, post_url, reason})   // from the publish socket
//   startXPostStatus(element, {url})  // state from `url` (or data-url); polls while not
//                              // final when data-poll is set (the embedded mode's channel
//                              // layer does not carry the worker's events to the page);
//                              // stops at once when there is no post to follow (state
//                              // "none", or the endpoint refuses: 403/404)

const FINAL_STATES = new Set(["posted", "failed", "needs_reconnect"]);
// Which strings explain a reason code, by state: retrying, or given up.
const REASON_PREFIX = { queued: "reason", posting: "reason", failed: "failed" };
// Failures the broadcaster can make up for by posting the link themselves (not a
// broadcast that was removed).
const SHAREABLE = (state, reason) =>
  (state === "failed" && reason !== "withdrawn") || state === "needs_reconnect";

// The dataset name of data-<prefix>-<key> (state and reason codes use "_" for "-").
function datasetKey(prefix, key) {
  const attribute = `${prefix}-${String(key).replaceAll("_", "-")}`;
  return attribute.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
}

function label(element, prefix, key, fallbackKey) {
  const data = element.dataset;
  return data[datasetKey(prefix, key)] ?? data[datasetKey(prefix, fallbackKey)] ?? "";
}

function safeHttpUrl(value) {
  if (!value) return null;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export function renderXPostStatus(element, message) {
  if (!element || !message) return;
  const state = message.state || "none";
  element.dataset.state = state;
  element.hidden = state === "none";
  element.replaceChildren();

  const text = document.createElement("span");
  text.className = "xpost-text";
  text.textContent = label(element, "label", state, "unknown");
  element.append(text);

  const prefix = REASON_PREFIX[state];
  if (prefix && (message.reason || state === "failed")) {
    const reason = document.createElement("span");
    reason.className = "xpost-reason";
    reason.textContent = label(element, prefix, message.reason || "default", "default");
    element.append(" ", reason);
  }

  const postUrl = state === "posted" ? safeHttpUrl(message.post_url) : null;
  if (postUrl) {
    const link = document.createElement("a");
    link.href = postUrl;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = element.dataset.linkLabel || postUrl;
    element.append(" ", link);
  }

  const reconnectUrl = element.dataset.reconnectUrl;
  if (state === "needs_reconnect" && reconnectUrl) {
    const link = document.createElement("a");
    link.href = reconnectUrl;
    link.className = "btn btn-primary btn-small";
    link.textContent = element.dataset.reconnectLabel || reconnectUrl;
    element.append(" ", link);
  }

  const shareUrl = safeHttpUrl(element.dataset.shareUrl);
  if (shareUrl && SHAREABLE(state, message.reason)) {
    const link = document.createElement("a");
    link.href = shareUrl;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.className = "btn btn-ghost btn-small xpost-share";
    link.dataset.xpostShare = "";
    link.textContent = element.dataset.shareLabel || shareUrl;
    element.append(" ", link);
  }
}

export async function startXPostStatus(
  element,
  { url = null, intervalMs = 2000, maxPolls = 300 } = {},
) {
  if (url && element) element.dataset.url = url;
  if (!element?.dataset.url) return;
  for (let poll = 0; poll < maxPolls; poll += 1) {
    try {
      const response = await fetch(element.dataset.url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.status === 403 || response.status === 404) return;
      if (response.ok) {
        const message = await response.json();
        // A newer message from the socket wins over a late poll answer.
        if (!FINAL_STATES.has(element.dataset.state)) renderXPostStatus(element, message);
        if (message.state === "none") return; // "Tell my followers" is off: nothing to follow
      }
    } catch {
      // Offline for a moment: the next poll tries again.
    }
    const state = element.dataset.state;
    if (!("poll" in element.dataset) || FINAL_STATES.has(state)) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

for (const element of document.querySelectorAll("[data-xpost-status][data-autostart]")) {
  startXPostStatus(element);
}
