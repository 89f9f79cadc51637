"""The moderation desk's acts. Each calls the service that does the work (take_down,
restrict, ban_account, chat's delete_message), then settles the open reports the act
covers, in one transaction per target: a report is never closed without its act, nor
left open after it. A target the service refuses is reported back, the others go on."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat.models import ChatMessage
from chat.protocol import ERRORS, ChatRefused
from chat.services import delete_message
from safety.bans import ban_account
from safety.models import Notice, Report
from safety.notices import issue_notice
from safety.reports import DISMISSED, settle_reports
from safety.restrictions import restrict
from safety.takedown import take_down


class DeskRefused(Exception):
    """An act the service refused, with the sentence staff read."""


@dataclass
class Outcome:
    done: int = 0  # targets acted on
    settled: int = 0  # reports closed
    refused: list[str] = field(default_factory=list)  # one sentence per refused target


def _message_of(error):
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, ChatRefused):
        return str(ERRORS.get(error.code, error.code))
    return str(error) or _("Not allowed.")


REFUSALS = (ValidationError, PermissionDenied, ChatRefused)


def _open(reports):
    return [report for report in reports if report.state == Report.State.OPEN]


def open_reports_on_broadcast(broadcast):
    """Open reports a takedown settles: of the broadcast itself, and of its owner's own
    chat messages. Reports of other people's messages in its chat stay open: a takedown
    does not deal with them (a chatter grooming a child must still be acted on)."""
    return Report.objects.filter(state=Report.State.OPEN, broadcast_id=broadcast.pk).filter(
        Q(target_kind=Report.Target.BROADCAST) | Q(target_user_id=broadcast.owner_id)
    )


def take_down_broadcast(*, broadcast, by, rule, reason="", restrict_days=None):
    """Take one broadcast down, optionally restrict its owner, and settle the open
    reports on it and its chat. Raises DeskRefused."""
    try:
        with transaction.atomic():
            takedown = take_down(
                broadcast=broadcast, by=by, rule=rule, reason=reason, restrict_days=restrict_days
            )
            settled = settle_reports(
                reports=open_reports_on_broadcast(broadcast),
                by=by,
                decision="restricted" if takedown.restriction else "taken_down",
                note=reason,
            )
    except REFUSALS as error:
        raise DeskRefused(_message_of(error)) from error
    return Outcome(done=0 if takedown.already_removed else 1, settled=len(settled))


def describe_takedown(*, broadcast, outcome):
    if not outcome.done:
        return _("“%(title)s” had already been taken down.") % {"title": broadcast.title}
    return ngettext(
        "“%(title)s” was taken down; %(count)d report was settled.",
        "“%(title)s” was taken down; %(count)d reports were settled.",
        outcome.settled,
    ) % {"title": broadcast.title, "count": outcome.settled}


def dismiss_reports(*, reports, by, note=""):
    settled = settle_reports(reports=_open(reports), by=by, decision=DISMISSED, note=note)
    return Outcome(settled=len(settled))


def take_down_reported_broadcasts(*, reports, by, rule, reason="", restrict_days=None):
    """From the queue: each reported broadcast once (a report of a chat message does not
    take its broadcast down)."""
    outcome = Outcome()
    broadcasts = {
        report.broadcast_id: report.broadcast
        for report in _open(reports)
        if report.target_kind == Report.Target.BROADCAST and report.broadcast_id
    }
    for broadcast in broadcasts.values():
        try:
            one = take_down_broadcast(
                broadcast=broadcast, by=by, rule=rule, reason=reason, restrict_days=restrict_days
            )
        except DeskRefused as refusal:
            outcome.refused.append(f"{broadcast.title}: {refusal}")
            continue
        outcome.done += one.done
        outcome.settled += one.settled
    return outcome


def remove_reported_messages(*, reports, by, note=""):
    """Delete each reported message for everyone, tell its author, and settle every
    open report of it."""
    outcome = Outcome()
    messages = {
        report.message_id: report
        for report in _open(reports)
        if report.target_kind == Report.Target.MESSAGE and report.message_id
    }
    for message_id, report in messages.items():
        try:
            with transaction.atomic():
                message = ChatMessage.objects.select_related("author").get(pk=message_id)
                # Already deleted in the chat: the reports still settle as removed.
                if message.status != ChatMessage.Status.DELETED:
                    delete_message(message_id=message_id, by=by)
                    issue_notice(
                        user=message.author,
                        action=Notice.Action.MESSAGE_REMOVED,
                        rule=report.reason,
                        explanation=note,
                        by=by,
                        broadcast=report.broadcast,
                    )
                settled = settle_reports(
                    reports=Report.objects.filter(state=Report.State.OPEN, message_id=message_id),
                    by=by,
                    decision="message_removed",
                    note=note,
                )
        except REFUSALS as error:
            outcome.refused.append(f"#{message_id}: {_message_of(error)}")
            continue
        outcome.done += 1
        outcome.settled += len(settled)
    return outcome


def _reported_users(reports):
    users = {}
    for report in _open(reports):
        if report.target_user_id:
            users.setdefault(report.target_user_id, (report.target_user, []))[1].append(report)
    return users.values()


def restrict_reported_users(*, reports, by, days, reason, rule):
    """Restrict each reported person from going live, and settle the selected reports
    about them."""
    outcome = Outcome()
    for user, covered in _reported_users(reports):
        try:
            with transaction.atomic():
                restrict(user=user, by=by, days=days, reason=reason, rule=rule)
                settled = settle_reports(reports=covered, by=by, decision="restricted", note=reason)
        except REFUSALS as error:
            outcome.refused.append(f"{user}: {_message_of(error)}")
            continue
        outcome.done += 1
        outcome.settled += len(settled)
    return outcome


def ban_reported_users(*, reports, by, reason, rule):
    """Ban each reported person site-wide, and settle every open report about them: the
    ban ends their live and their chat, which covers all of it."""
    outcome = Outcome()
    for user, _covered in _reported_users(reports):
        try:
            with transaction.atomic():
                ban_account(user=user, by=by, reason=reason, rule=rule)
                settled = settle_reports(
                    reports=Report.objects.filter(state=Report.State.OPEN, target_user=user),
                    by=by,
                    decision="banned",
                    note=reason,
                )
        except REFUSALS as error:
            outcome.refused.append(f"{user}: {_message_of(error)}")
            continue
        outcome.done += 1
        outcome.settled += len(settled)
    return outcome
