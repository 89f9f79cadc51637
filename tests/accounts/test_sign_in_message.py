"""What allauth tells a user who signs in or out: their X handle, never the internal
username (x<X id>) OnAir keeps for them. Real browser, through the X emulator."""

import os

import pytest
from django.conf import settings

from accounts.adapters import user_display
from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONES = ({"width": 390, "height": 844}, {"width": 360, "height": 740})


@pytest.fixture
def page(browser, live_server_process):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server_process.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page, handle, *, birth_date=None):
    page.get_by_test_id("x-sign-in").first.click()
    page.wait_for_url(f"{settings.X_AUTH_BASE}/i/oauth2/authorize**")
    page.fill("#id_username", handle)
    page.fill("#id_name", "Grace Hopper")
    page.click("#approve")
    if birth_date:
        page.wait_for_url("**/accounts/x/birth-date/")
        page.fill("#id_birth_date", birth_date)
        page.get_by_role("button", name="Continue").click()
    page.wait_for_selector(".site-header .who")


def shoot(page, name, screenshot_dir):
    page.screenshot(path=str(screenshot_dir / f"accounts-{name}-desktop.png"))
    for size in PHONES:
        page.set_viewport_size(size)
        page.screenshot(path=str(screenshot_dir / f"accounts-{name}-{size['width']}.png"))
    page.set_viewport_size(DESKTOP)


def test_sign_in_and_out_messages_name_the_x_handle(page, screenshot_dir):
    handle = f"msg{os.getpid() % 100000}"
    page.goto("/")
    sign_in(page, handle, birth_date="1990-05-17")

    user = User.objects.get(handle=handle)
    assert user.username != handle  # the internal name, which must not show
    message = page.locator(".messages .message-success")
    assert message.inner_text().strip() == f"Signed in as @{handle}."
    assert user.username not in page.locator(".messages").inner_text()
    shoot(page, "signed-in-message", screenshot_dir)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("[data-testid=x-sign-in]")
    assert page.locator(".messages").inner_text().strip() == "You have signed out."

    # Signing in again (no birth-date step now): the same words.
    sign_in(page, handle)
    assert page.locator(".messages").inner_text().strip() == f"Signed in as @{handle}."


def test_user_display_falls_back_to_the_username_without_a_handle():
    assert user_display(User(username="x123", handle="ada")) == "@ada"
    assert user_display(User(username="staffer", handle="")) == "staffer"
