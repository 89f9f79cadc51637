"""Restrictions from going live ("one strike"): a user may not go live until a date.

Going live is refused while one is in force (broadcast.services, the go-live page and the
publish socket all ask safety.selectors.active_restriction), and restricting someone who
is live ends that broadcast, which closes their publish socket in every process.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import x_id_hash
from broadcast.models import Broadcast
from broadcast.services import EndReason, end_broadcast
from safety import audit
from safety.models import Notice, Restriction
from safety.notices import issue_notice
from safety.selectors import active_restriction

__all__ = ["MAX_DAYS", "active_restriction", "lift_restriction", "restrict"]

# Longer than this is a ban, not a restriction.
MAX_DAYS = 3650


def user_snapshot(user):
    """Who the act was against, as they were (the audit log outlives the account). The X
    id only as its keyed hash: the log keeps no raw X id of a banned or deleted user."""
    return {
        "user_id": user.pk,
        "handle": user.handle,
        "x_id_hash": x_id_hash(user.x_id) if user.x_id else "",
    }


@transaction.atomic
def restrict(*, user, by, days=None, reason, rule=""):
    """Keep `user` from going live for `days` (RESTRICTION_DAYS by default). They are
    told in a notice they may appeal; a broadcast of theirs that is live ends now."""
    days = settings.RESTRICTION_DAYS if days is None else int(days)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            _("A restriction lasts from 1 to %(max)s days.") % {"max": MAX_DAYS}, code="days"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason the user will read."), code="reason")
    until = timezone.now() + timedelta(days=days)
    restriction = Restriction.objects.create(
        user=user,
        x_id_hash=x_id_hash(user.x_id) if user.x_id else "",
        until=until,
        reason=reason[:1000],
        rule=rule or "",
        created_by=by,
    )
    issue_notice(
        user=user,
        action=Notice.Action.RESTRICTION,
        rule=rule,
        explanation=restriction.reason,
        by=by,
        restriction=restriction,
    )
    ended = [
        broadcast.slug
        for broadcast in Broadcast.objects.filter(
            owner=user, state__in=[Broadcast.State.CREATED, Broadcast.State.LIVE]
        )
        if end_broadcast(broadcast=broadcast, reason=EndReason.RESTRICTED, by=by)
    ]
    audit.record(
        actor=by,
        action="restrict",
        target_kind="user",
        target_id=user.pk,
        snapshot=user_snapshot(user),
        reason=restriction.reason,
        restriction_id=restriction.pk,
        rule=restriction.rule,
        days=days,
        until=until.isoformat(),
        ended_broadcasts=ended,
    )
    return restriction


@transaction.atomic
def lift_restriction(*, restriction, by):
    """End a restriction now (an appeal granted, a mistake). The row stays, marked lifted.
    Returns False if it was already lifted."""
    lifted = Restriction.objects.filter(pk=restriction.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lifted_by=by
    )
    restriction.refresh_from_db()
    if not lifted:
        return False
    audit.record(
        actor=by,
        action="lift_restriction",
        target_kind="user",
        target_id=restriction.user_id,
        snapshot=user_snapshot(restriction.user),
        restriction_id=restriction.pk,
        until=restriction.until.isoformat(),
    )
    return True
