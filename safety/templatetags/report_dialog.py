"""{% report_dialog %}: the page's one report dialog, with its script. Any button with
data-report-target (the watch page's, each chat message's) opens it."""

from django import template

from safety.models import Reason
from safety.reports import DETAILS_MAX

register = template.Library()


@register.inclusion_tag("safety/_report_dialog.html", takes_context=True)
def report_dialog(context):
    return {
        "reasons": Reason.choices,
        "other": Reason.OTHER,
        "details_max": DETAILS_MAX,
        "csrf_token": context.get("csrf_token"),
    }
