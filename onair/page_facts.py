"""What the privacy and rules pages state, read from the settings and the modules that
enforce it: the pages never spell a period themselves, so they cannot drift from what
the code does."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from broadcast import thumbnail_views, thumbnails
from safety.models import URGENT_REASONS, Reason
from safety.report_limits import WINDOW_S as REPORT_COUNTER_S

# What each report reason covers, in the rules' words (Reason's order: most serious first).
REASON_EXPLANATIONS = {
    Reason.CHILD_SAFETY: _(
        "Anything that puts a child at risk: sexualising minors, grooming, asking a child to "
        "meet, show themselves or move to another app."
    ),
    Reason.CRIME: _(
        "Violence, threats or a crime in progress, shown or encouraged on a broadcast."
    ),
    Reason.SELF_HARM: _("Showing, encouraging or instructing self-harm or suicide."),
    Reason.SEXUAL: _("Nudity and sexual content, live or in chat."),
    Reason.HARASSMENT: _(
        "Harassing, bullying or threatening anyone, and hate against people for who they are."
    ),
    Reason.PRIVACY: _(
        "Sharing someone's private information, or filming people who did not agree to it."
    ),
    Reason.IMPERSONATION: _("Pretending to be someone else."),
    Reason.COPYRIGHT: _("Broadcasting films, shows, matches or music you have no right to share."),
    Reason.SPAM: _("Spam, scams, fake giveaways and misleading links."),
    Reason.OTHER: _("Anything else that breaks these rules or the law."),
}


def periods():
    """Every period the pages state, in the units they state it."""
    every = thumbnails.every_s()
    return {
        "retention_days": settings.RETENTION_DAYS,
        "report_retention_days": settings.REPORT_RETENTION_DAYS,
        "legal_hold_days": settings.LEGAL_HOLD_DAYS,
        "legal_hold_child_safety_days": settings.LEGAL_HOLD_CHILD_SAFETY_DAYS,
        "restriction_days": settings.RESTRICTION_DAYS,
        "thumbnail_every_s": _seconds(every),
        "thumbnail_periods": thumbnails.TTL_PERIODS,
        "thumbnail_life_s": _seconds(thumbnails.time_to_live().total_seconds()),
        "thumbnail_cache_s": thumbnail_views.PUBLIC_MAX_AGE,
        "thumbnails_on": every > 0,
        "report_counter_minutes": REPORT_COUNTER_S // 60,
    }


def _seconds(value):
    """10.0 -> 10, 2.5 -> 2.5: whole seconds read as whole numbers."""
    return int(value) if float(value).is_integer() else value


def reasons():
    return [
        {
            "value": reason.value,
            "label": reason.label,
            "explanation": REASON_EXPLANATIONS[reason],
            "urgent": reason in URGENT_REASONS,
        }
        for reason in Reason
    ]
