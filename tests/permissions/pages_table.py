"""The table for the site's own pages and JSON APIs: who may open or post what.

Read a row as "everyone gets X, except ...". The principals are in world.PRINCIPALS.
"""

from accounts.models import Block, User
from broadcast.models import Broadcast
from safety.models import Appeal
from tests.permissions.outcomes import (
    CREATED,
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    Http,
    Outcome,
    each,
    redirect,
    refused,
    signed_in_only,
)
from tests.permissions.world import show_pictures

NOTICES = "/safety/notices/"
BLOCKS = "/accounts/blocks/"
HOME = "/"


def _the_broadcast(world):
    return {"slug": world.broadcast.slug}


def _elsewhere(world):
    return {"slug": world.elsewhere.slug}


def _pictures(world, principal):
    show_pictures(world.broadcast, world.elsewhere)


def broadcast_ended(world, principal):
    return Broadcast.objects.get(pk=world.broadcast.pk).state == Broadcast.State.ENDED


def _went_live(world, principal):
    user = world.user(principal)
    return (
        bool(user) and Broadcast.objects.filter(owner=user, state=Broadcast.State.CREATED).exists()
    )


def _notice_of(name):
    return lambda world: {"notice_id": world.notices[name].pk}


def _appealed(name):
    return lambda world, principal: Appeal.objects.filter(notice=world.notices[name]).exists()


def _block_the_reader(world, principal):
    user = world.user(principal)
    if user is not None:
        Block.objects.create(blocker=user, blocked=world.reader)


def _blocked(world, principal):
    user = world.user(principal)
    return bool(user) and Block.objects.filter(blocker=user, blocked=world.reader).exists()


def _unblocked(world, principal):
    user = world.user(principal)
    return bool(user) and not Block.objects.filter(blocker=user).exists()


def _account_deleted(world, principal):
    """The account was emptied (its row waits for X) or is gone."""
    user = world.user(principal)
    return bool(user) and not User.objects.filter(pk=user.pk, username=user.username).exists()


def _report(kind):
    def body(world, principal):
        if kind == "message":
            return {"target": "message", "id": world.message.pk, "reason": "harassment"}
        return {"target": "broadcast", "id": world.broadcast.slug, "reason": "spam"}

    return body


PAGES = [
    # --- open to everyone ---------------------------------------------------------------
    Http("home", "home", each(OK)),
    Http("rules page", "rules", each(OK)),
    Http("privacy page", "privacy", each(OK)),
    Http(
        "switch language",
        "set_language",
        each(redirect(HOME)),
        method="POST",
        data=lambda world, principal: {"language": "en", "next": HOME},
    ),
    Http("watch page", "broadcast:watch", each(OK), args=_the_broadcast),
    Http("pop-out chat", "chat:popout", each(OK), args=_the_broadcast),
    Http(
        "broadcaster's page",
        "broadcast:broadcaster",
        each(OK),
        args=lambda world: {"handle": world.broadcast.owner.handle},
    ),
    Http("broadcast state API", "broadcast:api", each(OK), args=_the_broadcast),
    Http("live listing API", "broadcast:live_api", each(OK)),
    Http(
        "live picture, shown on link cards",
        "broadcast:thumbnail",
        each(OK),
        args=_the_broadcast,
        prepare=_pictures,
    ),
    Http(
        "live picture, kept off link cards",
        "broadcast:thumbnail",
        each(NOT_FOUND, mod_staff=OK, superuser=OK),
        args=_elsewhere,
        prepare=_pictures,
    ),
    Http(
        "report the broadcast",
        "safety:report",
        each(CREATED, broadcaster=refused(400, "self_report")),
        method="POST",
        data=_report("broadcast"),
        as_json=True,
    ),
    Http(
        "report a chat message",
        "safety:report",
        each(CREATED),
        method="POST",
        data=_report("message"),
        as_json=True,
    ),
    # --- signing in (the X flow itself: tests/accounts/test_sign_in_with_x.py) ----------
    Http("sign-in page", "account_login", each(redirect(HOME), anonymous=OK, site_banned=OK)),
    Http("local sign-up, closed", "account_signup", each(LOGIN)),
    Http("birth date, no sign-up pending", "accounts:confirm_age", each(LOGIN)),
    Http("sign-in refused page", "accounts:refused", each(FORBIDDEN)),
    Http(
        "X consent denied page",
        "accounts:consent_denied",
        each(redirect(HOME), anonymous=OK, site_banned=OK),
    ),
    Http(
        "deletion still finishing page",
        "accounts:deletion_pending",
        each(redirect(HOME), anonymous=Outcome(409), site_banned=Outcome(409)),
    ),
    Http("account deleted page, nothing deleted", "accounts:deleted", each(redirect(HOME))),
    Http("sign in with X again", "accounts:reconnect_x", signed_in_only(OK)),
    # --- the broadcaster's own ----------------------------------------------------------
    Http("go-live page", "broadcast:go_live", signed_in_only(OK)),
    Http(
        "go live",
        "broadcast:go_live",
        signed_in_only(
            CREATED, teen=refused(403, "not_allowed"), restricted=refused(403, "restricted")
        ),
        method="POST",
        data=lambda world, principal: {"title": "Matrix", "visibility": "public"},
        effect=_went_live,
    ),
    Http(
        "go-live post status API",
        "x_post_status",
        each(refused(403, "forbidden"), broadcaster=OK),
        args=_the_broadcast,
    ),
    Http(
        "end the broadcast",
        "broadcast:end",
        each(FORBIDDEN, broadcaster=OK),
        method="POST",
        args=_the_broadcast,
        effect=broadcast_ended,
    ),
    # --- notices and appeals (a banned account reads its own after a refused sign-in) ---
    Http("my notices", "safety:notices", each(OK, anonymous=LOGIN)),
    Http(
        "appeal a restriction",
        "safety:appeal",
        each(NOT_FOUND, anonymous=LOGIN, restricted=redirect(NOTICES)),
        method="POST",
        args=_notice_of("restricted"),
        data=lambda world, principal: {"text": "I did not do it."},
        effect=_appealed("restricted"),
    ),
    Http(
        "appeal a ban",
        "safety:appeal",
        each(NOT_FOUND, anonymous=LOGIN, site_banned=redirect(NOTICES)),
        method="POST",
        args=_notice_of("site_banned"),
        data=lambda world, principal: {"text": "I did not do it."},
        effect=_appealed("site_banned"),
    ),
    # --- people protecting themselves ---------------------------------------------------
    Http("profile", "accounts:profile", signed_in_only(OK)),
    Http("my blocks", "accounts:blocks", signed_in_only(OK)),
    Http(
        "block someone",
        "accounts:block",
        signed_in_only(redirect(BLOCKS)),
        method="POST",
        data=lambda world, principal: {"user": world.reader.pk},
        effect=_blocked,
    ),
    Http(
        "unblock someone",
        "accounts:unblock",
        signed_in_only(redirect(BLOCKS)),
        method="POST",
        args=lambda world: {"user_id": world.reader.pk},
        prepare=_block_the_reader,
        effect=_unblocked,
    ),
    Http("delete-account page", "accounts:delete_account", signed_in_only(OK)),
    Http(
        "delete my account",
        "accounts:delete_account",
        signed_in_only(redirect("/accounts/deleted/")),
        method="POST",
        data=lambda world, principal: {"confirm": getattr(world.user(principal), "handle", "")},
        effect=_account_deleted,
    ),
    Http("download my data", "accounts:download_data", signed_in_only(OK), method="POST"),
]
