from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import RefusedXAccount, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "handle", "display_name", "is_staff", "date_joined")
    search_fields = ("username", "handle", "display_name", "x_id")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("X profile"), {"fields": ("x_id", "handle", "display_name", "avatar_url")}),
        (_("Age"), {"fields": ("birth_date",)}),
    )


@admin.register(RefusedXAccount)
class RefusedXAccountAdmin(admin.ModelAdmin):
    """X accounts refused for age: a keyed hash only, nothing to read back."""

    list_display = ("x_id_hash", "refused_at")
    readonly_fields = ("x_id_hash", "refused_at")

    def has_add_permission(self, request):
        return False
