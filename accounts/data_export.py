"""Everything OnAir holds about one user, as one JSON document ("Download my data").

Chat messages are read in pages (a long history never loads its related rows at once);
retention bounds how many there can be. Never in it: tokens, other people's blocks of this
user (a block is private to whoever made it), and who reported them: reports against
the user are given as a count per reason only, because each report names its reporter.
"""

import json

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import Block
from broadcast.models import Broadcast, XPost
from chat.models import ChatBan, ChatMessage, FilterWord, Moderator
from safety.models import Notice, Report, Restriction

FORMAT = "onair-export-1"
MESSAGE_PAGE = 1000


def _watch_url(slug):
    return settings.PUBLIC_URL + reverse("broadcast:watch", kwargs={"slug": slug})


def _time(value):
    return value.isoformat() if value else None


def export_filename(user):
    return f"onair-data-{user.handle or user.pk}-{timezone.now():%Y%m%d}.json"


def export_data(*, user):
    """The whole document, as a dict ready for JSON."""
    return {
        "format": FORMAT,
        "exported_at": _time(timezone.now()),
        "profile": _profile(user),
        "x_account": _x_account(user),
        "broadcasts": _broadcasts(user),
        "x_posts": _x_posts(user),
        "chat_messages": [message for page in _message_pages(user) for message in page],
        "blocks": _blocks(user),
        "chat_moderation": _chat_moderation(user),
        "restrictions": _restrictions(user),
        "notices": _notices(user),
        "reports_made": _reports_made(user),
        "reports_about_you": _reports_about(user),
    }


def export_json(*, user):
    return json.dumps(export_data(user=user), ensure_ascii=False, indent=1)


def _profile(user):
    return {
        "id": user.pk,
        "username": user.username,
        "x_id": user.x_id,
        "handle": user.handle,
        "display_name": user.display_name,
        "avatar_url": user.avatar_url,
        "x_account_created": _time(user.x_created_at),
        "birth_date": user.birth_date.isoformat() if user.birth_date else None,
        "joined": _time(user.date_joined),
        "last_sign_in": _time(user.last_login),
        "last_live": _time(user.last_live_at),
        "staff": user.is_staff,
    }


def _x_account(user):
    from allauth.socialaccount.models import SocialAccount, SocialToken

    account = SocialAccount.objects.filter(user=user, provider="twitter_oauth2").first()
    if account is None:
        return None
    token = SocialToken.objects.filter(account=account).order_by("-id").first()
    return {
        "x_id": account.uid,
        "profile_from_x": account.extra_data,
        # Whether OnAir can post for you, not the token itself.
        "token_stored": token is not None,
        "token_expires": _time(token.expires_at) if token else None,
    }


def _broadcasts(user):
    return [
        {
            "url": _watch_url(broadcast.slug),
            "title": broadcast.title,
            "visibility": broadcast.visibility,
            "state": broadcast.state,
            "tell_followers": broadcast.tell_followers,
            "show_picture": broadcast.show_picture,
            "created": _time(broadcast.created_at),
            "started": _time(broadcast.started_at),
            "ended": _time(broadcast.ended_at),
            "end_reason": broadcast.end_reason,
            "peak_viewers": broadcast.peak_viewers,
        }
        for broadcast in Broadcast.objects.filter(owner=user).order_by("created_at")
    ]


def _x_posts(user):
    return [
        {
            "purpose": post.purpose,
            "text": post.text,
            "state": post.state,
            "post_url": post.post_url,
            "created": _time(post.created_at),
            "posted": _time(post.posted_at),
            "deletion": post.deletion_state,
            "deleted_from_x": _time(post.deleted_at),
        }
        for post in XPost.objects.filter(user=user).order_by("created_at")
    ]


def _blocks(user):
    return [
        {"handle": block.blocked.handle, "since": _time(block.created_at)}
        for block in Block.objects.filter(blocker=user).select_related("blocked").order_by("pk")
    ]


def _chat_moderation(user):
    return {
        "your_moderators": list(
            Moderator.objects.filter(broadcaster=user).values_list("user__handle", flat=True)
        ),
        "you_moderate_for": list(
            Moderator.objects.filter(user=user).values_list("broadcaster__handle", flat=True)
        ),
        "your_filter_words": list(
            FilterWord.objects.filter(broadcaster=user).values_list("phrase", flat=True)
        ),
        "bans_and_timeouts_you_received": [
            {
                "broadcaster": ban.broadcaster.handle,
                "kind": "timeout" if ban.expires_at else "ban",
                "until": _time(ban.expires_at),
                "reason": ban.reason,
                "since": _time(ban.created_at),
                "lifted": _time(ban.lifted_at),
            }
            for ban in ChatBan.objects.filter(user=user).select_related("broadcaster")
        ],
    }


def _restrictions(user):
    return [
        {
            "until": _time(restriction.until),
            "reason": restriction.reason,
            "rule": restriction.rule,
            "since": _time(restriction.created_at),
            "lifted": _time(restriction.lifted_at),
        }
        for restriction in Restriction.objects.filter(user=user).order_by("created_at")
    ]


def _notices(user):
    notices = []
    for notice in Notice.objects.filter(user=user).select_related("broadcast").order_by("pk"):
        appeal = getattr(notice, "appeal", None)
        notices.append(
            {
                "action": notice.action,
                "rule": notice.rule,
                "explanation": notice.explanation,
                "broadcast": notice.broadcast.title if notice.broadcast else None,
                "sent": _time(notice.created_at),
                "read": _time(notice.read_at),
                "appeal": appeal
                and {
                    "text": appeal.text,
                    "state": appeal.state,
                    "sent": _time(appeal.created_at),
                    "decided": _time(appeal.decided_at),
                    "outcome": appeal.outcome_note,
                },
            }
        )
    return notices


def _reports_made(user):
    return [
        {
            "target": report.target_kind,
            "reason": report.reason,
            "details": report.details,
            "state": report.state,
            "decision": report.decision,
            "sent": _time(report.created_at),
            "closed": _time(report.closed_at),
        }
        for report in Report.objects.filter(reporter=user).order_by("created_at")
    ]


def _reports_about(user):
    rows = (
        Report.objects.filter(target_user=user)
        .order_by()
        .values("reason")
        .annotate(count=Count("pk"))
    )
    by_reason = {row["reason"]: row["count"] for row in rows}
    return {"count": sum(by_reason.values()), "by_reason": by_reason}


def _message_pages(user):
    after = 0
    while True:
        page = list(
            ChatMessage.objects.filter(author=user, pk__gt=after)
            .order_by("pk")
            .values(
                "pk",
                "room__broadcast__slug",
                "room__broadcast__title",
                "text",
                "status",
                "post_to_x",
                "created_at",
                "deleted_at",
            )[:MESSAGE_PAGE]
        )
        if not page:
            return
        after = page[-1]["pk"]
        yield [
            {
                "id": row["pk"],
                "broadcast": row["room__broadcast__title"],
                "broadcast_url": _watch_url(row["room__broadcast__slug"]),
                "text": row["text"],
                "status": row["status"],
                "posted_to_x": row["post_to_x"],
                "sent": _time(row["created_at"]),
                "deleted": _time(row["deleted_at"]),
            }
            for row in page
        ]
