"""A go-live post that OnAir gave up on says so in plain words, never "trying again",
and offers X's share intent so the broadcaster can post the link by hand."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from tests.factories import BroadcastFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SHARE = "https://x.com/intent/tweet?text=Hi&url=https%3A%2F%2Fonair.example%2Fb%2Fabc%2F"

RENDER = """async ([html, message]) => {
  const { renderXPostStatus } = await import("/static/js/xpost_status.js");
  document.querySelector("main").insertAdjacentHTML("beforeend", html);
  const element = document.querySelector("[data-xpost-status]");
  renderXPostStatus(element, message);
  const share = element.querySelector("[data-xpost-share]");
  return {
    text: element.textContent.replace(/\\s+/g, " ").trim(),
    share: share && share.getAttribute("href"),
    shareText: share && share.textContent,
  };
}"""

# Every code a post can fail with (broadcast/posting.py), the ones retried first too.
FAILED_CODES = [
    "daily_cap",
    "user_cap",
    "duplicate",
    "forbidden",
    "rejected",
    "deadline",
    "withdrawn",
    "rate_limited",
    "timeout",
    "network_error",
    "x_http_500",
    "x_http_502",
    "x_http_503",
    None,
]


@pytest.fixture
def show(browser, live_server_process):
    broadcast = BroadcastFactory()
    request = RequestFactory().get("/live/")
    page = browser.new_page()
    page.goto(live_server_process.url + "/")

    def show(message, share_url=SHARE):
        context = {"broadcast": broadcast, "share_url": share_url}
        html = render_to_string("accounts/_x_post_status.html", context, request)
        page.reload()
        return page.evaluate(RENDER, [html.split("<script")[0], message])

    yield show
    page.close()


def test_a_failed_post_never_says_it_is_trying_again(show):
    for code in FAILED_CODES:
        shown = show({"state": "failed", "post_url": None, "reason": code})
        assert shown["text"].startswith("The link could not be posted to X."), code
        assert "trying again" not in shown["text"].lower(), code
        assert len(shown["text"]) > len("The link could not be posted to X."), code


def test_a_post_that_timed_out_for_good_says_why(show):
    shown = show({"state": "failed", "post_url": None, "reason": "timeout"})
    assert shown["text"] == (
        "The link could not be posted to X. X was too slow to answer, so we stopped "
        "trying. Post it on X yourself"
    )


def test_while_queued_the_same_reason_says_it_will_try_again(show):
    shown = show({"state": "queued", "post_url": None, "reason": "timeout"})
    assert shown["text"] == "Telling your followers on X… X is slow to answer; trying again."
    assert shown["share"] is None
    shown = show({"state": "queued", "post_url": None, "reason": "x_http_502"})
    assert shown["text"] == "Telling your followers on X… Trying again shortly."


def test_a_failed_post_offers_xs_share_intent(show):
    shown = show({"state": "failed", "post_url": None, "reason": "user_cap"})
    assert shown["share"] == SHARE
    assert shown["shareText"] == "Post it on X yourself"
    reconnect = show({"state": "needs_reconnect", "post_url": None, "reason": "unauthorized"})
    assert reconnect["share"] == SHARE


def test_no_share_intent_for_a_removed_broadcast_or_a_posted_link(show):
    assert show({"state": "failed", "post_url": None, "reason": "withdrawn"})["share"] is None
    posted = {"state": "posted", "post_url": "http://127.0.0.1:9/h/status/1", "reason": None}
    assert show(posted)["share"] is None


def test_a_share_address_that_is_not_http_is_never_a_link(show):
    shown = show(
        {"state": "failed", "post_url": None, "reason": "user_cap"},
        share_url="javascript:alert(1)",
    )
    assert shown["share"] is None
