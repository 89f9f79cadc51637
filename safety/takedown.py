"""Taking a broadcast down: staff remove it for breaking the rules.

One call does every part of it, in one transaction, and the side effects follow the
commit: the broadcast ends as "removed" for every viewer in every web process (the media
hub's "ended" control, through Redis pub/sub in Redis mode), which also closes the
publisher's socket; the publish socket refuses it from then on (the broadcast has
ended); its chat closes for everyone (a numbered `closed` event); the owner's X posts
about it are deleted (broadcast.post_deletion, a Celery task); the owner gets a notice
naming the rule; the act goes to the audit log. A takedown alone does not restrict the
owner: restrict_days does.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from broadcast import post_deletion
from broadcast import selectors as broadcast_selectors
from broadcast.models import Broadcast
from broadcast.services import EndReason, end_broadcast
from chat.services import close_room
from safety import audit
from safety.models import Notice, Reason
from safety.notices import issue_notice
from safety.restrictions import restrict
from safety.selectors import active_restriction


@dataclass
class Takedown:
    broadcast: Broadcast
    notice: Notice | None  # None: it had been taken down already
    restriction: object = None  # a safety.models.Restriction when restrict_days was given

    @property
    def already_removed(self):
        return self.notice is None


@transaction.atomic
def take_down(*, broadcast, by, rule, reason="", restrict_days=None):
    """Remove `broadcast` for breaking `rule` (a safety.models.Reason value). `reason` is
    what the owner reads in their notice (optional). With `restrict_days`, the owner also
    may not go live for that many days (safety.restrictions.restrict).

    Idempotent: taking down a broadcast already taken down changes nothing more and
    returns a Takedown with notice None. A broadcast that had already ended (its owner
    ended it before staff saw the report) is still removed: its page says so, its chat
    closes, its X posts are deleted."""
    if rule not in Reason.values:
        raise ValidationError(_("Choose the rule that was broken."), code="rule")
    broadcast = (
        Broadcast.objects.select_for_update(of=("self",))
        .select_related("owner")
        .get(pk=broadcast.pk)
    )
    if broadcast.end_reason == EndReason.REMOVED:
        # Already down (two moderators at once, or the queue after the wall): a
        # restriction asked for now is still made, unless one is in force already.
        restriction = active_restriction(broadcast.owner)
        if restrict_days and restriction is None:
            restriction = restrict(
                user=broadcast.owner,
                by=by,
                days=restrict_days,
                reason=reason or str(Reason(rule).label),
                rule=rule,
            )
        return Takedown(broadcast=broadcast, notice=None, restriction=restriction)
    snapshot = _snapshot(broadcast)
    if not end_broadcast(broadcast=broadcast, reason=EndReason.REMOVED, by=by):
        # Ended before the takedown: the page and the publisher still say "removed".
        Broadcast.objects.filter(pk=broadcast.pk).update(end_reason=EndReason.REMOVED)
        broadcast.refresh_from_db()
    close_room(broadcast=broadcast, reason=EndReason.REMOVED)
    # The home page's cached listing (public, cached a few seconds) drops it at once.
    transaction.on_commit(broadcast_selectors.forget_cached_live_listing)
    # The owner's posts about it: the go-live post and their own chat echoes. Viewers'
    # echoes are theirs, made at their request, and stay unless they are acted on.
    deleting = post_deletion.delete_posts_of(
        broadcast=broadcast, user=broadcast.owner, reason="takedown"
    )
    notice = issue_notice(
        user=broadcast.owner,
        action=Notice.Action.TAKEDOWN,
        rule=rule,
        explanation=reason,
        by=by,
        broadcast=broadcast,
    )
    restriction = None
    if restrict_days:
        restriction = restrict(
            user=broadcast.owner,
            by=by,
            days=restrict_days,
            reason=reason or str(Reason(rule).label),
            rule=rule,
        )
    audit.record(
        actor=by,
        action="takedown",
        target_kind="broadcast",
        target_id=broadcast.pk,
        snapshot=snapshot,
        reason=reason,
        rule=rule,
        notice_id=notice.pk,
        restriction_id=restriction.pk if restriction else None,
        x_posts_deleting=[post.pk for post in deleting],
    )
    return Takedown(broadcast=broadcast, notice=notice, restriction=restriction)


def _snapshot(broadcast):
    """The broadcast as staff saw it, before it ended (the audit log outlives it)."""
    owner = broadcast.owner
    live = broadcast.state == Broadcast.State.LIVE
    return {
        "slug": broadcast.slug,
        "title": broadcast.title,
        "owner_id": owner.pk,
        "owner_handle": owner.handle,
        "state": broadcast.state,
        "started_at": broadcast.started_at.isoformat() if broadcast.started_at else None,
        "viewers": broadcast_selectors.viewer_count(broadcast.slug) if live else 0,
        "peak_viewers": broadcast.peak_viewers,
    }
