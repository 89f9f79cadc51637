"""static/js/xpost_status.js renders the go-live post's state from the messages of the
publish socket, with the partial's localized strings, and never as HTML."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from tests.factories import BroadcastFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

RENDER = """async ([html, message]) => {
  const { renderXPostStatus } = await import("/static/js/xpost_status.js");
  document.querySelector("main").insertAdjacentHTML("beforeend", html);
  const element = document.querySelector("[data-xpost-status]");
  renderXPostStatus(element, message);
  const link = element.querySelector("a");
  return {
    hidden: element.hidden,
    state: element.dataset.state,
    text: element.textContent.replace(/\\s+/g, " ").trim(),
    link: link && link.getAttribute("href"),
    elements: element.querySelectorAll("*").length,
  };
}"""


@pytest.fixture
def show(browser, live_server_process):
    broadcast = BroadcastFactory()
    request = RequestFactory().get("/go-live/")
    html = render_to_string("accounts/_x_post_status.html", {"broadcast": broadcast}, request)
    html = html.split("<script")[0]  # the module is imported by the test itself
    page = browser.new_page()
    page.goto(live_server_process.url + "/")

    def show(message):
        page.reload()
        return page.evaluate(RENDER, [html, message])

    yield show
    page.close()


def test_posted_shows_a_link_to_the_post(show):
    shown = show({"state": "posted", "post_url": "http://127.0.0.1:9/h/status/7", "reason": None})
    assert not shown["hidden"]
    assert shown["text"] == "Your followers on X have the link. See the post on X"
    assert shown["link"] == "http://127.0.0.1:9/h/status/7"


def test_failure_shows_the_reason_in_words(show):
    shown = show({"state": "failed", "post_url": None, "reason": "daily_cap"})
    assert shown["text"] == (
        "The link could not be posted to X. OnAir has reached its limit of posts to X for today."
    )
    assert shown["link"] is None


def test_the_users_own_cap_is_explained(show):
    shown = show({"state": "failed", "post_url": None, "reason": "user_cap"})
    assert shown["text"] == (
        "The link could not be posted to X. "
        "You have reached your limit of posts to X for this hour."
    )


def test_needs_reconnect_offers_to_reconnect_x(show):
    shown = show({"state": "needs_reconnect", "post_url": None, "reason": "unauthorized"})
    assert "X no longer lets OnAir post for you." in shown["text"]
    assert shown["link"].startswith("/accounts/x/reconnect/?next=")


def test_untrusted_values_never_become_markup(show):
    shown = show(
        {"state": "posted", "post_url": "javascript:alert(1)", "reason": "<img src=x onerror=1>"}
    )
    assert shown["link"] is None
    assert shown["elements"] == 1  # the text span only
