"""Chat in Django admin. Changes that users see (deleting, approving, banning, filter
words, modes) go through chat.services, so they are numbered, fanned out and recorded
exactly as when a moderator acts in the chat."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chat import services
from chat.models import (
    ChatBan,
    ChatEvent,
    ChatMessage,
    ChatRoom,
    FilterWord,
    ModerationAction,
    Moderator,
)
from chat.protocol import ChatRefused


def _run(modeladmin, request, items, act, done):
    count = 0
    for item in items:
        try:
            act(item)
            count += 1
        except ChatRefused as refusal:
            modeladmin.message_user(request, f"{item}: {refusal.code}", messages.WARNING)
    if count:
        modeladmin.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "author", "room", "status", "text", "held_reason")
    list_filter = ("status",)
    search_fields = ("text", "author__handle")
    raw_id_fields = ("room", "author", "deleted_by")
    # Status changes only through the actions (services): numbered, fanned out, recorded.
    readonly_fields = (
        "room",
        "author",
        "text",
        "seq",
        "status",
        "held_reason",
        "post_to_x",
        "created_at",
        "deleted_at",
        "deleted_by",
    )
    actions = ["delete_for_everyone", "approve_held", "reject_held"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A row deleted here would leave its text in the room's history with no delete
        # event and no audit record: use "Delete for everyone".
        return False

    @admin.action(description=_("Delete for everyone"))
    def delete_for_everyone(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda m: services.delete_message(message_id=m.pk, by=request.user),
            _("%(count)d message(s) deleted."),
        )

    @admin.action(description=_("Approve held messages"))
    def approve_held(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=ChatMessage.Status.HELD),
            lambda m: services.approve_message(message_id=m.pk, by=request.user),
            _("%(count)d message(s) approved."),
        )

    @admin.action(description=_("Reject held messages"))
    def reject_held(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=ChatMessage.Status.HELD),
            lambda m: services.reject_message(message_id=m.pk, by=request.user),
            _("%(count)d message(s) rejected."),
        )


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = (
        "broadcast",
        "last_seq",
        "chat_enabled",
        "slow_mode_seconds",
        "established_only",
    )
    readonly_fields = ("broadcast", "last_seq")
    actions = ["turn_chat_off", "turn_chat_on"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.set_chat_modes(
            broadcast=obj.broadcast,
            by=request.user,
            **{name: form.cleaned_data[name] for name in form.changed_data},
        )

    @admin.action(description=_("Turn chat off"))
    def turn_chat_off(self, request, queryset):
        _run(
            self,
            request,
            queryset.select_related("broadcast"),
            lambda r: services.set_chat_modes(
                broadcast=r.broadcast, by=request.user, chat_enabled=False
            ),
            _("Chat turned off in %(count)d room(s)."),
        )

    @admin.action(description=_("Turn chat on"))
    def turn_chat_on(self, request, queryset):
        _run(
            self,
            request,
            queryset.select_related("broadcast"),
            lambda r: services.set_chat_modes(
                broadcast=r.broadcast, by=request.user, chat_enabled=True
            ),
            _("Chat turned on in %(count)d room(s)."),
        )


@admin.register(ChatEvent)
class ChatEventAdmin(admin.ModelAdmin):
    list_display = ("room", "seq", "kind", "created_at")
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Moderator)
class ModeratorAdmin(admin.ModelAdmin):
    list_display = ("broadcaster", "user", "created_at")
    raw_id_fields = ("broadcaster", "user")


@admin.register(ChatBan)
class ChatBanAdmin(admin.ModelAdmin):
    list_display = ("user", "broadcaster", "expires_at", "lifted_at", "reason", "created_by")
    raw_id_fields = ("broadcaster", "user", "created_by")
    list_filter = ("lifted_at",)


@admin.register(FilterWord)
class FilterWordAdmin(admin.ModelAdmin):
    list_display = ("phrase", "broadcaster", "created_by", "created_at")
    raw_id_fields = ("broadcaster", "created_by")
    fields = ("phrase", "broadcaster")

    def save_model(self, request, obj, form, change):
        # Recorded like every other moderation act (site-wide when no broadcaster).
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        services.record_filter_change(word=obj, by=request.user, added=True)

    def delete_model(self, request, obj):
        services.record_filter_change(word=obj, by=request.user, added=False)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk "delete selected" action: recorded word by word like delete_model.
        with transaction.atomic():
            for word in queryset:
                services.record_filter_change(word=word, by=request.user, added=False)
            super().delete_queryset(request, queryset)


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target_user", "broadcaster", "broadcast")
    list_filter = ("action",)
    search_fields = ("actor__handle", "target_user__handle")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
