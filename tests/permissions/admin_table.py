"""The table for the admin: the moderation desk's own pages and actions, the admin's
site pages, and, model by model, who may list, add, change and delete.

Everyone who is not staff is sent to the admin's sign-in from every admin page. For each
model the table names who among staff may do what; the expected outcome of each of its
pages follows Django's rules (a list, a change page or a history needs view or change; a
change posted needs change; an add page add; a delete page delete).
"""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType

from accounts.models import User
from broadcast.models import Broadcast
from chat.models import ChatMessage
from safety.bans import is_banned
from safety.models import Appeal, AuditEntry, Report, Restriction
from tests.permissions.outcomes import (
    ADMIN_LOGIN,
    DONE,
    FORBIDDEN,
    NOT_FOUND,
    OK,
    REACHED,
    SHOWN_AGAIN,
    Http,
    each,
    redirect,
    staff_only,
)
from tests.permissions.pages_table import broadcast_ended
from tests.permissions.routes import EMULATOR_MODELS
from tests.permissions.world import STAFF

WALL = "/admin/safety/report/live/"
APPEALS = "/admin/safety/appeal/"
NOBODY = ()
SUPERUSER = ("superuser",)
DESK = STAFF  # the Moderators group, and the superuser

# Who among staff may view, add, change and delete each model in the admin: the
# Moderators group (safety migration 0002) gets the desk and nothing else.
ADMIN_MODELS = {
    # Never for moderators: people's groups, the site, e-mail addresses, X's apps and tokens.
    "auth.group": dict(view=SUPERUSER, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER),
    "sites.site": dict(view=SUPERUSER, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER),
    "account.emailaddress": dict(view=SUPERUSER, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER),
    "socialaccount.socialapp": dict(
        view=SUPERUSER, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER
    ),
    "socialaccount.socialaccount": dict(
        view=SUPERUSER, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER
    ),
    "socialaccount.socialtoken": dict(
        view=SUPERUSER, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER
    ),
    # Moderators see people, never change them.
    "accounts.user": dict(view=DESK, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER),
    # The sign-in deny-list: no one adds by hand (a ban or an age refusal does).
    "accounts.refusedxaccount": dict(
        view=SUPERUSER, add=NOBODY, change=SUPERUSER, delete=SUPERUSER
    ),
    # Broadcasts end through the desk's takedown, not by editing them, and go through the
    # purge or their owner's account deletion (which keep what a legal hold holds).
    "broadcast.broadcast": dict(view=DESK, add=SUPERUSER, change=SUPERUSER, delete=NOBODY),
    "broadcast.xpost": dict(view=DESK, add=NOBODY, change=NOBODY, delete=NOBODY),
    "chat.chatmessage": dict(view=DESK, add=NOBODY, change=DESK, delete=NOBODY),
    "chat.chatroom": dict(view=DESK, add=NOBODY, change=DESK, delete=SUPERUSER),
    "chat.chatevent": dict(view=DESK, add=NOBODY, change=NOBODY, delete=NOBODY),
    # Read at the desk; they change in the chat, which tells the room and audits it.
    "chat.moderator": dict(view=DESK, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER),
    "chat.chatban": dict(view=DESK, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER),
    "chat.filterword": dict(view=DESK, add=DESK, change=DESK, delete=DESK),
    "chat.moderationaction": dict(view=DESK, add=NOBODY, change=NOBODY, delete=NOBODY),
    # The desk's records are written by its services only.
    "safety.report": dict(view=DESK, add=NOBODY, change=NOBODY, delete=NOBODY),
    "safety.auditentry": dict(view=DESK, add=NOBODY, change=NOBODY, delete=NOBODY),
    # A restriction is added, then lifted (an action) or runs out: never edited.
    "safety.restriction": dict(view=DESK, add=DESK, change=NOBODY, delete=NOBODY),
    "safety.notice": dict(view=DESK, add=NOBODY, change=NOBODY, delete=NOBODY),
    "safety.appeal": dict(view=DESK, add=NOBODY, change=DESK, delete=NOBODY),
}


def registered_models():
    """Every model in the admin but the X emulator's (routes.EXCLUDED says why)."""
    return {model._meta.label_lower for model in admin.site._registry} - set(EMULATOR_MODELS)


def _staff_may(who, allowed_outcome, denied_outcome=FORBIDDEN):
    return each(ADMIN_LOGIN, **{p: allowed_outcome if p in who else denied_outcome for p in STAFF})


def model_rows(label, may):
    """The pages of one model's admin, with the outcomes Django's rules give."""
    app, model = label.split(".")
    name = f"admin:{app}_{model}"
    see = set(may["view"]) | set(may["change"])

    def obj(world):
        return {"object_id": world.admin_objects[label]}

    return [
        Http(f"{label} list", f"{name}_changelist", _staff_may(see, OK)),
        Http(f"{label} add page", f"{name}_add", _staff_may(may["add"], OK)),
        Http(f"{label} change page", f"{name}_change", _staff_may(see, OK), args=obj),
        Http(
            f"{label} change posted",
            f"{name}_change",
            _staff_may(may["change"], REACHED),
            method="POST",
            args=obj,
        ),
        Http(f"{label} delete page", f"{name}_delete", _staff_may(may["delete"], OK), args=obj),
        Http(f"{label} history", f"{name}_history", _staff_may(see, OK), args=obj),
        Http(
            f"{label} object link",
            f"admin/{app}/{model}/<path:object_id>/",
            staff_only(
                redirect(lambda world: f"/admin/{app}/{model}/{world.admin_objects[label]}/change/")
            ),
            path=lambda world: f"/admin/{app}/{model}/{world.admin_objects[label]}/",
        ),
    ]


def app_rows(models):
    """An app's index: shown to whoever may see one of its models, else not found."""
    rows = []
    for app in sorted({label.split(".")[0] for label in models}):
        may_see = {
            principal
            for label in models
            if label.startswith(f"{app}.")
            for principal in (*ADMIN_MODELS[label]["view"], *ADMIN_MODELS[label]["change"])
        }
        rows.append(
            Http(
                f"admin app index {app}",
                "admin:app_list",
                _staff_may(may_see, OK, NOT_FOUND),
                args=lambda world, app=app: {"app_label": app},
            )
        )
    return rows


def _action(label, action, picked, expect, effect=None, **form):
    """An admin action posted from `label`'s list on the rows `picked` (world -> a row)."""
    app, model = label.split(".")

    def body(world, principal):
        return {"action": action, "_selected_action": [picked(world).pk], **form}

    return Http(
        f"{label} action {action}",
        f"admin:{app}_{model}_changelist",
        expect,
        method="POST",
        data=body,
        effect=effect,
    )


def _report_state(attribute, state):
    return lambda world, principal: (
        Report.objects.get(pk=getattr(world, attribute).pk).state == state
    )


def _owner_restricted(world, principal):
    return Restriction.objects.filter(user=world.broadcast.owner).exists()


def _owner_banned(world, principal):
    return is_banned(User.objects.get(pk=world.broadcast.owner_id))


def _message_removed(world, principal):
    return ChatMessage.objects.get(pk=world.message.pk).status == ChatMessage.Status.DELETED


def _restriction_lifted(world, principal):
    return (
        Restriction.objects.get(pk=world.notices["restricted"].restriction_id).lifted_at is not None
    )


def _decided(appeal):
    return lambda world, principal: (
        Appeal.objects.get(pk=getattr(world, appeal).pk).state != Appeal.State.PENDING
    )


def _decide(label, appeal, expect):
    return Http(
        label,
        "admin:safety_appeal_change",
        expect,
        method="POST",
        args=lambda world: {"object_id": getattr(world, appeal).pk},
        data=lambda world, principal: {"decision": "reject", "note": "The rule was broken."},
        effect=_decided(appeal),
    )


ACT = {"apply": "1", "rule": "crime", "reason": "Streamed a crime.", "days": "30"}


def _broadcast_report(world):
    return world.broadcast_report


def _message_report(world):
    return world.message_report


DESK_ROWS = [
    Http("live wall", "admin:safety_live", staff_only(OK)),
    Http(
        "take down from the live wall",
        "admin:safety_live_take_down",
        staff_only(redirect(WALL)),
        method="POST",
        args=lambda world: {"slug": world.broadcast.slug},
        data=lambda world, principal: {
            f"{world.broadcast.slug}-{name}": value for name, value in ACT.items()
        },
        effect=broadcast_ended,
    ),
    Http("staff alert count", "admin:safety_alerts", staff_only(OK)),
    Http(
        "a report's evidence picture",
        "admin:safety_report_thumbnail",
        staff_only(OK),
        args=lambda world: {"report_id": world.broadcast_report.pk},
    ),
    Http("audit log as CSV", "admin:safety_auditentry_export", staff_only(OK)),
    _action(
        "safety.report",
        "dismiss",
        _broadcast_report,
        staff_only(DONE),
        _report_state("broadcast_report", Report.State.DISMISSED),
        apply="1",
        note="Not a crime.",
    ),
    _action(
        "safety.report",
        "remove_messages",
        _message_report,
        staff_only(DONE),
        _message_removed,
        apply="1",
    ),
    _action(
        "safety.report", "take_down", _broadcast_report, staff_only(DONE), broadcast_ended, **ACT
    ),
    _action(
        "safety.report",
        "restrict_users",
        _broadcast_report,
        staff_only(DONE),
        _owner_restricted,
        **ACT,
    ),
    _action(
        "safety.report",
        "ban_users",
        _broadcast_report,
        staff_only(DONE),
        _owner_banned,
        **ACT,
        confirm="on",
    ),
    _action(
        "safety.auditentry",
        "export_selected",
        lambda world: AuditEntry.objects.first(),
        staff_only(OK),
    ),
    _action(
        "safety.restriction",
        "lift",
        lambda world: world.notices["restricted"].restriction,
        staff_only(DONE),
        _restriction_lifted,
    ),
    _decide("decide an appeal", "appeal", staff_only(redirect(APPEALS))),
    # An appeal is decided by a moderator other than the one who decided first.
    _decide(
        "decide an appeal against one's own decision",
        "own_appeal",
        each(ADMIN_LOGIN, mod_staff=SHOWN_AGAIN, superuser=redirect(APPEALS)),
    ),
    # Moderators take broadcasts down at the desk; the list's bulk end is not theirs.
    _action(
        "broadcast.broadcast",
        "end_now",
        lambda world: world.broadcast,
        each(ADMIN_LOGIN, mod_staff=SHOWN_AGAIN, superuser=DONE),
        broadcast_ended,
    ),
]


def _broadcast_link(world):
    content_type = ContentType.objects.get_for_model(Broadcast)
    return {"content_type_id": content_type.pk, "object_id": world.broadcast.pk}


SITE_ROWS = [
    Http("admin index", "admin:index", staff_only(OK)),
    Http(
        "admin sign-in page",
        "admin:login",
        each(OK, **dict.fromkeys(STAFF, redirect("/admin/"))),
    ),
    # Not staff: the admin has nothing to sign out of, and shows its sign-in.
    Http(
        "admin sign-out",
        "admin:logout",
        each(redirect("/admin/", allowed=False), **dict.fromkeys(STAFF, redirect("/"))),
        method="POST",
    ),
    Http("admin password change", "admin:password_change", staff_only(OK)),
    Http("admin password changed", "admin:password_change_done", staff_only(OK)),
    Http("admin translations", "admin:jsi18n", staff_only(OK)),
    Http(
        "pick a user to restrict",
        "admin:autocomplete",
        staff_only(OK),
        query={"app_label": "safety", "model_name": "restriction", "field_name": "user"},
    ),
    Http(
        "view on site",
        "admin:view_on_site",
        staff_only(redirect(lambda world: world.broadcast.get_absolute_url())),
        args=_broadcast_link,
    ),
    Http(
        "set a user's password",
        "admin:auth_user_password_change",
        _staff_may(SUPERUSER, OK),
        args=lambda world: {"id": world.admin_objects["accounts.user"]},
    ),
    Http(
        "an admin page that does not exist",
        "admin/(?P<url>.*)$",
        _staff_may(STAFF, NOT_FOUND),
        path=lambda world: "/admin/no-such-page/",
    ),
]


def admin_rows():
    models = sorted(registered_models())
    rows = [row for label in models for row in model_rows(label, ADMIN_MODELS[label])]
    return DESK_ROWS + SITE_ROWS + app_rows(models) + rows
