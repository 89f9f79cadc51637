"""Site-wide bans: the account stops working everywhere at once, and the X account behind
it cannot come back, even through a new OnAir account.

A ban signs the user out everywhere (accounts.self_service.sign_out_everywhere: no
session of theirs loads them again, and no backend loads an inactive user), ends their
live broadcast, tells their open chat sockets, which read on as anonymous (chat also
re-checks the account before each message), puts a keyed hash of their X id on the
sign-in deny-list (the one the age refusal uses), and deletes the posts OnAir made for
them on X before it forgets their X tokens.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import RefusedXAccount
from accounts.selectors import x_id_hash
from accounts.self_service import sign_out_everywhere
from broadcast.models import Broadcast
from broadcast.post_deletion import delete_posts_of, forget_tokens_when_posts_deleted
from broadcast.services import EndReason, end_broadcast
from chat import hub as chat_hub
from chat.protocol import ERRORS
from safety import audit
from safety.models import Notice
from safety.notices import issue_notice
from safety.restrictions import user_snapshot


def is_banned(user):
    """Inactive, with the X account on the deny-list as banned (an account with no X
    account, made by hand, is banned by being inactive alone)."""
    if user.is_active:
        return False
    if not user.x_id:
        return True
    return RefusedXAccount.objects.filter(
        x_id_hash=x_id_hash(user.x_id), why=RefusedXAccount.Why.BANNED
    ).exists()


@transaction.atomic
def ban_account(*, user, by, reason, rule=""):
    """Ban `user` site-wide; returns the Notice they get (they may appeal it once)."""
    reason = (reason or "").strip()[:1000]
    if not reason:
        raise ValidationError(_("Give the reason the user will read."), code="reason")
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.is_staff or user.is_superuser:
        raise ValidationError(
            _("Staff accounts are not banned: remove their staff status first."), code="staff"
        )
    if is_banned(user):
        raise ValidationError(_("This account is already banned."), code="already_banned")
    sign_out_everywhere(user=user)
    if user.x_id:
        RefusedXAccount.objects.update_or_create(
            x_id_hash=x_id_hash(user.x_id), defaults={"why": RefusedXAccount.Why.BANNED}
        )
    notice = issue_notice(user=user, action=Notice.Action.BAN, rule=rule, explanation=reason, by=by)
    ended = [
        broadcast.slug
        for broadcast in Broadcast.objects.filter(
            owner=user, state__in=[Broadcast.State.CREATED, Broadcast.State.LIVE]
        )
        if end_broadcast(broadcast=broadcast, reason=EndReason.BANNED, by=by)
    ]
    # Posts first: deleting them needs the X token, which goes once none is waiting.
    deleting = delete_posts_of(user=user, reason="ban")
    forget_tokens_when_posts_deleted(user=user)
    audit.record(
        actor=by,
        action="ban",
        target_kind="user",
        target_id=user.pk,
        snapshot=user_snapshot(user),
        reason=reason,
        notice_id=notice.pk,
        rule=rule or "",
        ended_broadcasts=ended,
        x_posts_to_delete=len(deleting),
    )
    user_id = user.pk
    transaction.on_commit(lambda: stop_chatting(user_id=user_id))
    return notice


@transaction.atomic
def lift_ban(*, user, by):
    """Undo a ban (an appeal granted, a mistake): the account works again and its X
    account may sign in. Deleted X posts and forgotten tokens stay so (signing in with X
    again renews the token, and starts a new session). Returns False if the account was
    not banned."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not is_banned(user):
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    if user.x_id:
        RefusedXAccount.objects.filter(
            x_id_hash=x_id_hash(user.x_id), why=RefusedXAccount.Why.BANNED
        ).delete()
    audit.record(
        actor=by,
        action="lift_ban",
        target_kind="user",
        target_id=user.pk,
        snapshot=user_snapshot(user),
    )
    return True


def stop_chatting(*, user_id):
    """Tell the user's open chat sockets, in every room that takes messages and every
    process, that the account was banned; each then reads on as anonymous."""
    notice = {"type": "notice", "code": "account_banned", "message": str(ERRORS["account_banned"])}
    open_rooms = Broadcast.objects.filter(
        state__in=[Broadcast.State.CREATED, Broadcast.State.LIVE]
    ).values_list("pk", flat=True)
    for room_id in open_rooms.iterator():
        chat_hub.publish_to_user(room_id, user_id, notice)
        chat_hub.publish_to_user(room_id, user_id, {"type": "role", "role": "anonymous"})
