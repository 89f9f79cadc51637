from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "handle", "display_name", "is_staff", "date_joined")
    search_fields = ("username", "handle", "display_name", "x_id")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("X profile"), {"fields": ("x_id", "handle", "display_name", "avatar_url")}),
    )
