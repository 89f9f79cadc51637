"""What a broadcaster is told after a moderation act against them, and their one appeal."""

from safety.models import Notice


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
