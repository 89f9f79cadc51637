"""The watch link unfurls on X: Open Graph and twitter:card tags, absolute and escaped."""

import re

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from tests.factories import BroadcastFactory, UserFactory

pytestmark = pytest.mark.django_db


def meta(html):
    return dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html))


def test_card_names_the_broadcast_the_broadcaster_and_an_image():
    owner = UserFactory(display_name="Ada", handle="ada")
    broadcast = BroadcastFactory(owner=owner, title='Tea & "biscuits" <live>')

    tags = meta(render_to_string("broadcast/_og_tags.html", {"broadcast": broadcast}))

    assert tags["og:title"] == "Tea &amp; &quot;biscuits&quot; &lt;live&gt;"
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:url"] == f"{settings.PUBLIC_URL}/b/{broadcast.slug}/"
    assert tags["og:image"].startswith(settings.PUBLIC_URL)
    assert tags["og:image"].endswith("og-card.png")
    assert tags["twitter:image"] == tags["og:image"]
    assert "Ada is live on OnAir" in tags["og:description"]
    assert tags["twitter:creator"] == "@ada"
