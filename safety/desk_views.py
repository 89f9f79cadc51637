"""The moderation desk's own admin pages: the live wall with its takedown form, the
staff alert count, and a report's stored evidence picture.

ReportAdmin.get_urls (safety/admin_reports.py) wires them into the admin, so that the
admin's sign-in applies; each view also checks its own permission, since being staff is
not enough."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from broadcast.models import Broadcast
from safety import admin_acts, admin_wall
from safety.admin_forms import TakedownForm
from safety.models import Report
from safety.report_queries import open_count, urgent_open_count

VIEW_REPORTS = "safety.view_report"
VIEW_BROADCASTS = "broadcast.view_broadcast"
ACT_ON_REPORTS = "safety.act_on_report"
# How often the wall re-reads its rows and pictures, and the badge its counts.
WALL_REFRESH_MS = 5000
ALERTS_REFRESH_MS = 5000
# What a stored evidence picture may be served as (never whatever a row says).
EVIDENCE_TYPES = frozenset({"image/jpeg", "image/webp"})


def _require(request, *perms):
    if not request.user.has_perms(perms):
        raise PermissionDenied


def _wall_rows(request):
    may_act = request.user.has_perm(ACT_ON_REPORTS)
    return [
        {
            "row": row,
            "form": TakedownForm(
                prefix=row.broadcast.slug,
                initial={"rule": row.worst_reason, "restrict": row.urgent},
            )
            if may_act
            else None,
        }
        for row in admin_wall.live_wall()
    ]


@never_cache
@require_GET
def live_wall(request):
    """Every live broadcast, urgent and reported first. `?partial=1` returns only the
    rows, which the page fetches every few seconds."""
    _require(request, VIEW_REPORTS, VIEW_BROADCASTS)
    context = {"entries": _wall_rows(request), "refresh_ms": WALL_REFRESH_MS}
    if request.GET.get("partial"):
        return TemplateResponse(request, "admin/safety/live_wall_rows.html", context)
    context.update(
        admin.site.each_context(request),
        title=_("Live now"),
        restriction_days=settings.RESTRICTION_DAYS,
    )
    return TemplateResponse(request, "admin/safety/live_wall.html", context)


@require_POST
def take_down_from_wall(request, slug):
    """The wall's one action: take the broadcast down, optionally restrict its owner,
    and settle the open reports on it and its chat."""
    _require(request, VIEW_REPORTS, VIEW_BROADCASTS, ACT_ON_REPORTS)
    broadcast = get_object_or_404(Broadcast.objects.select_related("owner"), slug=slug)
    form = TakedownForm(request.POST, prefix=slug)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("admin:safety_live")
    try:
        outcome = admin_acts.take_down_broadcast(
            broadcast=broadcast,
            by=request.user,
            rule=form.cleaned_data["rule"],
            reason=form.cleaned_data["reason"],
            restrict_days=form.restrict_days(),
        )
    except admin_acts.DeskRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("admin:safety_live")
    messages.success(request, admin_acts.describe_takedown(broadcast=broadcast, outcome=outcome))
    return redirect("admin:safety_live")


def alert_label(urgent, total):
    return ngettext(
        "%(urgent)d urgent report · %(open)d open",
        "%(urgent)d urgent reports · %(open)d open",
        urgent,
    ) % {"urgent": urgent, "open": total}


@never_cache
@require_GET
def alert_counts(request):
    """The badge on every admin page: {"urgent": N, "open": M, "label": "..."}."""
    _require(request, VIEW_REPORTS)
    urgent, total = urgent_open_count(), open_count()
    return JsonResponse({"urgent": urgent, "open": total, "label": alert_label(urgent, total)})


@require_GET
def report_thumbnail(request, report_id):
    """The live picture a report stored as its evidence: from the database row, the only
    copy, to staff who may read reports; never cached on the way."""
    _require(request, VIEW_REPORTS)
    report = get_object_or_404(Report.objects.only("thumbnail", "thumbnail_type"), pk=report_id)
    if not report.thumbnail or report.thumbnail_type not in EVIDENCE_TYPES:
        raise Http404
    response = HttpResponse(bytes(report.thumbnail), content_type=report.thumbnail_type)
    patch_cache_control(response, private=True, no_store=True)
    return response
