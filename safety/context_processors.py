"""The site-wide banner "You have a notice from OnAir's moderators"."""

from functools import partial

from safety.selectors import has_unread_notice


def moderation_notices(request):
    """Only for signed-in users, and only when a page shows the banner: the template
    calls it (one indexed query), pages that don't never pay for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"has_unread_notice": partial(has_unread_notice, user)}
