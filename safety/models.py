"""What safety keeps: reports with their evidence, restrictions from going live, notices to
broadcasters with their appeals, and the audit log of every moderation and admin act.

Reports and audit rows are purged after REPORT_RETENTION_DAYS (safety/retention.py);
what an open or recently closed report points at is held from every purge meanwhile.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Reason(models.TextChoices):
    """Why something was reported, most serious first (the order is the desk's sort)."""

    CHILD_SAFETY = "child_safety", _("A child at risk")
    CRIME = "crime", _("Violence or a crime in progress")
    SELF_HARM = "self_harm", _("Self-harm or suicide")
    SEXUAL = "sexual", _("Sexual content")
    HARASSMENT = "harassment", _("Harassment or hate")
    PRIVACY = "privacy", _("Private information or filmed without consent")
    IMPERSONATION = "impersonation", _("Impersonation")
    COPYRIGHT = "copyright", _("Copyright")
    SPAM = "spam", _("Spam or scam")
    OTHER = "other", _("Other")


# Reasons that alert staff at once and pre-select a restriction on takedown.
URGENT_REASONS = frozenset({Reason.CHILD_SAFETY, Reason.CRIME, Reason.SELF_HARM})
# Lower is more serious: the desk sorts by it.
SEVERITY = {reason.value: rank for rank, reason in enumerate(Reason)}


class Report(models.Model):
    """One reporter's report of one target (a broadcast or a chat message). A repeat by
    the same reporter while it is open updates it (one open report per reporter and
    target). The snapshot is the evidence: it outlives the message or broadcast."""

    class Target(models.TextChoices):
        BROADCAST = "broadcast", _("Broadcast")
        MESSAGE = "message", _("Chat message")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACTIONED = "actioned", _("Actioned")
        DISMISSED = "dismissed", _("Dismissed")

    target_kind = models.CharField(_("target"), max_length=10, choices=Target.choices)
    # "b:<broadcast id>" or "m:<message id>": the key of the one-open-report rule.
    target_key = models.CharField(max_length=40, db_index=True)
    broadcast = models.ForeignKey(
        "broadcast.Broadcast",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    message = models.ForeignKey(
        "chat.ChatMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    # Whose conduct is reported (the broadcaster, or the message's author), kept as ids
    # so that the evidence outlives a deleted account.
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_against",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_made",
    )
    # "u:<user id>" for a signed-in reporter, "a:<keyed hash of the address>" for
    # anonymous ones: all anonymous reports from one address count as one reporter.
    reporter_key = models.CharField(max_length=80)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    details = models.TextField(_("details"), max_length=1000, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False, db_index=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    # Evidence: what was reported, as it was (title, message text, author id and handle,
    # times). The thumbnail is the live picture at that moment, the only stored copy.
    snapshot = models.JSONField(default=dict, blank=True)
    thumbnail = models.BinaryField(null=True, blank=True, editable=False)
    thumbnail_type = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(_("reported"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What settled it: "dismissed", "message_removed", "taken_down", "restricted", "banned".
    decision = models.CharField(_("decision"), max_length=24, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    # Legal hold: what the report points at is kept until then (None while open).
    hold_until = models.DateTimeField(_("kept until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter_key", "target_key"],
                condition=Q(state="open"),
                name="safety_one_open_report_per_reporter_and_target",
            )
        ]
        indexes = [models.Index(fields=["state", "target_key"])]
        permissions = [("act_on_report", _("Can act on reports"))]

    def __str__(self):
        return f"{self.get_reason_display()} · {self.target_key} ({self.get_state_display()})"


class Restriction(models.Model):
    """A user may not go live until `until` ("one strike"). Lifting keeps the row.

    It follows the X account, not only the row: deleting the account and signing up again
    with the same X account finds it again by the keyed hash of the X id."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="restrictions",
    )
    x_id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    until = models.DateTimeField(_("until"))
    reason = models.TextField(_("reason"), max_length=1000)
    rule = models.CharField(_("rule broken"), max_length=16, choices=Reason.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "until"])]
        verbose_name = _("restriction from going live")
        verbose_name_plural = _("restrictions from going live")

    def __str__(self):
        return f"{self.user} until {self.until:%Y-%m-%d %H:%M}"


class Notice(models.Model):
    """What a broadcaster is told after a moderation act against them: the rule broken and
    what was done. They may appeal once; a different moderator decides."""

    class Action(models.TextChoices):
        TAKEDOWN = "takedown", _("Your broadcast was removed")
        RESTRICTION = "restriction", _("You may not go live for a while")
        BAN = "ban", _("Your account was banned")
        MESSAGE_REMOVED = "message_removed", _("Your chat message was removed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_notices"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    rule = models.CharField(_("rule broken"), max_length=16, choices=Reason.choices, blank=True)
    explanation = models.TextField(blank=True)
    broadcast = models.ForeignKey(
        "broadcast.Broadcast", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restriction = models.ForeignKey(
        Restriction, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_action_display()} · {self.user}"


class Appeal(models.Model):
    """The one appeal against a notice. Decided by a moderator other than the one who
    issued the notice; the outcome is recorded and, if upheld, the act is undone."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        GRANTED = "granted", _("Granted: the decision was reversed")
        REJECTED = "rejected", _("Rejected: the decision stands")

    notice = models.OneToOneField(Notice, on_delete=models.CASCADE, related_name="appeal")
    text = models.TextField(_("your appeal"), max_length=2000)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-created_at"]

    def __str__(self):
        return f"appeal of {self.notice_id} ({self.state})"


class AuditEntry(models.Model):
    """Every moderation and admin act: who, what, a snapshot of the target, when, why.
    Written only through safety.audit.record; read-only everywhere else."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The actor's name as it was ("system" for beat jobs and automatic acts).
    actor_label = models.CharField(max_length=100)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    target_kind = models.CharField(max_length=20, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    target_snapshot = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")

    def __str__(self):
        return f"{self.actor_label} {self.action} {self.target_kind}:{self.target_id}"
