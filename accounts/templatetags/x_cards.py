"""Absolute links for what X reads from our pages (Open Graph / twitter:card)."""

from django import template
from django.conf import settings
from django.templatetags.static import static

register = template.Library()


@register.simple_tag
def public_url(path):
    """PUBLIC_URL + path: X fetches cards from the public address, not the request's."""
    return settings.PUBLIC_URL + path


@register.simple_tag
def public_static(path):
    url = static(path)
    return url if url.startswith(("http://", "https://")) else settings.PUBLIC_URL + url
