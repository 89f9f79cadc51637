"""Django admin: the posts made to X, read-only (the state machine in broadcast/posting.py
is the only writer). Imported at the end of broadcast/admin.py."""

from django.contrib import admin

from broadcast.models import XPost


@admin.register(XPost)
class XPostAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "purpose",
        "state",
        "attempts",
        "last_error_code",
        "post_url",
        "created_at",
        "posted_at",
        "updated_at",
    )
    list_filter = ("state", "purpose", "last_error_code")
    search_fields = ("user__handle", "source_key", "post_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
