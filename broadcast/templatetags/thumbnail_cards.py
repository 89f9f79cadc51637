"""The live picture as a link card's image (templates/broadcast/_og_tags.html)."""

from django import template
from django.conf import settings
from django.urls import reverse

from broadcast import thumbnails

register = template.Library()


@register.simple_tag
def card_picture(broadcast):
    """{url, width, height, content_type} of the live picture for the card, or None when
    the broadcast is not live, its broadcaster said no, or there is no picture yet. The
    URL is absolute (X fetches it from the public address) and names the picture's time,
    so that a card fetched later does not reuse an older picture kept by X."""
    if not thumbnails.picture_on_card(broadcast):
        return None
    picture = thumbnails.latest_thumbnail(broadcast.slug)
    if picture is None:
        return None
    path = reverse("broadcast:thumbnail", kwargs={"slug": broadcast.slug})
    return {
        "url": f"{settings.PUBLIC_URL}{path}?t={int(picture.taken_at.timestamp())}",
        "width": picture.width,
        "height": picture.height,
        "content_type": picture.content_type,
    }
