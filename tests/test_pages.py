import re

import pytest
from django.urls import reverse

from broadcast.models import Broadcast
from tests.factories import BroadcastFactory

pytestmark = pytest.mark.django_db


def test_home_shows_friendly_empty_state_when_nobody_is_live(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Nobody is live right now" in response.content.decode()


def test_home_lists_live_public_broadcasts_only(client):
    live = BroadcastFactory(live=True, title="Morning coffee")
    BroadcastFactory(live=True, title="Secret show", visibility=Broadcast.Visibility.UNLISTED)
    BroadcastFactory(title="Not started yet")
    BroadcastFactory(title="Over already", state=Broadcast.State.ENDED)
    body = client.get("/").content.decode()
    assert "Morning coffee" in body
    assert live.get_absolute_url() in body
    for hidden in ("Secret show", "Not started yet", "Over already"):
        assert hidden not in body


def test_broadcast_titles_are_escaped_on_the_home_page(client):
    BroadcastFactory(live=True, title="<script>alert(1)</script>")
    body = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_home_is_french_when_the_browser_asks_for_it(client):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="fr">' in body
    assert "Personne n’est en direct" in body


def test_language_switcher_sets_the_language(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert "Se connecter avec X" in body


@pytest.mark.parametrize("path", ["/rules/", "/privacy/"])
def test_rules_and_privacy_pages_render(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "<footer" in response.content.decode()


def test_unknown_page_gets_the_styled_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "onair.css" in body


def test_styled_403_and_500_templates_render():
    from django.test import RequestFactory

    from onair import views

    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert b"Not allowed" in views.error_403(request).content
    response = views.error_500(request)
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_pages_send_a_content_security_policy(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy


def test_assets_come_from_our_own_server(client):
    body = client.get("/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert assets
    assert all(url.startswith(("/", "#")) for url in assets), assets
    css = client.get("/static/css/onair.css")
    assert css.status_code == 200
