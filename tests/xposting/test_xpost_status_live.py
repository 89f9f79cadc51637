"""The broadcaster sees the go-live post change state on their page without reloading:
queued -> posted with a link to the post (real browser, worker and emulator)."""

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from broadcast import posting
from tests.xposting.conftest import live_broadcast, make_x_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOW = """async (html) => {
  document.querySelector("main").insertAdjacentHTML("afterbegin", html);
  const { startXPostStatus } = await import("/static/js/xpost_status.js");
  startXPostStatus(document.querySelector("[data-xpost-status]"), { intervalMs: 200 });
}"""


COUNT_POLLS = """async (html) => {
  document.querySelector("main").insertAdjacentHTML("afterbegin", html);
  const { startXPostStatus } = await import("/static/js/xpost_status.js");
  let polls = 0;
  const fetchOnce = window.fetch;
  window.fetch = (...args) => { polls += 1; return fetchOnce(...args); };
  const element = document.querySelector("[data-xpost-status]");
  await startXPostStatus(element, { intervalMs: 50, maxPolls: 40 });
  return { polls, hidden: element.hidden };
}"""


def signed_in_context(browser, server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    return context


def test_broadcaster_sees_the_post_link_appear(
    browser, live_server_process, x, posting_worker, screenshot_dir
):
    owner = make_x_user(x)
    broadcast = live_broadcast(owner, title="Garden tour")
    context = signed_in_context(browser, live_server_process, owner)
    page = context.new_page()
    page.goto(live_server_process.url + "/")
    request = RequestFactory().get("/go-live/")
    html = render_to_string("accounts/_x_post_status.html", {"broadcast": broadcast}, request)
    page.evaluate(SHOW, html.split("<script")[0])

    post = posting.request_go_live_post(broadcast=broadcast)

    link = page.locator("[data-xpost-status][data-state=posted] a")
    link.wait_for(timeout=20_000)
    post.refresh_from_db()
    assert link.get_attribute("href") == post.post_url
    assert "Your followers on X have the link." in page.locator("[data-xpost-status]").inner_text()
    page.screenshot(path=str(screenshot_dir / "xpost-status-posted.png"))
    context.close()


def test_nothing_is_polled_when_tell_my_followers_is_off(browser, live_server_process, x):
    owner = make_x_user(x)
    broadcast = live_broadcast(owner, tell_followers=False)
    context = signed_in_context(browser, live_server_process, owner)
    page = context.new_page()
    page.goto(live_server_process.url + "/")
    request = RequestFactory().get("/go-live/")
    html = render_to_string("accounts/_x_post_status.html", {"broadcast": broadcast}, request)

    assert page.evaluate(COUNT_POLLS, html.split("<script")[0]) == {"polls": 1, "hidden": True}
    context.close()
