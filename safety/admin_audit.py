"""Django admin: the audit log. Read-only for everyone (safety.audit.record is its one
writer, the retention purge its one deleter), filterable by action, actor and date, and
exported as CSV: the filtered list (a button) or the selected rows (an action)."""

import csv
import json

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from safety.models import AuditEntry

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "target_kind",
    "target_id",
    "reason",
    "target_snapshot",
    "details",
)


def csv_cell(value):
    """A cell a spreadsheet shows as text: formula starts get a leading quote."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """csv.writer writes into this and gets the line back, for streaming."""

    def write(self, value):
        return value


def audit_csv_response(entries):
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for entry in entries.iterator(chunk_size=2000):
            yield writer.writerow([csv_cell(getattr(entry, name)) for name in CSV_COLUMNS])

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_shown", "action", "target", "reason_excerpt")
    list_filter = (
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        "target_kind",
        "created_at",
    )
    search_fields = ("actor_label", "target_id", "reason")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor_label",
        "actor",
        "action",
        "target_kind",
        "target_id",
        "reason",
        "snapshot_shown",
        "details_shown",
    )
    readonly_fields = ("snapshot_shown", "details_shown")
    actions = ["export_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="safety_auditentry_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The list as filtered on the page (the same query string), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(_("These filters are not valid."))
        return audit_csv_response(changelist.get_queryset(request))

    @admin.action(description=_("Export the selected entries as CSV"), permissions=["view"])
    def export_selected(self, request, queryset):
        return audit_csv_response(queryset)

    @admin.display(description=_("actor"), ordering="actor_label")
    def actor_shown(self, entry):
        return entry.actor_label

    @admin.display(description=_("target"))
    def target(self, entry):
        return f"{entry.target_kind}:{entry.target_id}" if entry.target_kind else "—"

    @admin.display(description=_("why"))
    def reason_excerpt(self, entry):
        return Truncator(entry.reason).chars(80)

    @staticmethod
    def _pretty(value):
        return format_html(
            '<pre class="desk-json">{}</pre>',
            json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True),
        )

    @admin.display(description=_("target as it was"))
    def snapshot_shown(self, entry):
        return self._pretty(entry.target_snapshot)

    @admin.display(description=_("details"))
    def details_shown(self, entry):
        return self._pretty(entry.details)
