from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from broadcast import services
from broadcast.models import Broadcast


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "state", "visibility", "started_at", "peak_viewers")
    list_filter = ("state", "visibility")
    search_fields = ("title", "slug", "owner__handle")
    # State changes go through services.end_broadcast (the action below), never by hand.
    readonly_fields = (
        "slug",
        "owner",
        "state",
        "created_at",
        "started_at",
        "ended_at",
        "end_reason",
        "peak_viewers",
        "last_media_at",
    )
    actions = ["end_now"]

    def has_delete_permission(self, request, obj=None):
        # Broadcasts go through the retention purge or their owner's account deletion,
        # which keep what a legal hold holds; an admin delete would cascade past it.
        return False

    @admin.action(description=_("End the selected broadcasts now"), permissions=["change"])
    def end_now(self, request, queryset):
        ended = sum(
            services.end_broadcast(
                broadcast=broadcast, reason=services.EndReason.ADMIN, by=request.user
            )
            for broadcast in queryset.exclude(state=Broadcast.State.ENDED)
        )
        self.message_user(
            request,
            ngettext("%d broadcast ended.", "%d broadcasts ended.", ended) % ended,
            messages.SUCCESS,
        )


from broadcast import posting_admin  # noqa: E402, F401 (registers the read-only XPost admin)
