"""Reads about a user's standing: whether they are restricted from going live, and the
notices moderators sent them.

broadcast.services asks here before every go-live; safety.restrictions writes. Keeping the
read apart lets both depend on it without importing each other.
"""

from django.db.models import Q
from django.utils import timezone

from accounts.selectors import x_id_hash
from safety.models import Notice, Restriction


def active_restriction(user):
    """The user's restriction in force now (the one that ends last), or None."""
    if not getattr(user, "pk", None):
        return None
    whose = Q(user_id=user.pk)
    if user.x_id:
        # The same X account under an earlier, deleted account.
        whose |= Q(x_id_hash=x_id_hash(user.x_id))
    return (
        Restriction.objects.filter(whose, lifted_at__isnull=True, until__gt=timezone.now())
        .order_by("-until")
        .first()
    )


def notices_of(user):
    """The user's notices, newest first, with what each page row shows."""
    return (
        Notice.objects.filter(user_id=user.pk)
        .select_related("restriction", "appeal", "broadcast")
        .order_by("-created_at")
    )


def has_unread_notice(user):
    """One indexed query (notices by user): the site-wide banner asks it on every page."""
    return Notice.objects.filter(user_id=user.pk, read_at__isnull=True).exists()
