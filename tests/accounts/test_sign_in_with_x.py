"""Signing in with X in a real browser, through the X emulator's consent page: the birth
date is asked once, before anything is kept; under 13 is refused for good."""

import itertools
import os
from datetime import date

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.conf import settings

from accounts.models import RefusedXAccount, User
from accounts.selectors import can_broadcast, can_chat, x_id_hash
from tests.support import years_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_names = itertools.count()
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WEB = {}  # the address of this module's web server process


@pytest.fixture
def page(browser, live_server_process):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server_process.url)
    WEB["url"] = live_server_process.url
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def new_handle():
    return f"signin{os.getpid() % 1000}_{next(_names)}"[:15]


def consent(page, *, handle, name, approve=True):
    """From any OnAir page: "Sign in with X", then X's (the emulator's) consent page."""
    page.get_by_test_id("x-sign-in").first.click()
    page.wait_for_url(f"{settings.X_AUTH_BASE}/i/oauth2/authorize**")
    page.fill("#id_username", handle)
    page.fill("#id_name", name)
    page.click("#approve" if approve else "#deny")


def give_birth_date(page, value):
    page.wait_for_url("**/accounts/x/birth-date/")
    page.fill("#id_birth_date", value.isoformat())
    page.get_by_role("button", name="Continue").click()


def shoot(page, name, screenshot_dir):
    page.screenshot(path=str(screenshot_dir / f"accounts-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshot_dir / f"accounts-{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_first_sign_in_asks_the_birth_date_once_then_keeps_the_x_profile(page, x, screenshot_dir):
    handle = new_handle()
    page.goto("/")
    consent(page, handle=handle, name="Ada Lovelace")

    page.wait_for_url("**/accounts/x/birth-date/")
    shoot(page, "birth-date", screenshot_dir)
    assert not User.objects.filter(handle=handle).exists()  # nothing kept before the age
    give_birth_date(page, date(1990, 5, 17))

    page.wait_for_url(live_url(page, "/"))
    assert page.locator(".site-header .who").inner_text() == "Ada Lovelace"
    user = User.objects.get(handle=handle)
    x_user = x.create_user(handle)  # get-or-create: the emulator's record of that user
    assert user.x_id == x_user["id"]
    assert user.display_name == "Ada Lovelace"
    assert user.avatar_url.startswith(settings.X_API_BASE)
    assert user.birth_date == date(1990, 5, 17)
    assert can_chat(user) and can_broadcast(user)
    token = SocialToken.objects.get(account__user=user)
    assert token.token and token.token_secret and token.expires_at
    page.goto("/accounts/profile/")
    assert "You can go live." in page.content()
    shoot(page, "profile", screenshot_dir)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("[data-testid=x-sign-in]")

    # The second sign-in goes straight through: no birth date asked again.
    consent(page, handle=handle, name="Ada Lovelace")
    page.wait_for_url(live_url(page, "/"))
    assert page.locator(".site-header .who").inner_text() == "Ada Lovelace"
    assert User.objects.filter(handle=handle).count() == 1


def test_denied_consent_explains_and_signs_nobody_in(page, screenshot_dir):
    handle = new_handle()
    page.goto("/accounts/login/")
    shoot(page, "sign-in", screenshot_dir)
    consent(page, handle=handle, name="No Thanks", approve=False)

    page.wait_for_url("**/accounts/x/denied/")
    assert "Sign-in cancelled" in page.get_by_test_id("consent-denied").inner_text()
    shoot(page, "consent-denied", screenshot_dir)
    assert not User.objects.filter(handle=handle).exists()
    assert page.get_by_test_id("x-sign-in").count() >= 1


def test_under_13_is_refused_for_good_and_only_a_hash_is_kept(page, x, screenshot_dir):
    handle = new_handle()
    x_id = x.create_user(handle, name="Young One")["id"]
    page.goto("/")
    consent(page, handle=handle, name="Young One")
    give_birth_date(page, years_ago(12))

    page.wait_for_url("**/accounts/x/refused/")
    assert "cannot use OnAir" in page.get_by_test_id("age-refused").inner_text()
    shoot(page, "refused", screenshot_dir)
    assert list(RefusedXAccount.objects.values_list("x_id_hash", flat=True)) == [x_id_hash(x_id)]
    assert x_id not in RefusedXAccount.objects.get().x_id_hash
    assert not User.objects.filter(x_id=x_id).exists()
    assert not SocialAccount.objects.filter(uid=x_id).exists()

    # Trying again with the same X account is refused at once, with no birth-date step.
    page.goto("/")
    consent(page, handle=handle, name="Young One")
    page.wait_for_url("**/accounts/x/refused/")
    assert not User.objects.filter(x_id=x_id).exists()


def test_under_18_can_chat_but_not_broadcast(page):
    handle = new_handle()
    page.goto("/")
    consent(page, handle=handle, name="Teen Ager")
    give_birth_date(page, years_ago(16))

    page.wait_for_url(live_url(page, "/"))
    user = User.objects.get(handle=handle)
    assert can_chat(user)
    assert not can_broadcast(user)


def live_url(page, path):
    return WEB["url"] + path


def test_an_account_without_a_birth_date_is_asked_for_it_at_its_next_sign_in(page, x):
    handle = new_handle()
    x_user = x.create_user(handle, name="Old Timer")
    user = User.objects.create(username=f"x{x_user['id']}", x_id=x_user["id"], handle=handle)
    SocialAccount.objects.create(user=user, provider="twitter_oauth2", uid=x_user["id"])

    page.goto("/")
    consent(page, handle=handle, name="Old Timer")
    give_birth_date(page, date(1970, 7, 7))

    page.wait_for_url(live_url(page, "/"))
    user.refresh_from_db()
    assert user.birth_date == date(1970, 7, 7)
    assert can_broadcast(user)


def test_an_old_account_found_under_13_is_deleted_and_refused(page, x):
    handle = new_handle()
    x_user = x.create_user(handle, name="Too Young")
    user = User.objects.create(username=f"x{x_user['id']}", x_id=x_user["id"], handle=handle)
    SocialAccount.objects.create(user=user, provider="twitter_oauth2", uid=x_user["id"])

    page.goto("/")
    consent(page, handle=handle, name="Too Young")
    give_birth_date(page, years_ago(11))

    page.wait_for_url("**/accounts/x/refused/")
    assert not User.objects.filter(pk=user.pk).exists()
    assert not SocialAccount.objects.filter(uid=x_user["id"]).exists()
    assert RefusedXAccount.objects.filter(x_id_hash=x_id_hash(x_user["id"])).exists()
