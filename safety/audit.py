"""The audit log's one writer: every moderation and admin act goes through record()."""

from safety.models import AuditEntry


def actor_label(actor):
    if actor is None:
        return "system"
    handle = getattr(actor, "handle", "") or ""
    return f"@{handle}" if handle else getattr(actor, "username", str(actor))


def record(*, actor, action, target_kind="", target_id="", snapshot=None, reason="", **details):
    """One row: who (None is the system), what, a snapshot of the target as it was, why."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor)[:100],
        action=action,
        target_kind=target_kind,
        target_id=str(target_id or "")[:40],
        target_snapshot=snapshot or {},
        reason=reason or "",
        details=details,
    )
