from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """An OnAir user. Broadcasters and chatters sign in with X; staff may also have a
    password for Django admin. The X fields mirror the profile X returns at sign-in."""

    x_id = models.CharField(_("X user id"), max_length=32, unique=True, null=True, blank=True)
    handle = models.CharField(_("X handle"), max_length=32, blank=True, db_index=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    avatar_url = models.URLField(_("avatar URL"), max_length=500, blank=True)
    # When the X account was made (X's created_at): chat's "established only" mode needs it.
    x_created_at = models.DateTimeField(_("X account created"), null=True, blank=True)
    # Asked once at the first sign-in with X; decides chat (13+) and broadcast (18+).
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Kept after the retention purge removes the broadcasts themselves: /u/<handle>/ then
    # shows only this date.
    last_live_at = models.DateTimeField(_("last live"), null=True, blank=True)

    def __str__(self):
        return f"@{self.handle}" if self.handle else self.username

    @property
    def name_for_display(self):
        return self.display_name or self.handle or self.username


class RefusedXAccount(models.Model):
    """An X account refused at sign-in: under age, or banned site-wide. Only a keyed hash
    of its X id is kept, enough to refuse it again at once (even after the account was
    deleted and the person signs in with the same X account), nothing that names them."""

    class Why(models.TextChoices):
        AGE = "age", _("Under the minimum age")
        BANNED = "banned", _("Banned site-wide")

    x_id_hash = models.CharField(max_length=64, unique=True)
    why = models.CharField(max_length=8, choices=Why.choices, default=Why.AGE)
    refused_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("refused X account")
        verbose_name_plural = _("refused X accounts")

    def __str__(self):
        return self.x_id_hash[:12]


class Block(models.Model):
    """`blocker` no longer sees `blocked`'s chat messages anywhere, and `blocked` may not
    chat in `blocker`'s broadcasts."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="accounts_block_once")
        ]

    def __str__(self):
        return f"{self.blocker} blocks {self.blocked}"
