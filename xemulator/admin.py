"""The emulator's state in Django admin, only while the emulator is on (never beside real X)."""

from django.conf import settings
from django.contrib import admin

from xemulator.models import Fault, Post, XUser


class XUserAdmin(admin.ModelAdmin):
    list_display = ("username", "name", "id", "created_at")
    search_fields = ("username", "name", "id")


class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "text", "created_at", "deleted_at")
    list_select_related = ("author",)
    search_fields = ("text", "author__username")


class FaultAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "status", "delay_s", "remaining", "created_at")


if settings.XEMULATOR_ENABLED:
    admin.site.register(XUser, XUserAdmin)
    admin.site.register(Post, PostAdmin)
    admin.site.register(Fault, FaultAdmin)
