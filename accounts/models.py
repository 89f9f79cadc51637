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

    def __str__(self):
        return f"@{self.handle}" if self.handle else self.username

    @property
    def name_for_display(self):
        return self.display_name or self.handle or self.username
