"""The one appeal a user may make against a notice, and its decision by a moderator other
than the one who issued the notice. Granting undoes what can be undone: a restriction or
a ban is lifted; a removed broadcast stays ended, and the notice shows the appeal granted.

Apart from safety.notices because it undoes the acts (restrictions, bans) that issue
notices through that module.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safety import audit
from safety.bans import lift_ban
from safety.models import Appeal, Notice
from safety.notices import mark_unread
from safety.restrictions import lift_restriction, user_snapshot

MAX_APPEAL_CHARS = 2000
MAX_NOTE_CHARS = 2000


class AppealRefused(Exception):
    """An appeal, or its decision, that the rules refuse: a stable code and a sentence."""

    MESSAGES = {
        "not_yours": _("This notice is not yours."),
        "already_appealed": _("You have already appealed this decision: one appeal each."),
        "empty": _("Say why you think the decision was wrong."),
        "too_long": _("An appeal is limited to 2,000 characters."),
        "forbidden": _("Only OnAir's moderators decide appeals."),
        "same_moderator": _(
            "The moderator who made the decision cannot decide its appeal: another must."
        ),
        "already_decided": _("This appeal was already decided."),
    }

    def __init__(self, code):
        super().__init__(code)
        self.code = code

    @property
    def message(self):
        return str(self.MESSAGES[self.code])


@transaction.atomic
def file_appeal(*, notice, user, text):
    """The notice's user appeals it, once, in up to 2,000 characters."""
    if user is None or notice.user_id != user.pk:
        raise AppealRefused("not_yours")
    text = (text or "").strip()
    if not text:
        raise AppealRefused("empty")
    if len(text) > MAX_APPEAL_CHARS:
        raise AppealRefused("too_long")
    if Appeal.objects.filter(notice_id=notice.pk).exists():
        raise AppealRefused("already_appealed")
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(notice=notice, text=text)
    except IntegrityError as exc:  # a second tab, at the same moment
        raise AppealRefused("already_appealed") from exc
    audit.record(
        actor=user,
        action="appeal",
        target_kind="notice",
        target_id=notice.pk,
        snapshot=_notice_snapshot(notice),
        reason=text,
        appeal_id=appeal.pk,
    )
    return appeal


@transaction.atomic
def decide_appeal(*, appeal, by, grant, note=""):
    """Grant or reject a pending appeal. `by` must be staff and not the moderator who
    issued the notice. The user is told on their notices page (it shows as unread)."""
    if by is None or not getattr(by, "is_staff", False):
        raise AppealRefused("forbidden")
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("notice", "notice__user", "notice__restriction")
        .get(pk=appeal.pk)
    )
    notice = appeal.notice
    if appeal.state != Appeal.State.PENDING:
        raise AppealRefused("already_decided")
    if notice.issued_by_id is not None and notice.issued_by_id == by.pk:
        raise AppealRefused("same_moderator")
    appeal.state = Appeal.State.GRANTED if grant else Appeal.State.REJECTED
    appeal.decided_by = by
    appeal.decided_at = timezone.now()
    appeal.outcome_note = (note or "").strip()[:MAX_NOTE_CHARS]
    appeal.save(update_fields=["state", "decided_by", "decided_at", "outcome_note"])
    undone = []
    if grant:
        if notice.restriction is not None and lift_restriction(
            restriction=notice.restriction, by=by
        ):
            undone.append("restriction")
        if notice.action == Notice.Action.BAN and lift_ban(user=notice.user, by=by):
            undone.append("ban")
    mark_unread(notice=notice)
    audit.record(
        actor=by,
        action="appeal_granted" if grant else "appeal_rejected",
        target_kind="notice",
        target_id=notice.pk,
        snapshot=_notice_snapshot(notice),
        reason=appeal.outcome_note,
        appeal_id=appeal.pk,
        undone=undone,
    )
    return appeal


def _notice_snapshot(notice):
    return {
        **user_snapshot(notice.user),
        "notice_action": notice.action,
        "rule": notice.rule,
        "broadcast_id": notice.broadcast_id,
        "restriction_id": notice.restriction_id,
    }
