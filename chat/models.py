"""Chat data: one room per broadcast, its gap-free event log, messages, moderators,
bans/timeouts (per broadcaster), word filters and the moderation audit trail."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChatRoom(models.Model):
    """The chat of one broadcast. `last_seq` is the room's event counter: it is bumped
    under a row lock in the same transaction that stores the event, so the sequence has
    no gaps and no duplicates however many processes write."""

    broadcast = models.OneToOneField(
        "broadcast.Broadcast", on_delete=models.CASCADE, primary_key=True, related_name="chat"
    )
    last_seq = models.BigIntegerField(default=0)
    chat_enabled = models.BooleanField(_("chat on"), default=True)
    slow_mode_seconds = models.PositiveIntegerField(_("slow mode (seconds)"), default=0)
    established_only = models.BooleanField(_("established accounts only"), default=False)
    established_x_days = models.PositiveIntegerField(_("X account at least (days)"), default=30)
    established_account_minutes = models.PositiveIntegerField(
        _("OnAir account at least (minutes)"), default=10
    )

    class Meta:
        verbose_name = _("chat room")
        verbose_name_plural = _("chat rooms")

    def __str__(self):
        return f"chat {self.broadcast_id}"

    def modes(self):
        return {
            "chat_enabled": self.chat_enabled,
            "slow_mode_seconds": self.slow_mode_seconds,
            "established_only": self.established_only,
            "established_x_days": self.established_x_days,
            "established_account_minutes": self.established_account_minutes,
        }


class ChatEvent(models.Model):
    """One numbered event of a room, exactly as clients receive it (`payload` holds the
    JSON object without `seq`). Resuming clients read this table by seq."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("message")
        DELETE = "delete", _("deletion")
        MODE = "mode", _("mode change")
        CLOSED = "closed", _("room closed")

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chat event")
        verbose_name_plural = _("chat events")
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="chat_event_room_seq_unique")
        ]

    def __str__(self):
        return f"{self.room_id}#{self.seq} {self.kind}"


class ChatMessage(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("visible")
        HELD = "held", _("held for review")
        REJECTED = "rejected", _("rejected")
        DELETED = "deleted", _("deleted")

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VISIBLE)
    held_reason = models.CharField(max_length=200, blank=True)
    post_to_x = models.BooleanField(default=False)
    # The seq of the event that showed it to the room (empty while held).
    seq = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        indexes = [
            models.Index(fields=["author", "created_at"]),
            models.Index(fields=["room", "status", "created_at"]),
        ]

    def __str__(self):
        return f"{self.author_id}: {self.text[:40]}"


class Moderator(models.Model):
    """A user the broadcaster trusts to moderate all of their chats."""

    broadcaster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_moderators"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderates_for"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chat moderator")
        verbose_name_plural = _("chat moderators")
        constraints = [
            models.UniqueConstraint(fields=["broadcaster", "user"], name="chat_moderator_unique")
        ]

    def __str__(self):
        return f"{self.user} moderates for {self.broadcaster}"


class ChatBan(models.Model):
    """A ban (no end) or a timeout (`expires_at`) from one broadcaster's chats."""

    broadcaster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_bans_issued"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_bans"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chat ban")
        verbose_name_plural = _("chat bans")
        indexes = [models.Index(fields=["broadcaster", "user"])]

    def __str__(self):
        kind = "timeout" if self.expires_at else "ban"
        return f"{kind} of {self.user} by {self.broadcaster}"


class FilterWord(models.Model):
    """A word or phrase that holds a message for review. `broadcaster` empty: site-wide
    (edited by admins)."""

    broadcaster = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_filter_words",
    )
    phrase = models.CharField(_("word or phrase"), max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("filter word")
        verbose_name_plural = _("filter words")
        constraints = [
            models.UniqueConstraint(fields=["broadcaster", "phrase"], name="chat_filter_unique")
        ]

    def __str__(self):
        return self.phrase


class ModerationAction(models.Model):
    """Who did what, when: the chat's contribution to the audit log. `actor` empty means
    the system (automatic timeout)."""

    class Action(models.TextChoices):
        DELETE = "delete", _("deleted a message")
        TIMEOUT = "timeout", _("timed a user out")
        BAN = "ban", _("banned a user")
        UNBAN = "unban", _("lifted a ban")
        APPROVE = "approve", _("approved a held message")
        REJECT = "reject", _("rejected a held message")
        MODE = "mode", _("changed chat modes")
        ADD_MODERATOR = "add_moderator", _("appointed a moderator")
        REMOVE_MODERATOR = "remove_moderator", _("removed a moderator")
        ADD_FILTER = "add_filter", _("added a filter word")
        REMOVE_FILTER = "remove_filter", _("removed a filter word")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_moderation_actions",
    )
    broadcaster = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    broadcast = models.ForeignKey(
        "broadcast.Broadcast", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.ForeignKey(
        ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("chat moderation action")
        verbose_name_plural = _("chat moderation actions")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.actor or 'system'} {self.action} at {self.created_at:%Y-%m-%d %H:%M}"
