"""Blocks: one person shutting another out of their corner of OnAir.

A block is private between the blocker and OnAir: the blocked person is not notified,
but if they try to chat in the blocker's broadcasts the refusal says they were blocked. Its
two effects are enforced where they happen: chat.services.post_message refuses a
blocked person's messages in the blocker's broadcasts ("blocked"), and the chat socket
hands the blocker their list in its hello frame so that the page hides the blocked
person's messages in every room (the hub sends one frame to everyone and re-encodes
nothing per viewer).

Not written to the audit log: a block is a personal choice, not a moderation act, and
the Block row itself is the whole record (it goes when the block is lifted).
"""

from django.db import IntegrityError, transaction

from accounts.models import Block, User

# Every chat socket of the blocker carries the list: keep it bounded.
MAX_BLOCKS = 1000


class BlockRefused(Exception):
    """A block that cannot be made; `code` is stable ("self", "not_found", "too_many")."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


# --- reads ----------------------------------------------------------------------------
def blocked_ids(*, user):
    """The ids of the users `user` blocked (empty for anonymous viewers)."""
    if not user or not user.is_authenticated:
        return []
    return list(Block.objects.filter(blocker=user).values_list("blocked_id", flat=True))


def blocks_of(*, user):
    """Blocks made by `user`, newest first, with the blocked users."""
    return Block.objects.filter(blocker=user).select_related("blocked").order_by("-created_at")


def has_blocked(*, blocker, blocked):
    if not blocker or not blocker.is_authenticated or blocked is None:
        return False
    return Block.objects.filter(blocker=blocker, blocked=blocked).exists()


# --- writes ---------------------------------------------------------------------------
@transaction.atomic
def block_user(*, blocker, blocked_id):
    """Block the user with id `blocked_id`. Idempotent: blocking twice keeps one block."""
    if blocked_id == blocker.pk:
        raise BlockRefused("self")
    blocked = User.objects.filter(pk=blocked_id, is_active=True).first()
    if blocked is None:
        raise BlockRefused("not_found")
    existing = Block.objects.filter(blocker=blocker, blocked=blocked).first()
    if existing is not None:
        return existing
    # Lock the blocker's row: two tabs blocking at once can't both pass the cap.
    User.objects.select_for_update().filter(pk=blocker.pk).first()
    if Block.objects.filter(blocker=blocker).count() >= MAX_BLOCKS:
        raise BlockRefused("too_many")
    try:
        with transaction.atomic():
            return Block.objects.create(blocker=blocker, blocked=blocked)
    except IntegrityError:  # the same block made by a request racing this one
        return Block.objects.get(blocker=blocker, blocked=blocked)


@transaction.atomic
def unblock_user(*, blocker, blocked_id):
    """Lift a block; True if there was one."""
    removed, _ = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()
    return bool(removed)
