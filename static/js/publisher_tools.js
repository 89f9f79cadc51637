// Small browser helpers of the go-live page that know nothing of broadcasting: copying
// text, keeping the screen awake, clocks and placeholders. Kept apart so publisher.js
// reads as the broadcast's life cycle.

// Copy `text` to the clipboard: the async Clipboard API where the page may use it, else
// the older copy command on a hidden text field (http pages, browsers that refuse the
// API without a permission). Resolves to whether it worked.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API, or not allowed here: try the copy command below.
  }
  const field = document.createElement("textarea");
  field.value = text;
  field.readOnly = true;
  field.className = "copy-buffer";
  document.body.append(field);
  field.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  field.remove();
  return copied;
}

// The Screen Wake Lock while `hold()` is in force: browsers release it whenever the page
// is hidden, so it is taken again each time the page comes back. `onchange(held)` tells
// the page (and tests) whether the screen is kept on right now.
export function screenWakeLock(onchange = () => {}) {
  let sentinel = null;
  let wanted = false;

  async function take() {
    if (!wanted || sentinel || !navigator.wakeLock || document.visibilityState !== "visible") {
      return;
    }
    try {
      sentinel = await navigator.wakeLock.request("screen");
      sentinel.addEventListener("release", () => {
        sentinel = null;
        onchange(false);
      });
      onchange(true);
    } catch {
      sentinel = null; // refused (battery saver, policy): the screen may dim, nothing else
      onchange(false);
    }
  }

  document.addEventListener("visibilitychange", take);
  return {
    get sentinel() {
      return sentinel; // the browser's lock while held (tests release it as hiding does)
    },
    hold() {
      wanted = true;
      return take();
    },
    release() {
      wanted = false;
      sentinel?.release().catch(() => {});
      sentinel = null;
      onchange(false);
    },
  };
}

// 3725 -> "1:02:05"
export function formatClock(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  return `${Math.floor(seconds / 3600)}:${mm}:${ss}`;
}

// Django-style named placeholders in a translated string: fill("%(n)s s", {n: 3}).
export function fill(template, values) {
  return String(template).replace(/%\((\w+)\)s/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}
