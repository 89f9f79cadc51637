// The report dialog (templates/safety/_report_dialog.html). Any button with
// data-report-target="broadcast|message" and data-report-id opens it (the watch page's,
// and each chat message's, added by chat.js); data-report-summary says what is reported.
// It posts to /api/reports (docs/safety.md, "Reporting"). Everything shown is text:
// only plain https URLs in the help text become links.

const HTTPS_URL = /\bhttps:\/\/[^\s<>"']+/g;

function textWithLinks(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(HTTPS_URL)) {
    // Trailing punctuation belongs to the sentence, not the link.
    const candidate = match[0].replace(/[.,;:!?)\]]+$/, "");
    let url;
    try {
      url = new URL(candidate);
    } catch {
      continue;
    }
    if (url.protocol !== "https:") continue;
    fragment.append(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = url.href;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    a.textContent = candidate;
    fragment.append(a);
    last = match.index + candidate.length;
  }
  fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

class ReportDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.t = dialog.dataset;
    this.form = dialog.querySelector("[data-report-form]");
    this.heading = dialog.querySelector("[data-report-heading]");
    this.summary = dialog.querySelector("[data-report-summary]");
    this.details = dialog.querySelector("[data-report-details]");
    this.optional = dialog.querySelector("[data-report-optional]");
    this.error = dialog.querySelector("[data-report-error]");
    this.send = dialog.querySelector("[data-report-send]");
    this.done = dialog.querySelector("[data-report-done]");
    this.target = null;
    this.opener = null;
    document.addEventListener("click", (event) => {
      const button = event.target.closest?.("[data-report-target]");
      if (button) this.open(button);
    });
    this.form.addEventListener("change", () => this.requireDetailsForOther());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    dialog.querySelector("[data-report-cancel]").addEventListener("click", () => dialog.close());
    dialog.querySelector("[data-report-close]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => this.opener?.focus());
  }

  open(button) {
    this.opener = button;
    this.target = { target: button.dataset.reportTarget, id: button.dataset.reportId };
    this.heading.textContent = this.target.target === "message" ? this.t.tMessage : this.t.tBroadcast;
    this.summary.textContent = button.dataset.reportSummary || "";
    this.summary.hidden = !this.summary.textContent;
    this.form.reset();
    this.requireDetailsForOther();
    this.showError("");
    this.send.disabled = false;
    this.form.hidden = false;
    this.done.hidden = true;
    this.dialog.showModal();
  }

  requireDetailsForOther() {
    const other = this.form.elements.reason.value === "other";
    this.details.required = other;
    this.optional.hidden = other;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  async submit() {
    if (!this.form.reportValidity()) return;
    const body = {
      ...this.target,
      reason: this.form.elements.reason.value,
      details: this.details.value,
    };
    this.send.disabled = true;
    this.showError("");
    const label = this.send.textContent;
    this.send.textContent = this.t.tSending;
    let response = null;
    let result = {};
    try {
      response = await fetch(this.t.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": this.form.elements.csrfmiddlewaretoken.value,
        },
        body: JSON.stringify(body),
      });
      result = await response.json();
    } catch {
      result = {};
    }
    this.send.textContent = label;
    this.send.disabled = false;
    if (response?.ok && result.type === "report") {
      this.showDone(result);
      return;
    }
    let text = result.message || this.t.tFailed;
    if (result.retry_after) text += ` ${this.t.tRetry.replace("%s", Math.ceil(result.retry_after / 60))}`;
    this.showError(text);
  }

  showDone(result) {
    this.form.hidden = true;
    this.done.hidden = false;
    this.done.querySelector("[data-report-confirmation]").textContent = result.message;
    const help = this.done.querySelector("[data-report-help]");
    help.hidden = !result.help;
    help.querySelector("[data-report-help-text]").replaceChildren(textWithLinks(result.help || ""));
    this.done.querySelector("[data-report-done-title]").focus();
  }
}

const dialog = document.querySelector("[data-report-dialog]");
if (dialog) new ReportDialog(dialog);
