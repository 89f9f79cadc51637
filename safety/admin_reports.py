"""Django admin: the reports queue, and the moderation desk's own pages (its URLs).

Reports are never edited by hand: every field is read-only, none is added here, and only
the retention purge deletes them. Staff act through the actions (dismiss, remove the
message, take down, restrict, ban), each of which settles the reports it covers through
safety.reports.settle_reports: who, when and what."""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import Case, Value, When
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from safety import admin_acts, desk_views
from safety.admin_forms import BanForm, NoteForm, RestrictForm, TakedownForm
from safety.models import SEVERITY, Report

EXCERPT = 80


def _moment(value):
    """A snapshot's ISO time as a datetime, shown in the admin's format (or as stored)."""
    return (parse_datetime(value) or value) if isinstance(value, str) else value


def _with_moments(part):
    if not isinstance(part, dict):
        return None
    return {key: _moment(value) if key.endswith("_at") else value for key, value in part.items()}


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("reported", "reason", "target", "reporter_label", "urgent", "state")
    list_display_links = ("reported", "reason")
    list_filter = ("state", "urgent", "reason", "target_kind")
    list_select_related = ("reporter",)
    search_fields = ("details", "target_key")
    date_hierarchy = "created_at"
    # The queue: open before closed, urgent first, newest first.
    ordering = (
        Case(When(state=Report.State.OPEN, then=Value(0)), default=Value(1)),
        "-urgent",
        "-created_at",
    )
    fieldsets = (
        (None, {"fields": ("reason", "details", "urgent", "state", "target", "reporter_label")}),
        (gettext_lazy("Evidence"), {"fields": ("evidence_picture", "evidence", "created_at")}),
        (
            gettext_lazy("Decision"),
            {"fields": ("decision", "decision_note", "closed_by", "closed_at", "hold_until")},
        ),
    )
    readonly_fields = ("target", "reporter_label", "evidence", "evidence_picture")
    actions = ["dismiss", "remove_messages", "take_down", "restrict_users", "ban_users"]

    # --- never edited by hand ---------------------------------------------------------
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_on_report_permission(self, request):
        return request.user.has_perm("safety.act_on_report")

    def get_queryset(self, request):
        # The picture is served on its own (desk_views.report_thumbnail).
        return super().get_queryset(request).defer("thumbnail")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("live/", wrap(desk_views.live_wall), name="safety_live"),
            path(
                "live/<str:slug>/take-down/",
                wrap(desk_views.take_down_from_wall),
                name="safety_live_take_down",
            ),
            path("alerts.json", wrap(desk_views.alert_counts), name="safety_alerts"),
            path(
                "<int:report_id>/picture/",
                wrap(desk_views.report_thumbnail),
                name="safety_report_thumbnail",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The report's page offers the queue's actions on this one report."""
        report = self.get_object(request, unquote(object_id))
        choices = []
        if report is not None and report.state == Report.State.OPEN:
            # Removing applies to a message, taking down to a broadcast.
            skip = "take_down" if report.target_kind == Report.Target.MESSAGE else "remove_messages"
            choices = [
                (name, description)
                for name, (_func, _name, description) in self.get_actions(request).items()
                if name != skip
            ]
        extra_context = {**(extra_context or {}), "report_actions": choices}
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Reports queue"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # --- columns and evidence ---------------------------------------------------------
    @admin.display(description=gettext_lazy("reported"), ordering="created_at")
    def reported(self, report):
        # The queue reads at a glance: how long ago; the report's page has the time.
        return _("%(time)s ago") % {"time": timesince(report.created_at)}

    @admin.display(description=gettext_lazy("target"))
    def target(self, report):
        snapshot = report.snapshot or {}
        if report.target_kind == Report.Target.MESSAGE:
            message = snapshot.get("message") or {}
            return format_html(
                "{} <q>{}</q>",
                _("Message by @%(handle)s:") % {"handle": message.get("author_handle", "?")},
                Truncator(message.get("text", "")).chars(EXCERPT),
            )
        broadcast = snapshot.get("broadcast") or {}
        return format_html(
            "{} <q>{}</q>",
            _("Broadcast by @%(handle)s:") % {"handle": broadcast.get("owner_handle", "?")},
            Truncator(broadcast.get("title", "")).chars(EXCERPT),
        )

    @admin.display(description=gettext_lazy("reporter"), ordering="reporter__handle")
    def reporter_label(self, report):
        if report.reporter_id:
            return str(report.reporter)
        if report.reporter_key.startswith("a:"):
            return _("anonymous")
        return _("deleted account")

    @admin.display(description=gettext_lazy("what was reported"))
    def evidence(self, report):
        snapshot = report.snapshot or {}
        return render_to_string(
            "admin/safety/report/_evidence.html",
            {
                "reported_at": _moment(snapshot.get("reported_at")),
                "broadcast": _with_moments(snapshot.get("broadcast")),
                "message": _with_moments(snapshot.get("message")),
                "snapshot_json": json.dumps(snapshot, ensure_ascii=False, indent=2, sort_keys=True),
            },
        )

    @admin.display(description=gettext_lazy("live picture then"))
    def evidence_picture(self, report):
        if not report.thumbnail_type:
            return _("No picture was stored with this report.")
        taken_at = _moment((report.snapshot or {}).get("thumbnail_taken_at"))
        return render_to_string(
            "admin/safety/report/_evidence_picture.html", {"report": report, "taken_at": taken_at}
        )

    # --- actions ------------------------------------------------------------------------
    def _tell(self, request, outcome, done):
        if outcome.done or outcome.settled:
            settled = ngettext(
                "%(count)d report settled.", "%(count)d reports settled.", outcome.settled
            ) % {"count": outcome.settled}
            self.message_user(request, f"{done} {settled}" if done else settled, messages.SUCCESS)
        for refusal in outcome.refused:
            self.message_user(request, refusal, messages.WARNING)
        if not (outcome.done or outcome.settled or outcome.refused):
            self.message_user(request, _("Nothing to do: no open report fits."), messages.INFO)

    def _form_step(self, request, queryset, *, form_class, action, title, initial, targets):
        """An action that asks first (rule, reason, days): the form page, then the act
        when it comes back valid. Returns the page, or the cleaned data."""
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                return form.cleaned_data
        else:
            form = form_class(initial=initial)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "action": action,
            "reports": queryset,
            "targets": targets,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/safety/report/act.html", context)

    @staticmethod
    def _initial(queryset):
        reasons = sorted({report.reason for report in queryset}, key=SEVERITY.get)
        return {
            "rule": reasons[0] if reasons else "",
            "restrict": any(report.urgent for report in queryset),
        }

    @admin.action(description=gettext_lazy("Dismiss"), permissions=["act_on_report"])
    def dismiss(self, request, queryset):
        step = self._form_step(
            request,
            queryset,
            form_class=NoteForm,
            action="dismiss",
            title=_("Dismiss these reports"),
            initial={},
            targets=[],
        )
        if isinstance(step, TemplateResponse):
            return step
        outcome = admin_acts.dismiss_reports(reports=queryset, by=request.user, note=step["note"])
        self._tell(request, outcome, "")
        return None

    @admin.action(description=gettext_lazy("Remove the message"), permissions=["act_on_report"])
    def remove_messages(self, request, queryset):
        messages_ = [r for r in queryset if r.target_kind == Report.Target.MESSAGE]
        step = self._form_step(
            request,
            queryset,
            form_class=NoteForm,
            action="remove_messages",
            title=_("Remove these chat messages for everyone"),
            initial={},
            targets=[self.target(r) for r in messages_],
        )
        if isinstance(step, TemplateResponse):
            return step
        outcome = admin_acts.remove_reported_messages(
            reports=queryset, by=request.user, note=step["note"]
        )
        done = ngettext(
            "%(count)d message removed.", "%(count)d messages removed.", outcome.done
        ) % {"count": outcome.done}
        self._tell(request, outcome, done)
        return None

    @admin.action(
        description=gettext_lazy("Take down the broadcast"), permissions=["act_on_report"]
    )
    def take_down(self, request, queryset):
        broadcasts = {
            r.broadcast_id: r.broadcast
            for r in queryset.select_related("broadcast")
            if r.target_kind == Report.Target.BROADCAST and r.broadcast_id
        }
        step = self._form_step(
            request,
            queryset,
            form_class=TakedownForm,
            action="take_down",
            title=_("Take down these broadcasts"),
            initial=self._initial(queryset),
            targets=[b.title for b in broadcasts.values()],
        )
        if isinstance(step, TemplateResponse):
            return step
        outcome = admin_acts.take_down_reported_broadcasts(
            reports=queryset.select_related("broadcast"),
            by=request.user,
            rule=step["rule"],
            reason=step["reason"],
            restrict_days=step["days"] if step["restrict"] else None,
        )
        done = ngettext(
            "%(count)d broadcast taken down.", "%(count)d broadcasts taken down.", outcome.done
        ) % {"count": outcome.done}
        self._tell(request, outcome, done)
        return None

    @admin.action(
        description=gettext_lazy("Restrict from going live"), permissions=["act_on_report"]
    )
    def restrict_users(self, request, queryset):
        queryset = queryset.select_related("target_user")
        step = self._form_step(
            request,
            queryset,
            form_class=RestrictForm,
            action="restrict_users",
            title=_("Restrict these people from going live"),
            initial=self._initial(queryset),
            targets=sorted({str(r.target_user) for r in queryset if r.target_user_id}),
        )
        if isinstance(step, TemplateResponse):
            return step
        outcome = admin_acts.restrict_reported_users(
            reports=queryset,
            by=request.user,
            days=step["days"],
            reason=step["reason"],
            rule=step["rule"],
        )
        done = ngettext(
            "%(count)d person restricted.", "%(count)d people restricted.", outcome.done
        ) % {"count": outcome.done}
        self._tell(request, outcome, done)
        return None

    @admin.action(description=gettext_lazy("Ban the account"), permissions=["act_on_report"])
    def ban_users(self, request, queryset):
        queryset = queryset.select_related("target_user")
        step = self._form_step(
            request,
            queryset,
            form_class=BanForm,
            action="ban_users",
            title=_("Ban these accounts site-wide"),
            initial=self._initial(queryset),
            targets=sorted({str(r.target_user) for r in queryset if r.target_user_id}),
        )
        if isinstance(step, TemplateResponse):
            return step
        outcome = admin_acts.ban_reported_users(
            reports=queryset, by=request.user, reason=step["reason"], rule=step["rule"]
        )
        done = ngettext("%(count)d account banned.", "%(count)d accounts banned.", outcome.done) % {
            "count": outcome.done
        }
        self._tell(request, outcome, done)
        return None
