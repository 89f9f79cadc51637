"""Every page people use passes axe-core in real Chromium, at desktop and phone widths,
signed out and signed in as each page needs: no serious or critical violation. Moderate
and minor ones are printed and written to test-output/accessibility/, not failed on
(tests/axe.py runs axe and writes the report).

A last check walks the URLconf, so that a new page cannot be forgotten: each route is
audited below, or NOT_AUDITED says why not."""

import re
from importlib import import_module

import pytest
from django.conf import settings
from django.core.cache import cache
from django.template import loader
from django.urls import reverse
from django.utils import timezone

from accounts.blocks import block_user
from broadcast.services import end_broadcast_by_owner
from safety.appeals import file_appeal
from safety.bans import ban_account
from safety.models import Reason
from safety.restrictions import restrict
from tests.axe import Site, verdict
from tests.conftest import require
from tests.permissions.routes import every_route, excluded
from tests.permissions.world import remember_refused_sign_in
from tests.safety.desk_support import (
    chatter,
    live_broadcast,
    message_in,
    moderator,
    plain_staff,
    report,
)
from tests.support import node_tool, years_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = node_tool("axe-core")


# --- the world the pages show ----------------------------------------------------------
def ended_broadcast(owner=None, **fields):
    broadcast = live_broadcast(owner=owner or chatter(), **fields)
    end_broadcast_by_owner(broadcast=broadcast, user=broadcast.owner)
    return broadcast


def restricted(by=None):
    """Someone restricted from going live by a moderator: a notice and an audit entry."""
    return restrict(user=chatter(), by=by or moderator(), reason="Streamed a fight.")


# --- the pages ------------------------------------------------------------------------
CASES = {}


def case(*routes):
    """Register an audit of the pages of `routes` (route names, see every_route)."""

    def register(func):
        CASES[func.__name__.removeprefix("audit_")] = (routes, func)
        return func

    return register


@case("home")
def audit_home(site):
    site.audit(site.visit("/"), "home, nobody live, signed out")
    live_broadcast(title="Sunset over the harbour")
    live_broadcast(title="Cooking a late dinner")
    site.audit(site.visit("/"), "home, two live, signed out")
    site.audit(site.visit("/", user=chatter()), "home, two live, signed in")


@case("rules", "privacy")
def audit_rules_and_privacy(site):
    site.audit(site.visit("/rules/"), "community rules")
    site.audit(site.visit("/privacy/"), "privacy")


@case("account_login", "accounts:reconnect_x", "accounts:consent_denied")
def audit_sign_in(site):
    site.audit(site.visit(reverse("account_login")), "sign-in")
    site.audit(site.visit(reverse("accounts:reconnect_x"), user=chatter()), "reconnect X")
    site.audit(site.visit(reverse("accounts:consent_denied")), "X consent denied")


@case("accounts:confirm_age", "accounts:refused")
def audit_age_confirmation_then_refusal(site):
    """Through the X emulator's consent page, as a first sign-in goes."""
    page = site.visit("/")
    page.get_by_test_id("x-sign-in").first.click()
    # X's page (the emulator's) is not audited: its form is enough.
    page.wait_for_url(f"{settings.X_AUTH_BASE}/i/oauth2/authorize**", wait_until="commit")
    page.fill("#id_username", f"a11y{timezone.now().strftime('%H%M%S%f')}"[:15])
    page.fill("#id_name", "Young One")
    page.click("#approve")
    page.wait_for_url("**/accounts/x/birth-date/")
    site.audit(page, "age confirmation")
    page.fill("#id_birth_date", "not a date")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector(".errorlist")
    site.audit(page, "age confirmation, with an error")
    page.fill("#id_birth_date", years_ago(12).isoformat())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/accounts/x/refused/")
    site.audit(page, "sign-in refused, too young")


@case("accounts:refused", "safety:notices")
def audit_banned_reader(site):
    """A banned account, refused at sign-in, reads its notice and the appeal form."""
    user = chatter()
    ban_account(user=user, by=moderator(), reason="Threats in chat.")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.create()
    remember_refused_sign_in(store.session_key, user)
    site.audit(
        site.visit(reverse("accounts:refused"), status=403, session_key=store.session_key),
        "sign-in refused, banned",
    )
    page = site.visit(reverse("safety:notices"), session_key=store.session_key)
    site.audit(page, "notices of a banned account, signed out, with the appeal form")


@case("accounts:deletion_pending")
def audit_deletion_pending(site):
    site.audit(site.visit(reverse("accounts:deletion_pending"), status=409), "deletion pending")


@case("accounts:profile", "accounts:download_data")
def audit_profile_and_data(site):
    user = chatter()
    cache.delete(f"accounts:export:{user.pk}")  # an earlier run's user of the same id
    page = site.visit(reverse("accounts:profile"), user=user)
    site.audit(page, "profile")
    with page.expect_download():
        page.get_by_test_id("download-data").click()
    with page.expect_navigation():
        page.get_by_test_id("download-data").click()
    assert page.locator(".message-error").count() == 1
    site.audit(page, "profile, data download refused for a minute")


@case("accounts:blocks", "accounts:unblock")
def audit_blocks(site):
    user = chatter()
    for _ in range(2):
        block_user(blocker=user, blocked_id=chatter().pk)
    page = site.visit(reverse("accounts:blocks"), user=user)
    site.audit(page, "blocks, two people")
    with page.expect_navigation():
        page.get_by_role("button", name="Unblock").first.click()
    site.audit(page, "blocks, after unblocking one")


@case("accounts:delete_account", "accounts:deleted")
def audit_delete_account(site):
    user = chatter()
    page = site.visit(reverse("accounts:delete_account"), user=user)
    site.audit(page, "delete account")
    field_ = page.locator("input[name=confirm]")
    field_.fill("someone-else")
    with page.expect_navigation():
        field_.press("Enter")
    site.audit(page, "delete account, wrong handle")
    page.locator("input[name=confirm]").fill(user.handle)
    with page.expect_navigation():
        page.locator("input[name=confirm]").press("Enter")
    page.wait_for_url("**/accounts/deleted/")
    site.audit(page, "account deleted")


@case("safety:notices", "safety:appeal")
def audit_notices(site):
    restriction = restricted()
    page = site.visit(reverse("accounts:profile"), user=restriction.user)
    page.get_by_test_id("notice-banner").wait_for()
    site.audit(page, "profile, with the banner of an unread notice")
    page.get_by_test_id("notice-banner").get_by_role("link").click()
    page.wait_for_url("**" + reverse("safety:notices"))
    site.audit(page, "notices, one with the appeal form")
    page.locator("textarea[name=text]").fill("It was a film scene, not a real fight.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send my appeal").click()
    page.locator("[data-testid=appeal-state]").wait_for()
    site.audit(page, "notices, appeal sent")
    site.audit(site.visit(reverse("safety:notices"), user=chatter()), "notices, none")


@case("broadcast:go_live")
def audit_go_live(site):
    site.audit(
        site.visit(reverse("broadcast:go_live"), user=chatter()), "go live, before going live"
    )


@case("broadcast:watch")
def audit_watch_live(site):
    broadcast = live_broadcast(title="Morning run by the lake")
    message_in(broadcast)
    page = site.visit(broadcast.get_absolute_url())
    page.locator("[data-chat-log] li").first.wait_for()
    site.audit(page, "watch, live, signed out")
    page = site.visit(broadcast.get_absolute_url(), user=chatter())
    page.locator("[data-chat-log] li").first.wait_for()
    site.audit(page, "watch, live, signed in")
    # Signed in: the hourly report limit counts this account, not the shared address.
    page.locator("[data-report-target=broadcast]").click()
    page.locator("[data-report-dialog][open]").wait_for()
    site.audit(page, "watch, live, report dialog open")
    page.get_by_role("radio").first.check()
    page.locator("[data-report-send]").click()
    page.locator("[data-report-done]").wait_for()
    site.audit(page, "watch, live, report sent")


@case("broadcast:watch")
def audit_watch_ended(site):
    broadcast = ended_broadcast(title="Last night's stream")
    site.audit(site.visit(broadcast.get_absolute_url()), "watch, ended")


@case("chat:popout")
def audit_chat_popout(site):
    broadcast = live_broadcast()
    message_in(broadcast)
    page = site.visit(reverse("chat:popout", args=[broadcast.slug]), user=broadcast.owner)
    page.locator("[data-chat-log] li").first.wait_for()
    page.locator("[data-chat-mod] summary").click()  # shown to the room's moderators
    site.audit(page, "chat popout, the broadcaster's, moderation tools open")


@case("broadcast:broadcaster", "accounts:block")
def audit_broadcaster(site):
    owner = chatter(display_name="Harbour Cam")
    ended_broadcast(owner, title="Yesterday at the harbour")
    live_broadcast(owner=owner, title="The harbour at dusk")
    path = reverse("broadcast:broadcaster", args=[owner.handle])
    site.audit(site.visit(path), "broadcaster's page, signed out")
    page = site.visit(path, user=chatter())
    site.audit(page, "broadcaster's page, signed in")
    with page.expect_navigation():
        page.get_by_role("button", name="Block").click()
    site.audit(page, "broadcaster's page, after blocking")


@case()
def audit_error_pages(site):
    site.audit(site.visit("/no-such-page/", status=404), "404")
    # Staff outside the Moderators group are refused the desk: the site's 403 page.
    site.audit(site.visit(reverse("admin:safety_live"), status=403, user=plain_staff()), "403")
    # A form whose CSRF cookie is gone: the 403 page says what to do.
    page = site.visit("/rules/")
    page.context.clear_cookies(name=settings.CSRF_COOKIE_NAME)
    with page.expect_navigation():
        page.select_option("#lang-select", "fr")
    assert page.locator(".error-code").inner_text() == "403"
    site.audit(page, "403, form out of date")
    # Nothing breaks on purpose: the 500 page as the handler renders it, served with the
    # headers of a real response of the site (its policy included).
    page = site.page()
    html = loader.render_to_string("errors/500.html")
    page.route(
        "**/broken/",
        lambda route: route.fulfill(response=route.fetch(), status=500, body=html),
    )
    page.goto("/broken/")
    site.audit(page, "500")


# --- the moderation desk, as a member of the Moderators group ---------------------------
@case("admin:login", "admin:index", "admin:app_list", "admin:safety_live")
def audit_desk_index_and_wall(site):
    site.audit(site.visit(reverse("admin:login")), "admin sign-in, signed out")
    desk = moderator()
    calm = live_broadcast(title="Knitting")
    fight = live_broadcast(title="Street fight downtown")
    report(fight, by=chatter(), reason=Reason.CRIME, details="Someone is being hurt")
    site.audit(site.visit(reverse("admin:index"), user=desk), "admin home")
    site.audit(site.visit(reverse("admin:app_list", args=["safety"]), user=desk), "admin, safety")
    page = site.visit(reverse("admin:safety_live"), user=desk)
    page.locator(f'[data-desk-card="{calm.slug}"]').wait_for()
    page.locator("[data-desk-alert-label]").filter(has_text="open").wait_for()
    site.audit(page, "live wall")
    page.locator(f'[data-desk-card="{fight.slug}"] summary').click()
    site.audit(page, "live wall, takedown form open")


@case("admin:safety_report_changelist", "admin:safety_report_change")
def audit_desk_reports(site):
    desk = moderator()
    broadcast = live_broadcast(title="Street fight downtown")
    filed = report(broadcast, by=chatter(), reason=Reason.CRIME)
    report(message_in(broadcast, "Buy followers at spam.example"), by=chatter())
    page = site.visit(reverse("admin:safety_report_changelist"), user=desk)
    site.audit(page, "reports queue")
    page = site.visit(reverse("admin:safety_report_change", args=[filed.pk]), user=desk)
    site.audit(page, "a report")
    with page.expect_navigation():
        page.get_by_role("button", name="Take down the broadcast").click()
    page.locator(".desk-act-form").wait_for()
    site.audit(page, "a report's act page: take down")


@case("admin:safety_auditentry_changelist", "admin:safety_appeal_change")
def audit_desk_log_and_appeal(site):
    desk = moderator()
    restriction = restricted(by=moderator())
    appeal = file_appeal(
        notice=restriction.notices.get(), user=restriction.user, text="It was a film scene."
    )
    site.audit(site.visit(reverse("admin:safety_auditentry_changelist"), user=desk), "audit log")
    page = site.visit(reverse("admin:safety_appeal_change", args=[appeal.pk]), user=desk)
    site.audit(page, "an appeal to decide")


# --- the tests ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def axe_source():
    require(AXE, "axe-core (npm ci)")
    return (AXE / "axe.min.js").read_text()


@pytest.fixture
def site(browser, live_server_process, axe_source):
    site = Site(browser, live_server_process, axe_source)
    yield site
    site.close()


@pytest.mark.parametrize("name", list(CASES))
def test_page_has_no_serious_accessibility_violation(site, name):
    CASES[name][1](site)
    verdict(site, name)


def test_axe_runs_under_the_sites_content_security_policy(site):
    """The audits could pass by auditing nothing: a missing text alternative, added to a
    page served with its policy, must be found."""
    page = site.visit("/no-such-page/", status=404)
    assert "script-src 'self'" in page.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    page.evaluate(
        "document.querySelector('main').append("
        "Object.assign(document.createElement('img'), {src: '/static/img/favicon.svg'}))"
    )
    site.audit(page, "404 with an image without alt")
    found = {(f.rule["id"], f.rule["impact"]) for f in site.findings}
    assert ("image-alt", "critical") in found


# Routes that are not pages a person reads, or that this test leaves out, and why.
NOT_AUDITED = {
    "healthz": "JSON for the load balancer",
    "set_language": "POST only; answers with a redirect to the page the person was on",
    "x_post_status": "JSON for the go-live page's post status",
    "account_signup": "a redirect to the sign-in page (X is the only way in)",
    "broadcast:api": "JSON for the watch page",
    "broadcast:live_api": "JSON for the home page's list",
    "broadcast:thumbnail": "a JPEG",
    "broadcast:end": "POST only; the go-live page calls it",
    "safety:report": "JSON API behind the report dialog (the dialog is audited on the watch page)",
    "admin:logout": "POST only",
    "admin:password_change": "Django's own form; staff sign in with X and have no password",
    "admin:password_change_done": "Django's own page; staff have no password",
    "admin:jsi18n": "JavaScript",
    "admin:autocomplete": "JSON",
    "admin:view_on_site": "a redirect",
    "admin:safety_live_take_down": "POST only; answers with a redirect to the live wall",
    "admin:safety_alerts": "JSON for the desk's alert badge",
    "admin:safety_report_thumbnail": "a JPEG",
    "admin:safety_auditentry_export": "a CSV file",
    "admin/(?P<url>.*)$": "the admin's catch-all: its 404",
}
# Django's generic admin pages of every model (list, add, change, delete, history, and
# the object link): Django's templates, with only the header of OnAir's base_site,
# which the desk pages above audit. The desk's own pages among them are audited.
MODEL_ADMIN = re.compile(
    r"^(admin:\w+_(changelist|add|change|delete|history)|admin/\w+/\w+/<path:object_id>/)$"
)


def test_no_page_is_forgotten():
    """Every route of the URLconf is audited above, or said above why not."""
    audited = {route for routes, _func in CASES.values() for route in routes}
    left_out = {**excluded(), **NOT_AUDITED}
    forgotten = [
        route
        for route in dict.fromkeys(every_route())
        if route not in audited and route not in left_out and not MODEL_ADMIN.match(route)
    ]
    assert not forgotten, f"routes neither audited nor listed in NOT_AUDITED: {forgotten}"
    stale = [route for route in {*audited, *NOT_AUDITED} if route not in set(every_route())]
    assert not stale, f"routes named here that the URLconf no longer has: {stale}"
