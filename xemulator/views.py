"""Pages for people: the consent page of /i/oauth2/authorize, the users and timelines."""

import hashlib
from datetime import UTC, datetime, time
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from xemulator import oauth, selectors, services
from xemulator.models import XUser

SCOPE_LABELS = {
    "tweet.read": gettext_lazy("Read posts you can see"),
    "tweet.write": gettext_lazy("Post and delete posts for you"),
    "users.read": gettext_lazy("Read your profile"),
    "offline.access": gettext_lazy("Stay connected until you revoke access"),
}


class ConsentForm(forms.Form):
    user_id = forms.CharField(required=False)
    username = forms.RegexField(
        regex=services.USERNAME_RE,
        required=False,
        max_length=15,
        label=gettext_lazy("Handle"),
        error_messages={"invalid": gettext_lazy("1 to 15 letters, digits or underscores.")},
    )
    name = forms.CharField(required=False, max_length=50, label=gettext_lazy("Display name"))
    created_on = forms.DateField(
        required=False,
        label=gettext_lazy("Account created on (optional)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("user_id") and not data.get("username"):
            raise ValidationError(_("Type a handle, or pick an existing test user."))
        if data.get("user_id") and not XUser.objects.filter(pk=data["user_id"]).exists():
            raise ValidationError(_("That test user no longer exists."))
        return data

    def user(self):
        data = self.cleaned_data
        if data.get("user_id"):
            return XUser.objects.get(pk=data["user_id"])
        created_at = None
        if data.get("created_on"):
            created_at = datetime.combine(data["created_on"], time(12), tzinfo=UTC)
        user, _created = services.get_or_create_user(
            username=data["username"], name=data.get("name"), created_at=created_at
        )
        return user


@require_http_methods(["GET", "POST"])
def authorize(request):
    params = request.GET if request.method == "GET" else request.POST
    try:
        auth = oauth.parse_authorize_request(params)
    except oauth.FatalAuthorizeError as exc:
        return render(request, "xemulator/error.html", {"message": str(exc)}, status=400)
    except oauth.RedirectAuthorizeError as exc:
        return HttpResponseRedirect(exc.url)

    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.POST.get("action") == "deny":
            return HttpResponseRedirect(
                oauth.redirect_with(auth.redirect_uri, error="access_denied", state=auth.state)
            )
        if form.is_valid():
            code = services.issue_authorization_code(
                user=form.user(),
                client_id=auth.client_id,
                redirect_uri=auth.redirect_uri,
                scope=auth.scope,
                code_challenge=auth.code_challenge,
            )
            return HttpResponseRedirect(
                oauth.redirect_with(auth.redirect_uri, state=auth.state, code=code)
            )
    scopes = [SCOPE_LABELS.get(scope, scope) for scope in auth.scope.split()]
    response = render(
        request,
        "xemulator/authorize.html",
        {
            "auth": auth,
            "form": form,
            "scopes": scopes,
            "users": XUser.objects.order_by("-created_at")[:20],
        },
        status=400 if form.errors else 200,
    )
    # The consent form's answer redirects to the app: CSP form-action must allow it.
    redirect = urlsplit(auth.redirect_uri)
    response._csp_update = {"form-action": [f"{redirect.scheme}://{redirect.netloc}"]}
    return response


@require_GET
def index(request):
    return render(request, "xemulator/index.html", {"users": selectors.users_with_post_counts()})


@require_GET
def timeline(request, username):
    user = selectors.user_by_username(username)
    if user is None:
        raise Http404
    return render(
        request,
        "xemulator/timeline.html",
        {"profile": user, "posts": selectors.all_posts(user=user)[:200]},
    )


@require_GET
def status(request, username, post_id):
    user = selectors.user_by_username(username)
    post = user and selectors.all_posts(user=user).filter(pk=post_id).first()
    if post is None:
        raise Http404
    return render(request, "xemulator/timeline.html", {"profile": user, "posts": [post]})


AVATAR_COLORS = ["#e0245e", "#1d9bf0", "#17803d", "#a15c00", "#794bc4", "#0f1419"]


@require_GET
def avatar(request, user_id):
    user = selectors.user_by_id(user_id)
    if user is None:
        raise Http404
    color = AVATAR_COLORS[int(hashlib.sha256(user.pk.encode()).hexdigest(), 16) % 6]
    initial = escape(user.username[:1].upper())
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" rx="48" fill="{color}"/>'
        '<text x="48" y="62" font-family="sans-serif" font-size="44" font-weight="700" '
        f'fill="#fff" text-anchor="middle">{initial}</text></svg>'
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=3600"
    return response
