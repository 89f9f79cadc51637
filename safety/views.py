"""HTTP side of reporting: POST /api/reports, open to everyone, anonymous viewers
included (a child at risk cannot wait for a sign-in). Thin: the rules are in
safety/reports.py."""

import json
import math

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from onair import client_address
from safety.models import Reason
from safety.reports import ReportRefused, file_report

# The largest honest body: 1,000 characters of details, each up to 6 bytes as a JSON
# escape, and the other fields.
MAX_BODY_BYTES = 8 * 1024
STATUS = {"not_found": 404, "rate_limited": 429, "too_large": 413}


def _error(code, message, *, retry_after=None):
    body = {"type": "error", "code": code, "message": str(message)}
    if retry_after is not None:
        body["retry_after"] = retry_after
    response = JsonResponse(body, status=STATUS.get(code, 400))
    if retry_after is not None:
        response["Retry-After"] = str(math.ceil(retry_after))
    return response


def _fields(request):
    """The report's fields from a JSON body or a form; None when malformed."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
    else:
        data = request.POST
    fields = {name: data.get(name, "") for name in ("target", "id", "reason", "details")}
    if isinstance(fields["id"], int) and not isinstance(fields["id"], bool):
        fields["id"] = str(fields["id"])  # a message id may come as a JSON number
    if fields["details"] is None:
        fields["details"] = ""
    if not all(isinstance(value, str) for value in fields.values()):
        return None
    return fields


def confirmation(report):
    if report.urgent:
        return _(
            "Thank you. Your report was sent to the OnAir team as urgent, and they have "
            "been alerted."
        )
    return _("Thank you. Your report was sent to the OnAir team, who will look at it.")


@never_cache
@require_POST
def report(request):
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return _error("too_large", _("That report is too large."))
    fields = _fields(request)
    if fields is None:
        return _error("invalid_request", _("That request is not valid."))
    try:
        filed = file_report(
            reporter=request.user if request.user.is_authenticated else None,
            address=client_address.from_request(request),
            target_kind=fields["target"],
            target_id=fields["id"],
            reason=fields["reason"],
            details=fields["details"],
        )
    except ReportRefused as refused:
        return _error(refused.code, refused.message, retry_after=refused.retry_after)
    # No report id: a repeat from the same network answers with the same report, which
    # would tell its reporter that someone there had already reported the target.
    body = {"type": "report", "message": confirmation(filed)}
    if filed.reason == Reason.SELF_HARM:
        body["help"] = settings.SELF_HARM_HELP_TEXT
    return JsonResponse(body, status=201)
