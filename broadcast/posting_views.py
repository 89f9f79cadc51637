"""JSON for the go-live page: the state of the go-live post to X, on page load."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from broadcast.models import Broadcast
from broadcast.posting import go_live_post_of, status_message


@require_GET
def x_post_status(request, slug):
    broadcast = Broadcast.objects.filter(slug=slug).only("pk", "owner_id", "tell_followers").first()
    if broadcast is None:
        return JsonResponse({"type": "error", "code": "not_found"}, status=404)
    if not request.user.is_authenticated or broadcast.owner_id != request.user.pk:
        return JsonResponse({"type": "error", "code": "forbidden"}, status=403)
    post = go_live_post_of(broadcast)
    if post is None and not broadcast.tell_followers:
        # Nothing will be posted: "none" tells the page to stop asking.
        return JsonResponse({"type": "x_post", **status_message(None), "state": "none"})
    return JsonResponse({"type": "x_post", **status_message(post)})
