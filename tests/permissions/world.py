"""The principals of the permission matrix and the world they act in.

Built once for the whole package and committed (the Daphne process must see it): one
live broadcast under test, its broadcaster, and one user of each kind, each with a
session made while their account still worked. Every principal's relation to the
broadcast is made the way the product makes it, through the services.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.adapters import REFUSED_SIGN_IN_KEY
from accounts.models import RefusedXAccount
from broadcast import thumbnails
from broadcast.models import Broadcast, XPost
from chat import services as chat
from chat.models import ChatBan, ChatEvent, ChatMessage, FilterWord, ModerationAction, Moderator
from safety.appeals import file_appeal
from safety.bans import ban_account
from safety.models import AuditEntry, Report
from safety.restrictions import restrict
from tests.factories import BroadcastFactory, ChatMessageFactory, UserFactory, chat_room_of
from tests.support import years_ago

MODERATORS_MIGRATION = import_module("safety.migrations.0002_moderators_group")

PRINCIPALS = (
    "anonymous",  # no session
    "signed_in",  # an adult with no role anywhere
    "teen",  # 15: may chat, may not go live
    "chat_banned",  # banned from the broadcaster's chats (chat.services.ban_user)
    "timed_out",  # timed out of them for an hour (chat.services.timeout_user)
    "site_banned",  # banned site-wide (safety.bans.ban_account), then refused at sign-in
    "restricted",  # restricted from going live (safety.restrictions.restrict)
    "moderator",  # a chat moderator the broadcaster appointed (chat.services.add_moderator)
    "broadcaster",  # the owner of the broadcast under test
    "mod_staff",  # staff in the "Moderators" group (safety migration 0002)
    "superuser",
)
# A ban signs the account out everywhere: its old session reads as nobody's.
SIGNED_OUT = ("anonymous", "site_banned")
STAFF = ("mod_staff", "superuser")
# Who moderates the broadcast's chat: appointed, owner, and staff (who moderate every room).
CHAT_MODERATORS = ("moderator", "broadcaster", *STAFF)
ADULT = date(1990, 5, 17)

# A JPEG as far as the thumbnail views care: they serve the stored bytes as they are.
PICTURE = b"\xff\xd8\xff\xe0 permission matrix \xff\xd9"


def adult(handle, **fields):
    return UserFactory(username=handle, handle=handle, birth_date=ADULT, **fields)


def session_of(user):
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def remember_refused_sign_in(session_key, user):
    """What accounts.adapters stores when X identifies a banned account at sign-in: the
    same browser may then read that account's notices and appeal."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    store[REFUSED_SIGN_IN_KEY] = {"why": RefusedXAccount.Why.BANNED, "user_id": user.pk}
    store.save()


def show_pictures(*broadcasts):
    """A fresh live picture for each broadcast (pictures live three periods only)."""
    store = thumbnails.get_store()
    for broadcast in broadcasts:
        store.put(
            broadcast.slug,
            thumbnails.Thumbnail(PICTURE, thumbnails.CONTENT_TYPE, timezone.now(), 32, 18),
        )


@dataclass
class World:
    users: dict  # principal -> User (None for anonymous)
    sessions: dict  # principal -> session key (None for anonymous)
    broadcast: object  # live, owned by the broadcaster; the broadcast under test
    elsewhere: object  # another broadcaster's live broadcast, its picture kept off cards
    message: object  # a visible message in the broadcast's chat
    broadcast_report: object  # open, with its evidence picture
    message_report: object  # open
    notices: dict  # principal -> the notice they were given (restricted, site_banned)
    appeal: object  # pending, on a notice a third moderator issued
    own_appeal: object  # pending, on a notice the Moderators-group principal issued
    reader: object  # an adult who wrote the reported message; the target of blocks
    admin_objects: dict = field(default_factory=dict)  # "app.model" -> primary key
    _client: Client = field(default_factory=Client)  # its handler is costly to make

    def user(self, principal):
        return self.users[principal]

    def client(self, principal):
        """The test client, carrying only the principal's session cookie (whatever an
        earlier request set, a sign-out included)."""
        self._client.cookies.clear()
        if self.sessions[principal]:
            self._client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[principal]
        return self._client

    def cookie(self, principal):
        key = self.sessions[principal]
        return f"{settings.SESSION_COOKIE_NAME}={key}" if key else None


def build_world():
    # Counters of an earlier run (Redis keeps them between runs) must not refuse this
    # run's requests: a data download a minute ago, reports from the same address.
    cache.clear()
    MODERATORS_MIGRATION.create_moderators_group(apps, None)
    moderators = Group.objects.get(name=MODERATORS_MIGRATION.GROUP)

    owner = adult("host")
    users = {
        "anonymous": None,
        "signed_in": adult("plain"),
        "teen": UserFactory(username="teen", handle="teen", birth_date=years_ago(15)),
        "chat_banned": adult("chatbanned"),
        "timed_out": adult("timedout"),
        "site_banned": adult("sitebanned"),
        "restricted": adult("restricted"),
        "moderator": adult("chatmod"),
        "broadcaster": owner,
        "mod_staff": adult("deskmod", is_staff=True),
        "superuser": adult("root", is_staff=True, is_superuser=True),
    }
    users["mod_staff"].groups.add(moderators)
    colleague = adult("colleague", is_staff=True)
    colleague.groups.add(moderators)

    broadcast = BroadcastFactory(owner=owner, live=True, tell_followers=False)
    elsewhere = BroadcastFactory(
        owner=adult("elsewhere"), live=True, tell_followers=False, show_picture=False
    )
    # No media flows in these tests: the publisher's lease runs past them, or the sweep
    # would end the broadcasts once BROADCAST_IDLE_TIMEOUT passed without any.
    Broadcast.objects.filter(pk__in=[broadcast.pk, elsewhere.pk]).update(
        last_media_at=timezone.now() + timedelta(hours=1)
    )
    chat.add_moderator(broadcast=broadcast, user=users["moderator"], by=owner)
    chat.ban_user(broadcast=broadcast, target=users["chat_banned"], by=owner, reason="spam")
    chat.timeout_user(
        broadcast=broadcast, target=users["timed_out"], seconds=3600, by=owner, reason="caps"
    )
    # Sessions first: the ban below must end one that worked.
    sessions = {name: user and session_of(user) for name, user in users.items()}
    notices = {
        "restricted": restrict(
            user=users["restricted"], by=users["superuser"], reason="Streamed a crime."
        ).notices.get(),
        "site_banned": ban_account(
            user=users["site_banned"], by=users["superuser"], reason="Threats in chat."
        ),
    }
    remember_refused_sign_in(sessions["site_banned"], users["site_banned"])

    reader = adult("reader")
    room = chat_room_of(broadcast)
    message = ChatMessageFactory(room=room, author=reader, text="a message to report")
    broadcast_report = Report.objects.create(
        target_kind=Report.Target.BROADCAST,
        target_key=f"b:{broadcast.pk}",
        broadcast=broadcast,
        target_user=owner,
        reporter=reader,
        reporter_key=f"u:{reader.pk}",
        reason="crime",
        urgent=True,
        snapshot={"broadcast": {"title": broadcast.title, "owner_handle": owner.handle}},
        thumbnail=PICTURE,
        thumbnail_type=thumbnails.CONTENT_TYPE,
    )
    message_report = Report.objects.create(
        target_kind=Report.Target.MESSAGE,
        target_key=f"m:{message.pk}",
        broadcast=broadcast,
        message=message,
        target_user=reader,
        reporter=owner,
        reporter_key=f"u:{owner.pk}",
        reason="harassment",
        snapshot={"message": {"text": message.text, "author_handle": reader.handle}},
    )
    appeals = {}
    for name, issuer in (("offender", colleague), ("repeat", users["mod_staff"])):
        offender = adult(name)
        offence = restrict(user=offender, by=issuer, reason="Spam in the title.")
        appeals[name] = file_appeal(notice=offence.notices.get(), user=offender, text="A joke.")
    world = World(
        users=users,
        sessions=sessions,
        broadcast=broadcast,
        elsewhere=elsewhere,
        message=message,
        broadcast_report=broadcast_report,
        message_report=message_report,
        notices=notices,
        appeal=appeals["offender"],
        own_appeal=appeals["repeat"],
        reader=reader,
    )
    world.admin_objects = _admin_objects(world, moderators)
    return world


def _admin_objects(world, moderators):
    """One row of every model in the admin, for its change, delete and history pages."""
    owner, plain = world.user("broadcaster"), world.user("signed_in")
    app = SocialApp.objects.create(provider="twitter_oauth2", name="X", client_id="matrix")
    account = SocialAccount.objects.create(user=plain, provider="twitter_oauth2", uid=plain.x_id)
    rows = {
        "auth.group": moderators,
        "sites.site": Site.objects.get_current(),
        "account.emailaddress": EmailAddress.objects.create(
            user=plain, email="plain@example.com", verified=True, primary=True
        ),
        "socialaccount.socialapp": app,
        "socialaccount.socialaccount": account,
        "socialaccount.socialtoken": SocialToken.objects.create(
            app=app, account=account, token="secret"
        ),
        "accounts.user": plain,
        "accounts.refusedxaccount": RefusedXAccount.objects.first(),
        "broadcast.broadcast": world.broadcast,
        "broadcast.xpost": XPost.objects.create(
            purpose="go_live",
            source_key=str(world.broadcast.pk),
            idempotency_key=f"matrix-{world.broadcast.slug}",
            user=owner,
            broadcast=world.broadcast,
            text="I am live",
        ),
        "chat.chatmessage": world.message,
        "chat.chatroom": world.message.room,
        "chat.chatevent": ChatEvent.objects.filter(room=world.message.room).first(),
        "chat.moderator": Moderator.objects.get(user=world.user("moderator")),
        "chat.chatban": ChatBan.objects.filter(user=world.user("chat_banned")).first(),
        "chat.filterword": FilterWord.objects.create(
            broadcaster=owner, phrase="matrix-filter", created_by=owner
        ),
        "chat.moderationaction": ModerationAction.objects.first(),
        "safety.auditentry": AuditEntry.objects.first(),
        "safety.report": world.broadcast_report,
        "safety.restriction": world.notices["restricted"].restriction,
        "safety.notice": world.notices["restricted"],
        "safety.appeal": world.appeal,
    }
    missing = [label for label, row in rows.items() if row is None]
    assert not missing, f"no row to open in the admin for {missing}"
    return {label: str(row.pk) for label, row in rows.items()}


def bystander():
    """A fresh adult for an act that changes them (timed out, banned, appointed)."""
    return UserFactory(birth_date=ADULT)


def fresh_message(broadcast, *, held=False):
    """A message in the broadcast's chat by a fresh author: visible (with its event), or
    held for review as a matching filter word holds it."""
    room = chat_room_of(broadcast)
    if not held:
        return ChatMessageFactory(room=room)
    return ChatMessage.objects.create(
        room=room,
        author=bystander(),
        text="held for review",
        status=ChatMessage.Status.HELD,
        held_reason="matched filter: review",
    )
