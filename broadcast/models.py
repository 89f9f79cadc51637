import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_slug():
    """Short and unguessable: 72 random bits, URL-safe."""
    return secrets.token_urlsafe(9)


class Broadcast(models.Model):
    class State(models.TextChoices):
        CREATED = "created", _("Not started")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        UNLISTED = "unlisted", _("Unlisted")

    slug = models.CharField(max_length=16, unique=True, default=new_slug, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="broadcasts"
    )
    title = models.CharField(_("title"), max_length=140)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.CREATED)
    tell_followers = models.BooleanField(_("tell my followers on X"), default=True)
    # The live thumbnail may be the watch page's card picture (og:image), which X fetches
    # and may keep. Staff always see the thumbnail on the moderation desk.
    show_picture = models.BooleanField(_("show the live picture on link cards"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)
    peak_viewers = models.PositiveIntegerField(default=0)
    # The publisher's lease: refreshed while media arrives; a sweep ends a live broadcast
    # whose lease ran out, whichever process held (or lost) its publisher.
    last_media_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        indexes = [models.Index(fields=["state", "visibility", "-started_at"])]

    def __str__(self):
        return f"{self.title} ({self.slug})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("broadcast:watch", kwargs={"slug": self.slug})


class XPost(models.Model):
    """One post to X, made at most once: one record per (purpose, source), whatever the
    broker redelivers. The state machine lives in broadcast/posting.py."""

    class Purpose(models.TextChoices):
        GO_LIVE = "go_live", _("Go-live post")
        CHAT_ECHO = "chat_echo", _("Chat echo")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        POSTING = "posting", _("Posting")
        POSTED = "posted", _("Posted")
        FAILED = "failed", _("Failed")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs X reconnect")

    class DeletionState(models.TextChoices):
        NONE = "", _("Not asked")
        REQUESTED = "requested", _("Deletion asked")
        DELETING = "deleting", _("Deleting")
        DELETED = "deleted", _("Deleted from X")
        FAILED = "failed", _("Could not delete")

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    source_key = models.CharField(max_length=64)
    # Sent to nobody; kept unique so a record can be found from a task message.
    idempotency_key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="x_posts"
    )
    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.CASCADE, null=True, blank=True, related_name="x_posts"
    )
    text = models.CharField(max_length=400)
    # The unique string looked for in the user's recent posts when reconciling.
    marker = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    # The last attempt may have reached X (timeout, worker killed): look before posting.
    outcome_unknown = models.BooleanField(default=False)
    last_error_code = models.CharField(max_length=32, blank=True)
    last_error_reason = models.CharField(max_length=300, blank=True)
    post_id = models.CharField(max_length=32, blank=True)
    post_url = models.URLField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    posting_started_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # Deleting the post from X (takedown, deleted broadcast or account, ban): a state
    # machine of its own, driven like posting (broadcast/post_deletion.py).
    deletion_state = models.CharField(
        max_length=16, choices=DeletionState.choices, default=DeletionState.NONE
    )
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_attempts = models.PositiveIntegerField(default=0)
    deletion_error = models.CharField(max_length=300, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("X post")
        verbose_name_plural = _("X posts")
        constraints = [
            models.UniqueConstraint(fields=["purpose", "source_key"], name="xpost_one_per_source")
        ]
        indexes = [models.Index(fields=["state", "updated_at"])]

    def __str__(self):
        return f"{self.purpose}:{self.source_key} ({self.state})"
