"""Sign-in pages around allauth's X flow: sign-in, birth date, refusal, denied consent,
profile, reconnect. Thin: the rules live in selectors/services and the adapter."""

from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.adapters import CONFIRMED_AGE_KEY, PENDING_SIGNUP_KEY, REFUSED_SIGN_IN_KEY
from accounts.forms import BirthDateForm
from accounts.models import RefusedXAccount
from safety.notices import not_live_until
from safety.selectors import active_restriction


def sign_in(request):
    """The only sign-in page for users: one button, "Sign in with X"."""
    next_url = request.GET.get("next", "")
    if request.user.is_authenticated:
        return redirect("home")
    return render(
        request,
        "accounts/sign_in.html",
        {"next": next_url, "reconnect": request.GET.get("reconnect") == "1"},
    )


def local_signup_closed(request):
    return redirect("account_login")


def _pending_signup(request):
    data = request.session.get(PENDING_SIGNUP_KEY)
    if not data:
        return None
    try:
        return SocialLogin.deserialize(data)
    except (ValueError, KeyError, TypeError):
        return None


def _as_not_yet_looked_up(sociallogin):
    """allauth completes a login from scratch: a stashed login of an existing account
    carries the rows its first lookup found; allauth looks them up again."""
    for instance in (sociallogin.user, sociallogin.account, sociallogin.token):
        if instance is not None and instance.pk is not None:
            instance.pk = None
    return sociallogin


@require_http_methods(["GET", "POST"])
def confirm_age(request):
    """First sign-in only: the birth date decides whether an account is made at all."""
    sociallogin = _pending_signup(request)
    if sociallogin is None:
        return redirect("account_login")
    x_id = sociallogin.account.uid
    form = BirthDateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        birth_date = form.cleaned_data["birth_date"]
        request.session.pop(PENDING_SIGNUP_KEY, None)
        if selectors.age_on(birth_date=birth_date) < selectors.MIN_AGE_TO_CHAT:
            services.refuse_x_account(x_id=x_id, existing_user=sociallogin.user)
            request.session[REFUSED_SIGN_IN_KEY] = {"why": RefusedXAccount.Why.AGE}
            return redirect("accounts:refused")
        request.session[CONFIRMED_AGE_KEY] = {"x_id": x_id, "birth_date": birth_date.isoformat()}
        return complete_social_login(request, _as_not_yet_looked_up(sociallogin))
    extra = sociallogin.account.extra_data or {}
    return render(
        request,
        "accounts/confirm_age.html",
        {"form": form, "x_handle": extra.get("username", ""), "x_name": extra.get("name", "")},
    )


def refused(request):
    """Age or ban: each says only what that person needs to know."""
    refusal = request.session.get(REFUSED_SIGN_IN_KEY) or {}
    banned = refusal.get("why") == RefusedXAccount.Why.BANNED
    return render(
        request,
        "accounts/refused.html",
        {"banned": banned, "can_appeal": banned and refusal.get("user_id") is not None},
        status=403,
    )


def consent_denied(request):
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "accounts/consent_denied.html")


@login_required
@never_cache
def profile(request):
    user = request.user
    restriction = active_restriction(user)
    return render(
        request,
        "accounts/profile.html",
        {
            "can_chat": selectors.can_chat(user),
            "can_broadcast": selectors.can_broadcast(user),
            "x_connected": selectors.x_social_token(user=user) is not None,
            "not_live_until": restriction and not_live_until(restriction.until),
        },
    )


@login_required
def reconnect_x(request):
    """Asked when X refused the stored token: signing in with X again renews it."""
    return render(
        request, "accounts/sign_in.html", {"next": request.GET.get("next", ""), "reconnect": True}
    )
