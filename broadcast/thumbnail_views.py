"""GET /b/<slug>/thumbnail.jpg: the live picture of a broadcast (broadcast/thumbnails.py).

Staff always get it while the broadcast is live (the moderation desk), uncached. Everyone
else, X's card crawler included, only while it is live and its broadcaster lets the
picture be the link card; a cache in front may keep it for a few seconds. Anything else,
an ended broadcast above all, is a 404.
"""

from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from broadcast import selectors, thumbnails

PUBLIC_MAX_AGE = 10


@require_GET
def thumbnail(request, slug):
    broadcast = selectors.broadcast_by_slug(slug)
    if broadcast is None or not thumbnails.may_see_thumbnail(
        user=request.user, broadcast=broadcast
    ):
        raise Http404
    picture = thumbnails.latest_thumbnail(slug)
    if picture is None:
        raise Http404
    response = HttpResponse(picture.data, content_type=picture.content_type)
    response["Last-Modified"] = http_date(picture.taken_at.timestamp())
    if thumbnails.is_moderation_staff(request.user):
        # The desk must see the current picture, and may see one no one else can:
        # nothing in front of the site keeps it.
        patch_cache_control(response, private=True, no_store=True)
    else:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response
