"""The emulator's state: test users, authorization codes, tokens, posts and faults.

IDs are numeric strings like X's (snowflake-style: time-ordered), tokens are stored only
as SHA-256 hashes.
"""

import secrets
import time

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

# X's snowflake epoch (2010-11-04), so IDs look and sort like X's.
_EPOCH_MS = 1288834974657


def new_snowflake():
    """A 19-digit, time-ordered numeric id (milliseconds << 22 | 22 random bits)."""
    millis = int(time.time() * 1000) - _EPOCH_MS
    return str((millis << 22) | secrets.randbits(22))


class XUser(models.Model):
    id = models.CharField(primary_key=True, max_length=19, default=new_snowflake, editable=False)
    username = models.CharField(_("username"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(_("account created"))

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="xemulator_username_ci_unique")
        ]
        verbose_name = _("emulated X user")
        verbose_name_plural = _("emulated X users")

    def __str__(self):
        return f"@{self.username}"


class AuthorizationCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(XUser, on_delete=models.CASCADE, related_name="codes")
    client_id = models.CharField(max_length=200)
    redirect_uri = models.CharField(max_length=2000)
    scope = models.CharField(max_length=500)
    code_challenge = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"code for {self.user_id}"


class Token(models.Model):
    """One access token, with the refresh token issued beside it (if offline.access).

    Refreshing marks the row `refreshed_at` (its refresh token is then dead) and issues a
    new row; revoking kills both tokens."""

    user = models.ForeignKey(XUser, on_delete=models.CASCADE, related_name="tokens")
    client_id = models.CharField(max_length=200)
    scope = models.CharField(max_length=500)
    access_token_hash = models.CharField(max_length=64, unique=True)
    refresh_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"token for {self.user_id}"

    @property
    def scopes(self):
        return set(self.scope.split())


class Post(models.Model):
    id = models.CharField(primary_key=True, max_length=19, default=new_snowflake, editable=False)
    author = models.ForeignKey(XUser, on_delete=models.CASCADE, related_name="posts")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("emulated post")
        verbose_name_plural = _("emulated posts")

    def __str__(self):
        return f"{self.id}: {self.text[:40]}"


class Fault(models.Model):
    """The next `remaining` calls to `endpoint` fail with `status`, wait `delay_s` first,
    or (token endpoint) issue tokens expiring in `expires_in` seconds."""

    endpoint = models.CharField(max_length=40)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    delay_s = models.FloatField(null=True, blank=True)
    reset_in = models.PositiveIntegerField(default=1)
    expires_in = models.PositiveIntegerField(null=True, blank=True)
    remaining = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.endpoint} x{self.remaining}"
