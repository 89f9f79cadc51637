"""Pages where people protect themselves: their blocks, the deletion of their account,
the download of their data. Thin: the rules are in accounts.blocks,
accounts.self_service and accounts.data_export."""

import math
import time

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import blocks, data_export, self_service
from accounts.views import profile
from onair import page_facts

DELETED_SESSION_KEY = "accounts_deletion_outcome"
EXPORT_EVERY_S = 60
BLOCK_ERRORS = {
    "invalid": (400, gettext_lazy("That request is not valid.")),
    "self": (400, gettext_lazy("You can't block yourself.")),
    "not_found": (404, gettext_lazy("That account no longer exists.")),
    "too_many": (
        409,
        gettext_lazy("You have blocked as many accounts as OnAir keeps. Unblock someone first."),
    ),
}


def _next_or(request, fallback):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


# --- blocks ---------------------------------------------------------------------------
@login_required
@require_GET
@never_cache
def block_list(request):
    return render(
        request,
        "accounts/blocks.html",
        {"blocks": blocks.blocks_of(user=request.user), "max_blocks": blocks.MAX_BLOCKS},
    )


@login_required
@require_POST
def block(request):
    """Block the user whose id is in `user`: JSON for the chat page, a redirect (to
    `next`, if it is ours) for the form on a person's page."""
    try:
        blocked_id = int(request.POST.get("user", ""))
        made = blocks.block_user(blocker=request.user, blocked_id=blocked_id)
    except ValueError:
        return _block_refused(request, "invalid")
    except blocks.BlockRefused as refused:
        return _block_refused(request, refused.code)
    if _wants_json(request):
        return JsonResponse({"type": "blocked", "user_id": made.blocked_id})
    messages.success(
        request,
        _("You blocked @%(handle)s. You will not see their chat messages any more.")
        % {"handle": made.blocked.handle},
    )
    return redirect(_next_or(request, "accounts:blocks"))


def _block_refused(request, code):
    status, message = BLOCK_ERRORS[code]
    if _wants_json(request):
        return JsonResponse({"type": "error", "code": code, "message": str(message)}, status=status)
    messages.error(request, message)
    return redirect(_next_or(request, "accounts:blocks"))


@login_required
@require_POST
def unblock(request, user_id):
    if blocks.unblock_user(blocker=request.user, blocked_id=user_id):
        messages.success(request, _("The block was lifted."))
    return redirect(_next_or(request, "accounts:blocks"))


# --- account deletion -----------------------------------------------------------------
class DeleteAccountForm(forms.Form):
    confirm = forms.CharField(label=gettext_lazy("Type your handle to confirm"), max_length=40)

    def __init__(self, *args, expected, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self):
        typed = self.cleaned_data["confirm"].strip().lstrip("@")
        if typed.casefold() != self.expected.casefold():
            raise forms.ValidationError(
                _("That is not your handle. Type %(handle)s to confirm.")
                % {"handle": self.expected},
                code="mismatch",
            )
        return typed


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def delete_account(request):
    user = request.user
    expected = user.handle or user.username
    form = DeleteAccountForm(request.POST or None, expected=expected)
    if request.method == "POST" and form.is_valid():
        outcome = self_service.delete_account(user=user)
        logout(request)
        request.session[DELETED_SESSION_KEY] = outcome.as_dict()
        return redirect("accounts:deleted")
    return render(
        request,
        "accounts/delete_account.html",
        {
            "form": form,
            "expected": expected,
            "preview": self_service.deletion_preview(user=user),
            **page_facts.periods(),
        },
    )


@never_cache
def account_deleted(request):
    """What was removed and what remains, shown once after the deletion."""
    outcome = request.session.get(DELETED_SESSION_KEY)
    if outcome is None:
        return redirect("home")
    return render(
        request, "accounts/account_deleted.html", {"outcome": outcome, **page_facts.periods()}
    )


def deletion_pending(request):
    """Signing in with the X account of an account whose deletion is finishing."""
    if request.user.is_authenticated:
        return redirect("home")  # back here after signing up afresh: nothing pending
    return render(request, "accounts/deletion_pending.html", status=409)


# --- data download --------------------------------------------------------------------
@login_required
@require_POST
def download_data(request):
    """The user's data as a JSON attachment, at most once a minute (it reads a lot)."""
    wait = _export_wait(request.user)
    if wait:
        message = _("You can download your data once a minute. Try again in %(s)s s.") % {
            "s": math.ceil(wait)
        }
        if _wants_json(request):
            response = JsonResponse(
                {"type": "error", "code": "rate_limited", "message": message, "retry_after": wait},
                status=429,
            )
        else:
            messages.error(request, message)
            response = profile(request)
            response.status_code = 429
        response["Retry-After"] = str(math.ceil(wait))
        return response
    body = data_export.export_json(user=request.user)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = data_export.export_filename(request.user)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _export_wait(user):
    """Seconds until this user may download again, or 0 (and the clock starts now)."""
    now = time.time()
    key = f"accounts:export:{user.pk}"
    if cache.add(key, now, EXPORT_EVERY_S):
        return 0
    started = cache.get(key, now)
    return round(max(started + EXPORT_EVERY_S - now, 0.1), 1)
