"""The user's side of moderation: their notices (the rule broken, what was done, until
when) and the one appeal each may get. A banned user cannot sign in, yet may read the
decision and appeal it: their refused sign-in with X (accounts.adapters) recorded who X
said they are, and that is who these pages serve them as, while the ban lasts."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.adapters import REFUSED_SIGN_IN_KEY
from accounts.models import RefusedXAccount
from safety import selectors
from safety.appeals import MAX_APPEAL_CHARS, AppealRefused, file_appeal
from safety.bans import is_banned
from safety.models import Notice, Reason
from safety.notices import mark_notices_read, not_live_until

# Each rule in plain words, as the notice states it.
RULES_IN_PLAIN_WORDS = {
    Reason.CHILD_SAFETY: gettext_lazy(
        "Never put a child at risk: nothing that sexualises, endangers or exploits anyone "
        "under 18, and no contact with minors that a parent would object to."
    ),
    Reason.CRIME: gettext_lazy("Never show, carry out or encourage violence or a crime."),
    Reason.SELF_HARM: gettext_lazy("Never show or encourage self-harm or suicide."),
    Reason.SEXUAL: gettext_lazy("No nudity and no sexual content."),
    Reason.HARASSMENT: gettext_lazy("No harassment, no threats and no hate against anyone."),
    Reason.PRIVACY: gettext_lazy(
        "No one's private information, and no filming of people without their consent."
    ),
    Reason.IMPERSONATION: gettext_lazy("Do not pretend to be someone else."),
    Reason.COPYRIGHT: gettext_lazy("Do not broadcast what you have no right to share."),
    Reason.SPAM: gettext_lazy("No spam, no scams and no misleading links."),
    Reason.OTHER: gettext_lazy("The community rules: the moderator's note says which."),
}

# What was done, as one sentence (the notice's title is the short form).
WHAT_WAS_DONE = {
    Notice.Action.TAKEDOWN: gettext_lazy(
        "Your broadcast was ended for every viewer and removed from OnAir."
    ),
    Notice.Action.RESTRICTION: gettext_lazy("Your account may not go live for a while."),
    Notice.Action.BAN: gettext_lazy(
        "Your account was banned from OnAir: you cannot sign in, chat or go live, and this "
        "X account cannot be used to make a new account."
    ),
    Notice.Action.MESSAGE_REMOVED: gettext_lazy(
        "Your chat message was removed from the chat for everyone."
    ),
}


def _reader(request):
    """Whose notices this request may read: the signed-in user, or the banned user that
    X identified at a refused sign-in (only while the ban lasts)."""
    if request.user.is_authenticated:
        return request.user
    refusal = request.session.get(REFUSED_SIGN_IN_KEY) or {}
    if refusal.get("why") != RefusedXAccount.Why.BANNED or not refusal.get("user_id"):
        return None
    user = get_user_model().objects.filter(pk=refusal["user_id"]).first()
    return user if user is not None and is_banned(user) else None


def _page(request, reader, *, errors=None, drafts=None, status=200):
    rows = list(selectors.notices_of(reader))
    now = timezone.now()
    for notice in rows:
        restriction = notice.restriction
        if restriction is not None:
            notice.restriction_in_force = restriction.lifted_at is None and restriction.until > now
            notice.not_live_until = not_live_until(restriction.until)
        notice.rule_in_words = RULES_IN_PLAIN_WORDS.get(notice.rule, "")
        notice.what_was_done = WHAT_WAS_DONE.get(notice.action, "")
        notice.appeal_or_none = getattr(notice, "appeal", None)
        notice.is_new = notice.read_at is None
        notice.error = (errors or {}).get(notice.pk)
        notice.draft = (drafts or {}).get(notice.pk, "")
    mark_notices_read(user=reader)
    return render(
        request,
        "safety/notices.html",
        {
            "notices": rows,
            "reader": reader,
            "signed_out_reader": not request.user.is_authenticated,
            "max_appeal": MAX_APPEAL_CHARS,
        },
        status=status,
    )


@never_cache
def notices(request):
    reader = _reader(request)
    if reader is None:
        return redirect_to_login(request.get_full_path())
    return _page(request, reader)


@require_POST
def appeal(request, notice_id):
    reader = _reader(request)
    if reader is None:
        return redirect_to_login(reverse("safety:notices"))
    notice = get_object_or_404(Notice, pk=notice_id, user_id=reader.pk)
    text = request.POST.get("text", "")
    try:
        file_appeal(notice=notice, user=reader, text=text)
    except AppealRefused as refusal:
        return _page(
            request,
            reader,
            errors={notice.pk: refusal.message},
            drafts={notice.pk: text[: MAX_APPEAL_CHARS * 2]},
            status=400,
        )
    messages.success(
        request,
        _(
            "Your appeal was sent. A moderator other than the one who decided will read it, "
            "and the outcome will show here."
        ),
    )
    return redirect(f"{reverse('safety:notices')}#notice-{notice.pk}")
