"""allauth adapters: X is the only way in, with an age gate before the first sign-up.

First sign-in with an X account: after X's consent, the pending sign-in (allauth's
SocialLogin, tokens included) waits in the session while the user gives a birth date; no
user, account or token is stored until then. Under 13 the refusal is final for that X
account and only a keyed hash of its id is kept.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthError
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from accounts import selectors, services

PENDING_SIGNUP_KEY = "accounts_pending_x_signup"
CONFIRMED_AGE_KEY = "accounts_confirmed_birth_date"
# Why the last sign-in with X was refused ({"why": RefusedXAccount.Why, "user_id"}).
REFUSED_SIGN_IN_KEY = "accounts_refused_sign_in"


def user_display(user):
    """How allauth names a user in its messages (ACCOUNT_USER_DISPLAY): "@handle", as X
    does; never the internal username (x<X id>), which means nothing to anyone."""
    return f"@{user.handle}" if getattr(user, "handle", "") else user.get_username()


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """No local sign-up: users come through X, staff are made with createsuperuser."""
        return False


class XSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True

    def pre_social_login(self, request, sociallogin):
        x_id = sociallogin.account.uid
        why = selectors.x_account_refusal(x_id=x_id)
        if why is not None:
            request.session.pop(PENDING_SIGNUP_KEY, None)
            request.session[REFUSED_SIGN_IN_KEY] = {
                "why": why,
                # X just proved who this is: a banned user may still read their notices
                # and appeal (safety.notice_views), though not sign in.
                "user_id": sociallogin.user.pk if sociallogin.is_existing else None,
            }
            raise ImmediateHttpResponse(redirect("accounts:refused"))
        from accounts.self_service import is_being_deleted

        if sociallogin.is_existing and is_being_deleted(sociallogin.user):
            # Its deletion is finishing (OnAir's posts on X are still being deleted):
            # nothing of the old account may come back, so this sign-in waits.
            raise ImmediateHttpResponse(redirect("accounts:deletion_pending"))
        confirmed = request.session.get(CONFIRMED_AGE_KEY) or {}
        if sociallogin.is_existing and sociallogin.user.birth_date is None:
            # An account from before the age step (made by hand, say): ask now.
            if confirmed.get("x_id") != x_id:
                request.session[PENDING_SIGNUP_KEY] = sociallogin.serialize()
                raise ImmediateHttpResponse(redirect("accounts:confirm_age"))
            request.session.pop(CONFIRMED_AGE_KEY, None)
            sociallogin.user.birth_date = parse_date(confirmed["birth_date"])
            sociallogin.user.save(update_fields=["birth_date"])
        if sociallogin.is_existing:
            services.update_profile_from_x(
                user=sociallogin.user, data=sociallogin.account.extra_data
            )
            from broadcast.posting import retry_posts_after_reconnect

            retry_posts_after_reconnect(user=sociallogin.user)
            return
        if confirmed.get("x_id") == x_id:
            return  # back from the birth-date step: let allauth sign the user up
        request.session[PENDING_SIGNUP_KEY] = sociallogin.serialize()
        raise ImmediateHttpResponse(redirect("accounts:confirm_age"))

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        # A stable username that never collides; the X handle is shown instead.
        user.username = f"x{sociallogin.account.uid}"
        user.first_name = user.last_name = ""
        services.update_profile_from_x(user=user, data=sociallogin.account.extra_data, save=False)
        return user

    def save_user(self, request, sociallogin, form=None):
        confirmed = request.session.pop(CONFIRMED_AGE_KEY, None) or {}
        if confirmed.get("x_id") == sociallogin.account.uid:
            sociallogin.user.birth_date = parse_date(confirmed["birth_date"])
        return super().save_user(request, sociallogin, form)

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        if error == AuthError.CANCELLED:
            raise ImmediateHttpResponse(redirect("accounts:consent_denied"))
        messages.error(request, _("Signing in with X did not work. Please try again."))
        raise ImmediateHttpResponse(redirect("account_login"))
