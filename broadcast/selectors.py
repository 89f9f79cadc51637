from broadcast.models import Broadcast


def live_public_broadcasts():
    """What the home page lists: live and public, newest first."""
    return (
        Broadcast.objects.filter(state=Broadcast.State.LIVE, visibility=Broadcast.Visibility.PUBLIC)
        .select_related("owner")
        .order_by("-started_at")
    )
