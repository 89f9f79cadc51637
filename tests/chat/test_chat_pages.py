"""The pop-out chat page: anyone can open it; it loads the chat module, no inline script."""

import pytest

from tests.chat.support import live_broadcast

pytestmark = pytest.mark.django_db


def test_popout_chat_page_renders_the_panel_for_anyone(client):
    broadcast = live_broadcast(title="Night sky")
    response = client.get(f"/b/{broadcast.slug}/chat/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-ws-path="/ws/b/{broadcast.slug}/chat/"' in html
    assert '<script type="module" src="/static/js/chat.js"></script>' in html
    assert "Sign in with X" in html
    assert "<script>" not in html and " style=" not in html


def test_popout_chat_page_for_an_unknown_broadcast_is_404(client):
    assert client.get("/b/doesnotexist/chat/").status_code == 404
