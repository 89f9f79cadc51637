"""A broadcaster whose X access was revoked is asked to reconnect; signing in with X again
(real browser, emulator consent page) renews the token and the go-live post goes out."""

from datetime import date

import pytest
from allauth.socialaccount.models import SocialToken
from django.conf import settings

from accounts.models import User
from broadcast import posting
from broadcast.models import XPost
from tests.xposting.conftest import live_broadcast
from tests.xposting.test_post_watch_link import live_posts, settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def consent(page, handle):
    page.wait_for_url(f"{settings.X_AUTH_BASE}/i/oauth2/authorize**")
    page.fill("#id_username", handle)
    page.fill("#id_name", "Re Connect")
    page.click("#approve")


def test_reconnecting_x_sends_the_blocked_go_live_post(
    browser, live_server_process, x, posting_worker, screenshot_dir
):
    handle = "reconnecter"
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(15_000)
    page.goto(live_server_process.url + "/")
    page.get_by_test_id("x-sign-in").click()
    consent(page, handle)
    page.fill("#id_birth_date", date(1985, 2, 3).isoformat())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server_process.url + "/")
    user = User.objects.get(handle=handle)
    old_token = SocialToken.objects.get(account__user=user).token

    x.revoke_user(user.x_id)
    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))
    assert post.state == XPost.State.NEEDS_RECONNECT

    page.goto(live_server_process.url + "/accounts/x/reconnect/?next=/accounts/profile/")
    page.screenshot(path=str(screenshot_dir / "accounts-reconnect-desktop.png"))
    page.get_by_test_id("x-sign-in").click()
    consent(page, handle)
    page.wait_for_url(live_server_process.url + "/accounts/profile/")

    assert settled(post).state == XPost.State.POSTED
    assert SocialToken.objects.get(account__user=user).token != old_token
    assert len(live_posts(x, user)) == 1
    page.close()
