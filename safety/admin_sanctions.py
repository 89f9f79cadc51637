"""Django admin: restrictions from going live, notices to broadcasters, and their
appeals. Every change goes through the safety services (restrict, lift_restriction,
decide_appeal), which tell the user and write the audit log; nothing is edited by hand."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Case, Q, Value, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from safety.admin_forms import MAX_RESTRICTION_DAYS
from safety.appeals import AppealRefused, decide_appeal
from safety.models import Appeal, Notice, Restriction
from safety.restrictions import lift_restriction, restrict


# --- restrictions -------------------------------------------------------------------------
class RestrictionAddForm(forms.ModelForm):
    days = forms.IntegerField(
        label=gettext_lazy("Days"),
        min_value=1,
        max_value=MAX_RESTRICTION_DAYS,
        initial=lambda: settings.RESTRICTION_DAYS,
    )

    class Meta:
        model = Restriction
        fields = ("user", "days", "rule", "reason")


class InForceFilter(admin.SimpleListFilter):
    title = gettext_lazy("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        in_force = Q(lifted_at__isnull=True, until__gt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(in_force)
        if self.value() == "no":
            return queryset.exclude(in_force)
        return queryset


@admin.register(Restriction)
class RestrictionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "until",
        "in_force",
        "rule",
        "reason_excerpt",
        "created_by",
        "lifted_at",
    )
    list_filter = (InForceFilter, "rule")
    list_select_related = ("user", "created_by")
    search_fields = ("user__handle", "user__username", "reason")
    autocomplete_fields = ("user",)
    form = RestrictionAddForm
    actions = ["lift"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "days", "rule", "reason")
        return ("user", "until", "rule", "reason", "created_by", "created_at", "lifted_at")

    def has_change_permission(self, request, obj=None):
        # A restriction is never edited: it is lifted (the action) or runs out.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Added through the service: the user is told, a live of theirs ends, and the
        act is audited. The admin then shows the row the service made."""
        made = restrict(
            user=form.cleaned_data["user"],
            by=request.user,
            days=form.cleaned_data["days"],
            reason=form.cleaned_data["reason"],
            rule=form.cleaned_data["rule"],
        )
        for field in Restriction._meta.concrete_fields:
            setattr(obj, field.attname, getattr(made, field.attname))
        obj._state.adding = False

    @admin.display(description=gettext_lazy("in force"), boolean=True)
    def in_force(self, restriction):
        return restriction.lifted_at is None and restriction.until > timezone.now()

    @admin.display(description=gettext_lazy("reason"))
    def reason_excerpt(self, restriction):
        return Truncator(restriction.reason).chars(80)

    @admin.action(description=gettext_lazy("Lift now"), permissions=["change"])
    def lift(self, request, queryset):
        lifted = sum(
            lift_restriction(restriction=restriction, by=request.user)
            for restriction in queryset.select_related("user")
        )
        self.message_user(
            request,
            ngettext("%(count)d restriction lifted.", "%(count)d restrictions lifted.", lifted)
            % {"count": lifted},
            messages.SUCCESS,
        )


# --- notices ------------------------------------------------------------------------------
@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """What users were told: read-only, the services write it."""

    list_display = ("created_at", "user", "action", "rule", "issued_by", "read_at")
    list_filter = ("action", "rule")
    list_select_related = ("user", "issued_by")
    search_fields = ("user__handle", "explanation")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- appeals ------------------------------------------------------------------------------
class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("grant", gettext_lazy("Grant: reverse what was done")),
            ("reject", gettext_lazy("Reject: the decision stands")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note to the user"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
    )

    def __init__(self, *args, appeal, decider, **kwargs):
        super().__init__(*args, **kwargs)
        self.appeal = appeal
        self.decider = decider

    def clean(self):
        if self.appeal.notice.issued_by_id == self.decider.pk:
            raise ValidationError(AppealRefused("same_moderator").message, code="same_moderator")
        return super().clean()


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ("created_at", "state", "appellant", "notice_action", "notice_by", "decided_by")
    list_filter = ("state",)
    list_select_related = ("notice__user", "notice__issued_by", "decided_by")
    search_fields = ("notice__user__handle", "text")
    # Pending first, oldest first: appeals are answered in turn.
    ordering = (
        Case(When(state=Appeal.State.PENDING, then=Value(0)), default=Value(1)),
        "created_at",
    )
    fields = ("notice", "text", "state", "created_at", "decided_by", "decided_at", "outcome_note")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Deciding is the only change, once.
        if obj is not None and obj.state != Appeal.State.PENDING:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("appellant"))
    def appellant(self, appeal):
        return appeal.notice.user

    @admin.display(description=gettext_lazy("what was done"))
    def notice_action(self, appeal):
        return appeal.notice.get_action_display()

    @admin.display(description=gettext_lazy("by"))
    def notice_by(self, appeal):
        return appeal.notice.issued_by or "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A pending appeal opens as its decision form; any other as read-only."""
        appeal = self.get_object(request, unquote(object_id))
        if appeal is None or not self.has_change_permission(request, appeal):
            return super().change_view(request, object_id, form_url, extra_context)
        form = AppealDecisionForm(
            request.POST if request.method == "POST" else None,
            appeal=appeal,
            decider=request.user,
        )
        if request.method == "POST" and form.is_valid():
            grant = form.cleaned_data["decision"] == "grant"
            try:
                decide_appeal(
                    appeal=appeal, by=request.user, grant=grant, note=form.cleaned_data["note"]
                )
            except AppealRefused as refusal:
                form.add_error(None, refusal.message)
            else:
                self.message_user(
                    request,
                    _("Appeal granted: what was done is reversed.")
                    if grant
                    else _("Appeal rejected: the decision stands."),
                    messages.SUCCESS,
                )
                return redirect("admin:safety_appeal_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Decide the appeal"),
            "opts": self.model._meta,
            "original": appeal,
            "appeal": appeal,
            "notice": appeal.notice,
            "form": form,
        }
        return TemplateResponse(request, "admin/safety/appeal/decide.html", context)
