"""Deleting one's own account, with everything it reaches.

The order matters. At once, in one transaction: the act is recorded, a live broadcast
ends, OnAir asks for the deletion of every post it made on X (broadcast.post_deletion),
the X tokens are scheduled to go only after those posts (the deletions need them), and
the account is emptied and closed: names, avatar, birth date blanked, blocks, notices,
chat roles and filters removed, the password made unusable (every session's auth hash
stops matching) and is_active off (no backend loads the user again). Then chat messages
are erased room by room and broadcasts removed broadcast by broadcast, in short
transactions, skipping what a legal hold keeps (safety.holds).

The emptied row itself goes last: at once when nothing waits, otherwise
finish_account_deletion() (a Celery task, retried, and an hourly sweep) deletes it once X
has settled every post deletion and no hold keeps anything of theirs. Until then its
username is "deleted:<id>", which no form can produce (":" is not a username
character). The deny-list (RefusedXAccount) is never touched: deleting an account does
not lift a ban.
"""

from dataclasses import asdict, dataclass

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.db.models import Q

from accounts.models import Block, User
from broadcast import post_deletion
from broadcast.models import Broadcast, XPost
from broadcast.services import end_broadcast
from chat.erasure import erase_messages_of
from chat.models import ChatBan, ChatEvent, ChatMessage, FilterWord, ModerationAction, Moderator
from safety import audit, holds
from safety.models import Notice

DELETED_USERNAME_PREFIX = "deleted:"
END_REASON = "account_deleted"
# Rows deleted per transaction when a broadcast's chat is removed.
BATCH = 2000


@dataclass
class DeletionOutcome:
    """What the person is told after deleting their account."""

    broadcasts_removed: int
    messages_removed: int
    held_broadcasts: int
    held_messages: int
    posts_being_deleted: int
    account_kept: bool

    def as_dict(self):
        return asdict(self)


def deleted_username(user_id):
    return f"{DELETED_USERNAME_PREFIX}{user_id}"


def is_being_deleted(user):
    """An emptied account whose row waits for X or for a legal hold."""
    return user.username == deleted_username(user.pk)


# --- reads ----------------------------------------------------------------------------
def deletion_preview(*, user):
    """Counts for the confirmation page: what would go, what a hold would keep."""
    held = holds.held_broadcast_ids()
    broadcasts = Broadcast.objects.filter(owner=user)
    messages = ChatMessage.objects.filter(author=user)
    return {
        "broadcasts": broadcasts.count(),
        "messages": messages.count(),
        "x_posts": XPost.objects.filter(user=user)
        .exclude(deletion_state=XPost.DeletionState.DELETED)
        .count(),
        "held_broadcasts": broadcasts.filter(pk__in=held).count(),
        "held_messages": messages.filter(room_id__in=held).count(),
    }


def _posts_waiting(user):
    return XPost.objects.filter(user=user, deletion_state__in=post_deletion.WAITING)


# --- writes ---------------------------------------------------------------------------
def sign_out_everywhere(*, user):
    """Every session of `user` stops working at its next request: a new unusable
    password changes the session auth hash each session was signed with, and an inactive
    user is not loaded by any authentication backend."""
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["password", "is_active"])


def delete_account(*, user):
    """Delete `user`'s account as the module docstring says. Returns a DeletionOutcome."""
    preview = deletion_preview(user=user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        audit.record(
            actor=user,
            action="account_deleted",
            target_kind="user",
            target_id=user.pk,
            snapshot={"user_id": user.pk, **preview},
        )
        for live in Broadcast.objects.filter(
            owner=user, state__in=[Broadcast.State.CREATED, Broadcast.State.LIVE]
        ):
            end_broadcast(broadcast=live, reason=END_REASON, by=user)
        requested = post_deletion.delete_posts_of(user=user, reason=END_REASON)
        post_deletion.forget_tokens_when_posts_deleted(user=user)
        _empty_account(user)
        sign_out_everywhere(user=user)

    held_rooms = _held_rooms_of(user)
    messages_removed = erase_messages_of(author=user, keep_room_ids=held_rooms)
    broadcasts_removed = sum(
        _remove_broadcast(broadcast_id)
        for broadcast_id in Broadcast.objects.filter(owner=user)
        .exclude(pk__in=held_rooms)
        .values_list("pk", flat=True)
    )
    state = finish_account_deletion(user_id=user.pk)
    if state == "waiting_for_x":
        from accounts.tasks import finish_account_deletion_later

        finish_account_deletion_later(user.pk)
    return DeletionOutcome(
        broadcasts_removed=broadcasts_removed,
        messages_removed=messages_removed,
        held_broadcasts=preview["held_broadcasts"],
        held_messages=preview["held_messages"],
        posts_being_deleted=len(requested),
        account_kept=state != "deleted",
    )


def _held_rooms_of(user):
    """The broadcasts under a legal hold that hold something of `user`'s: their own, and
    those where they chatted (a room's id is its broadcast's)."""
    held = holds.held_broadcast_ids()
    owned = Broadcast.objects.filter(owner=user, pk__in=held).values_list("pk", flat=True)
    chatted = (
        ChatMessage.objects.filter(author=user, room_id__in=held)
        .order_by()
        .values_list("room_id", flat=True)
        .distinct()
    )
    return set(owned) | set(chatted)


def _empty_account(user):
    """Blank what names the person and remove what they set up; keep the row (and the
    X account link, whose token the post deletions still need)."""
    Block.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()
    Notice.objects.filter(user=user).delete()  # their appeals go with them
    ChatBan.objects.filter(Q(broadcaster=user) | Q(user=user)).delete()
    Moderator.objects.filter(Q(broadcaster=user) | Q(user=user)).delete()
    FilterWord.objects.filter(broadcaster=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).update(extra_data={})
    user.username = deleted_username(user.pk)
    user.handle = user.display_name = user.avatar_url = ""
    user.first_name = user.last_name = user.email = ""
    user.birth_date = user.x_created_at = user.last_live_at = user.last_login = None
    user.save()


def _remove_broadcast(broadcast_id):
    """Remove one broadcast with its chat, a batch per transaction; stop if a report
    puts it under a hold meanwhile. Its X-post records are kept, detached: the deletion
    of the posts on X still works from them. Returns 1 if removed, else 0."""
    children = (
        ChatEvent.objects.filter(room_id=broadcast_id),
        ModerationAction.objects.filter(broadcast_id=broadcast_id),
        ChatMessage.objects.filter(room_id=broadcast_id),
    )
    for rows in children:
        while True:
            with transaction.atomic():
                if _is_held(broadcast_id):
                    return 0
                ids = list(rows.order_by().values_list("pk", flat=True)[:BATCH])
                if not ids:
                    break
                rows.model.objects.filter(pk__in=ids).only("pk").delete()
    with transaction.atomic():
        if _is_held(broadcast_id):
            return 0
        XPost.objects.filter(broadcast_id=broadcast_id).update(broadcast=None)
        deleted, _ = Broadcast.objects.filter(pk=broadcast_id).delete()
    return 1 if deleted else 0


def _is_held(broadcast_id):
    return Broadcast.objects.filter(pk=broadcast_id, pk__in=holds.held_broadcast_ids()).exists()


def finish_account_deletion(*, user_id):
    """Delete an emptied account's row when nothing waits for it any more. Returns
    "deleted", "waiting_for_x" (post deletions under way), "held" (a legal hold keeps
    some of their data: the emptied row stays, unlinked from X) or "gone"."""
    user = User.objects.filter(pk=user_id, username=deleted_username(user_id)).first()
    if user is None:
        return "gone"
    if _posts_waiting(user).exists():
        return "waiting_for_x"
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            return "gone"
        # The posts are settled: the tokens go now (recorded, if still there), then the
        # link to the X account, so that the same X account may sign up afresh.
        post_deletion.forget_tokens_when_posts_deleted(user=user)
        SocialAccount.objects.filter(user=user).delete()
        if user.x_id is not None:
            user.x_id = None
            user.save(update_fields=["x_id"])
        if holds.user_has_held_items(user):
            return "held"
        user.delete()
    return "deleted"


def accounts_awaiting_deletion():
    """Ids of emptied accounts whose rows are still there."""
    return User.objects.filter(
        username__startswith=DELETED_USERNAME_PREFIX, is_active=False
    ).values_list("pk", flat=True)
