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
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)
    peak_viewers = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["state", "visibility", "-started_at"])]

    def __str__(self):
        return f"{self.title} ({self.slug})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("broadcast:watch", kwargs={"slug": self.slug})
