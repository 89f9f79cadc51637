from django.contrib import admin

from broadcast.models import Broadcast


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "state", "visibility", "started_at", "peak_viewers")
    list_filter = ("state", "visibility")
    search_fields = ("title", "slug", "owner__handle")
    readonly_fields = ("slug", "created_at", "started_at", "ended_at", "peak_viewers")
