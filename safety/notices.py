"""What a user is told after a moderation act against them: the rule broken, what was
done, until when. They read their notices at /safety/notices/ and may appeal each once
(safety.appeals). Restrictions, bans and takedowns issue their notice through here."""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from safety.models import Notice


def not_live_until(until):
    """The one sentence that says until when a restricted user may not go live (the
    go-live page and its refusals, the profile, the notices page)."""
    return _("You may not go live until %(until)s (%(zone)s).") % {
        "until": date_format(timezone.localtime(until), "DATETIME_FORMAT"),
        "zone": timezone.get_current_timezone_name(),
    }


def issue_notice(
    *, user, action, rule="", explanation="", by=None, broadcast=None, restriction=None
):
    """Tell `user` which rule they broke and what was done; they see it on their notices
    page and may appeal it once."""
    return Notice.objects.create(
        user=user,
        action=action,
        rule=rule or "",
        explanation=explanation or "",
        issued_by=by,
        broadcast=broadcast,
        restriction=restriction,
    )


def mark_notices_read(*, user):
    """The user has seen their notices page: the site-wide banner goes away."""
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def mark_unread(*, notice):
    """Something new to read on this notice (an appeal decided): the banner comes back."""
    Notice.objects.filter(pk=notice.pk).update(read_at=None)
