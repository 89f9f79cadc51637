from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from broadcast.models import Broadcast


@never_cache
def popout(request, slug):
    """The chat on its own page: a pop-out window beside the video, or a phone tab."""
    broadcast = get_object_or_404(Broadcast.objects.select_related("owner"), slug=slug)
    return render(request, "chat/popout.html", {"broadcast": broadcast})
