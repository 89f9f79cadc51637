"""The retention purge (a daily beat job): ended broadcasts with their chat and X-post
records after RETENTION_DAYS; reports (with their evidence) and audit rows after
REPORT_RETENTION_DAYS; never what a legal hold keeps (safety/holds.py).

Bounded work: at most `batch_size` rows (picked by primary key) per short transaction of
their own, so live rooms writing to the same tables do not wait on the purge.
Posts on X stay on X: the purge deletes only OnAir's record of them.
"""

import contextlib
import logging
import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import SET_NULL, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from broadcast.models import Broadcast, XPost
from chat.models import ChatEvent, ChatMessage, ModerationAction
from safety import audit, holds
from safety.models import AuditEntry, Report

logger = logging.getLogger(__name__)

# An X task still works from these records (a post being made, a deletion asked): the
# broadcast waits for the next run rather than lose the post it would have to delete.
X_POST_IN_FLIGHT = Q(state__in=[XPost.State.QUEUED, XPost.State.POSTING]) | Q(
    deletion_state__in=[XPost.DeletionState.REQUESTED, XPost.DeletionState.DELETING]
)

# After each transaction the purge rests this many times as long as the transaction took,
# so that it uses at most half of a core and of the database's time: live rooms post to
# the same tables meanwhile, and a daily job has hours to finish.
PAUSE_RATIO = 3.0

# What refers to a broadcast, emptied before the broadcast itself so that no single
# transaction grows with the size of a chat: (model, field naming the broadcast).
# The event log goes first: its payloads carry the message text too.
BROADCAST_CHILDREN = (
    (ChatEvent, "room_id"),
    (ModerationAction, "broadcast_id"),
    (ChatMessage, "room_id"),
    (XPost, "broadcast_id"),
)


def purgeable_broadcasts(now):
    """Ended broadcasts past RETENTION_DAYS that no legal hold keeps and no X task is
    still working on. Never a live or a created one."""
    cutoff = now - timedelta(days=settings.RETENTION_DAYS)
    busy = XPost.objects.filter(X_POST_IN_FLIGHT, broadcast__isnull=False).values("broadcast_id")
    return (
        Broadcast.objects.filter(state=Broadcast.State.ENDED, ended_at__lt=cutoff)
        .exclude(pk__in=holds.held_broadcast_ids(now))
        .exclude(pk__in=busy.order_by())
    )


def purgeable_reports(now):
    """Settled reports past REPORT_RETENTION_DAYS, counted from their closing, whose hold
    has run out. An open report is never purged."""
    cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    return (
        Report.objects.exclude(state=Report.State.OPEN)
        .alias(settled_at=Coalesce("closed_at", "updated_at"))
        .filter(settled_at__lt=cutoff)
        .exclude(pk__in=holds.holding_reports(now).order_by().values("pk"))
    )


def purgeable_audit_entries(now):
    cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    return AuditEntry.objects.filter(created_at__lt=cutoff).exclude(holds.held_audit_entries(now))


def purgeable_chat_moderation_records(now):
    """The chat's own record of acts not tied to a broadcast (moderators appointed,
    filter words): part of the audit log, kept as long. Those of a broadcast go with it."""
    cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    return ModerationAction.objects.filter(broadcast__isnull=True, created_at__lt=cutoff)


def purge_expired(*, now=None, batch_size=None):
    """Delete what is past its retention period; record the counts in the audit log.
    Returns the audit entry. `now` freezes the clock (tests); `batch_size` defaults to
    PURGE_BATCH_SIZE."""
    now = now or timezone.now()
    batch_size = batch_size or settings.PURGE_BATCH_SIZE
    started = time.monotonic()
    purge = _Purge(batch_size)
    if connection.vendor == "sqlite":
        # SQLite leaves deleted rows' bytes in free pages; this overwrites them.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
    purge.broadcasts(now)
    purge.rows(purgeable_reports(now))
    purge.rows(purgeable_audit_entries(now))
    purge.rows(purgeable_chat_moderation_records(now))
    counts = {label: count for label, count in sorted(purge.counts.items()) if count}
    batches = dict(sorted(purge.batches.items()))
    logger.info("purge: %s in %s transactions", counts or "nothing", batches)
    return audit.record(
        actor=None,
        action="purge",
        counts=counts,
        batches=batches,
        seconds=round(time.monotonic() - started, 3),
        retention_days=settings.RETENTION_DAYS,
        report_retention_days=settings.REPORT_RETENTION_DAYS,
        now=now.isoformat(),
    )


class _Purge:
    """One run: deletes batch by batch and counts rows per table ("app.Model")."""

    def __init__(self, batch_size):
        self.batch_size = batch_size
        # Deleting a broadcast is about ten rows' work (its room, and every link Django
        # checks and releases): a tenth as many broadcasts make as short a transaction.
        self.broadcasts_per_batch = max(1, batch_size // 10)
        self.counts = Counter()
        self.batches = Counter()  # transactions per table deleted from

    @contextlib.contextmanager
    def transaction(self):
        """One batch's transaction, then a rest in proportion (PAUSE_RATIO)."""
        began = time.monotonic()
        with transaction.atomic():
            yield
        time.sleep((time.monotonic() - began) * PAUSE_RATIO)

    def rows(self, scope):
        """Delete every row of `scope`, at most batch_size per transaction, lowest keys
        first. The scope is evaluated again in each transaction, so a row that a new
        hold keeps stays."""
        after = None
        while True:
            # Each batch starts past the last one: the index is not walked again over
            # the rows just deleted (dead until vacuumed).
            remaining = scope if after is None else scope.filter(pk__gt=after)
            with self.transaction():
                after, per_model = _delete_first_rows(remaining, self.batch_size)
            if not per_model:
                return
            self.batches.update(per_model.keys())
            self.counts.update(per_model)

    def broadcasts(self, now):
        after = 0
        while True:
            chunk = list(
                purgeable_broadcasts(now)
                .filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[: self.broadcasts_per_batch]
            )
            if not chunk:
                return
            # The chunk as a range of keys: every statement below names it in two
            # parameters (the broadcasts in it that are still purgeable), not in a list.
            low, after = chunk[0], chunk[-1]
            for model, field in BROADCAST_CHILDREN:
                still_purgeable = (
                    purgeable_broadcasts(now).filter(pk__gte=low, pk__lte=after).values("pk")
                )
                self.rows(model.objects.filter(**{f"{field}__in": still_purgeable}))
            with self.transaction():
                ids = list(
                    purgeable_broadcasts(now)
                    .filter(pk__gte=low, pk__lte=after)
                    .values_list("pk", flat=True)
                )
                if not ids:
                    continue
                _remember_last_live(ids)
                # The chat room (and anything posted since the children went) cascades.
                _, per_model = Broadcast.objects.filter(pk__in=ids).delete()
            self.batches[Broadcast._meta.label] += 1
            self.counts.update(per_model)


def _remember_last_live(broadcast_ids):
    """/u/<handle>/ shows when its owner was last live after the broadcasts are gone."""
    latest = (
        Broadcast.objects.filter(pk__in=broadcast_ids, started_at__isnull=False)
        .values("owner_id")
        .annotate(latest=Max("started_at"))
        .order_by()
    )
    users = get_user_model().objects
    for row in latest:
        users.filter(pk=row["owner_id"]).filter(
            Q(last_live_at__isnull=True) | Q(last_live_at__lt=row["latest"])
        ).update(last_live_at=row["latest"])


def _delete_first_rows(scope, size):
    """Delete the `size` rows of `scope` with the lowest keys, without loading them:
    Django's collector would read every row (and their keys into the SQL) to do what two
    subqueries do here. Rows of other tables that point at them with SET_NULL are
    released first, as the collector would; any other link is refused, as those tables
    are emptied before their parents. Returns (the highest key in the batch,
    {"app.Model": count}); (None, {}) when there is nothing left.

    _raw_delete is Django's own fast path (what QuerySet.delete() runs for a table that
    nothing points at); this is its one use, and a test checks that it is the one taken."""
    model = scope.model
    first = scope.order_by("pk").values("pk")[:size]
    bounds = model._base_manager.filter(pk__in=first).aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return None, {}
    # The same rows, as a condition that stays put for the statements below.
    batch = scope.filter(pk__gte=bounds["low"], pk__lte=bounds["high"]).order_by().values("pk")
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and relation.one_to_many):
            continue
        if relation.on_delete is not SET_NULL:
            raise ValueError(f"{relation} must be emptied before {model._meta.label}")
        name = relation.field.name
        relation.related_model._base_manager.filter(**{f"{name}__in": batch}).update(**{name: None})
    deleted = model._base_manager.filter(pk__in=batch)._raw_delete(scope.db)
    return bounds["high"], {model._meta.label: deleted}
