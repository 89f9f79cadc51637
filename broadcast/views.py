from django.shortcuts import get_object_or_404, render

from broadcast.models import Broadcast
from broadcast.selectors import live_public_broadcasts


def home(request):
    return render(request, "broadcast/home.html", {"broadcasts": live_public_broadcasts()[:50]})


def watch(request, slug):
    broadcast = get_object_or_404(Broadcast.objects.select_related("owner"), slug=slug)
    return render(request, "broadcast/watch.html", {"broadcast": broadcast})
