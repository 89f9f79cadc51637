"""axe-core in real Chromium, for tests/test_accessibility.py: pages opened signed out or
signed in, audited at desktop and phone widths, and a report that says what to fix.

axe-core is loaded as a DevTools init script, which the site's Content-Security-Policy
(script-src 'self') does not apply to: each page is audited exactly as it is served,
with the policy on, and no inline script is added to it."""

import warnings
from dataclasses import dataclass, field

import pytest
from django.conf import settings

from tests.conftest import OUTPUT_DIR

# What fails a test; moderate and minor violations, and what axe could not decide
# ("needs review": text over a picture, say), are reported only.
BLOCKING = ("critical", "serious")
REVIEW = "needs review"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}
REPORTS = OUTPUT_DIR / "accessibility"

RUN_AXE = """async (review) => {
  const results = await axe.run(document, {resultTypes: ["violations", "incomplete"]});
  const pick = (list, impact) => list.map(v => ({
    id: v.id, impact: impact || v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), why: n.failureSummary || ""})),
  }));
  return [...pick(results.violations), ...pick(results.incomplete, review)];
}"""


@dataclass
class Finding:
    state: str  # what the page showed, in words
    device: str
    path: str
    rule: dict  # id, impact, help, url, nodes


@dataclass
class Site:
    """Browser contexts on the live server, each signed out or signed in as someone,
    and what axe found on the pages audited so far."""

    browser: object
    server: object
    axe: str
    contexts: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    audited: int = 0

    def page(self, *, user=None, session_key=None):
        context = self.browser.new_context(
            viewport=VIEWPORTS["desktop"], locale="en", base_url=self.server.url
        )
        self.contexts.append(context)
        context.add_init_script(script=self.axe)
        key = session_key or (user and session_of(user))
        if key:
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": key, "url": self.server.url}]
            )
        page = context.new_page()
        page.set_default_timeout(30_000)
        # Printed when a test fails: why a page never reached the state to audit.
        page.on("console", lambda msg: print(f"console {msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: print(f"page error: {exc}"))
        return page

    def visit(self, path, *, status=200, **who):
        page = self.page(**who)
        response = page.goto(path)
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        return page

    def audit(self, page, state):
        """Run axe on the page as it is now, at each width."""
        assert page.evaluate("typeof axe === 'object' && typeof axe.run === 'function'"), (
            f"axe-core did not load on {page.url}"
        )
        path = page.url.removeprefix(self.server.url)
        for device, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            for rule in page.evaluate(RUN_AXE, REVIEW):
                self.findings.append(Finding(state, device, path, rule))
        page.set_viewport_size(VIEWPORTS["desktop"])
        self.audited += 1

    def close(self):
        for context in self.contexts:
            context.close()


def session_of(user):
    """A session of its own for `user` (a shared test client would rotate the key)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def grouped(findings):
    """One entry per rule, page state and element, with the widths it was seen at,
    worst first."""
    entries = {}
    for f in findings:
        for node in f.rule["nodes"]:
            key = (f.rule["impact"], f.rule["id"], f.state, node["target"])
            entry = entries.setdefault(key, {"f": f, "node": node, "devices": []})
            entry["devices"].append(f.device)
    order = {impact: rank for rank, impact in enumerate(("critical", "serious", "moderate"))}
    return sorted(
        entries.values(), key=lambda e: (order.get(e["f"].rule["impact"], 9), e["f"].rule["id"])
    )


def describe(entries):
    lines = []
    for e in entries:
        f, rule, node = e["f"], e["f"].rule, e["node"]
        lines += [
            f"- [{rule['impact']}] {rule['id']}: {rule['help']} ({rule['url']})",
            f"    on: {f.state} ({f.path}, {' and '.join(e['devices'])})",
            f"    element: {node['target']}",
            f"    {' '.join(node['why'].split())}",
        ]
    return "\n".join(lines)


def verdict(site, name):
    """Fail on serious and critical violations, saying what to fix; print the rest, and
    keep everything in test-output/accessibility/<name>.txt."""
    assert site.audited, f"{name}: no page was audited"
    entries = grouped(site.findings)
    blocking = [e for e in entries if e["f"].rule["impact"] in BLOCKING]
    others = [e for e in entries if e["f"].rule["impact"] not in BLOCKING]
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.txt").write_text(describe(entries) + "\n" if entries else "clean\n")
    if others:
        print(f"{name}: reported, not failed on:\n{describe(others)}")
        rules = sorted({f"{e['f'].rule['id']} ({e['f'].rule['impact']})" for e in others})
        warnings.warn(f"accessibility of {name}: {', '.join(rules)}", stacklevel=2)
    if blocking:
        pytest.fail(
            f"{len(blocking)} serious or critical accessibility violation(s) on {name}:\n"
            + describe(blocking),
            pytrace=False,
        )
