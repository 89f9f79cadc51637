// The moderation desk in the admin, without reloads: the alert badge on every admin page
// (counts from a small JSON endpoint), and on the live wall the pictures (re-fetched with a
// cache-busting query) and the rows (re-rendered by the server, swapped in place).

const ALERTS_EVERY_MS = 5000;

async function fetchOk(url, accept) {
  // "manual": an expired sign-in redirects to the login page, which is not an answer.
  const response = await fetch(url, {
    cache: "no-store",
    credentials: "same-origin",
    redirect: "manual",
    headers: { Accept: accept },
  });
  return response.ok ? response : null;
}

function startAlertBadge(badge) {
  const label = badge.querySelector("[data-desk-alert-label]");
  async function refresh() {
    try {
      const response = await fetchOk(badge.dataset.deskAlerts, "application/json");
      if (response) {
        const counts = await response.json();
        label.textContent = counts.label;
        badge.dataset.urgent = String(counts.urgent);
        badge.dataset.open = String(counts.open);
        badge.classList.toggle("is-urgent", counts.urgent > 0);
      }
    } catch {
      // Offline for a moment: the next round tries again.
    }
    setTimeout(refresh, ALERTS_EVERY_MS);
  }
  refresh();
}

function reloadPicture(img) {
  // Load the next picture aside, then swap: the old one stays until the new one is there.
  const box = img.closest(".desk-picture");
  const next = new Image();
  next.addEventListener("load", () => {
    img.src = next.src;
    box.classList.remove("is-empty");
  });
  next.addEventListener("error", () => {
    // None yet, or expired (the broadcast stopped sending): say so rather than show an
    // old picture as if it were live.
    img.removeAttribute("src");
    box.classList.add("is-empty");
  });
  next.src = `${img.dataset.deskThumb}?t=${Date.now()}`;
}

function startWall(wall) {
  const everyMs = Number(wall.dataset.refreshMs) || 5000;
  const refreshPictures = () => wall.querySelectorAll("img[data-desk-thumb]").forEach(reloadPicture);
  // Someone filling in a takedown form must not lose it to a refresh.
  const busy = () =>
    wall.querySelector("details[open]") || document.activeElement?.closest("[data-desk-wall] form");

  async function refresh() {
    try {
      if (!busy()) {
        const response = await fetchOk(wall.dataset.deskWall, "text/html");
        if (response) {
          const html = await response.text();
          if (!busy()) {
            const kept = new Map(
              [...wall.querySelectorAll("img[data-desk-thumb][src]")].map((img) => [
                img.dataset.deskThumb,
                img.getAttribute("src"),
              ]),
            );
            wall.innerHTML = html;
            // Keep showing the pictures already loaded while the new ones come.
            wall.querySelectorAll("img[data-desk-thumb]").forEach((img) => {
              const src = kept.get(img.dataset.deskThumb);
              if (src) {
                img.src = src;
                img.closest(".desk-picture").classList.remove("is-empty");
              }
            });
          }
        }
      }
      refreshPictures();
    } catch {
      // The next round tries again.
    }
    setTimeout(refresh, everyMs);
  }
  refreshPictures();
  setTimeout(refresh, everyMs);
}

document.querySelectorAll("[data-desk-alerts]").forEach(startAlertBadge);
document.querySelectorAll("[data-desk-wall]").forEach(startWall);
