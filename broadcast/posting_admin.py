"""Django admin: the posts made to X, read-only (the state machines in broadcast/posting.py
and broadcast/post_deletion.py are the only writers). Imported at the end of
broadcast/admin.py."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from broadcast.models import XPost


@admin.register(XPost)
class XPostAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "purpose",
        "state",
        "attempts",
        "last_error_code",
        "post_link",
        "deletion",
        "created_at",
        "posted_at",
        "updated_at",
    )
    # "Could not delete" (deletion failed) is one click away, each with its post's link.
    list_filter = ("state", "deletion_state", "purpose", "last_error_code")
    search_fields = ("user__handle", "source_key", "post_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"

    @admin.display(description=_("post on X"), ordering="post_url")
    def post_link(self, obj):
        if not obj.post_url:
            return "-"
        return format_html(
            '<a href="{}" rel="noopener" target="_blank">{}</a>', obj.post_url, obj.post_url
        )

    @admin.display(description=_("deletion from X"), ordering="deletion_state")
    def deletion(self, obj):
        """The state, and the last error if any: "Could not delete (invalid_grant)"."""
        label = obj.get_deletion_state_display()
        return f"{label} ({obj.deletion_error})" if obj.deletion_error else label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
