"""Reads about users: what a user may do, and whether an X account was refused."""

from datetime import date

from django.utils import timezone

from accounts.models import RefusedXAccount

MIN_AGE_TO_CHAT = 13
MIN_AGE_TO_BROADCAST = 18


def age_on(*, birth_date, today=None):
    today = today or timezone.localdate()
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def user_age(user):
    if not getattr(user, "is_authenticated", False) or user.birth_date is None:
        return None
    return age_on(birth_date=user.birth_date)


def can_chat(user):
    """Signed in, active, and 13 or older (confirmed at the first sign-in with X)."""
    age = user_age(user)
    return bool(age is not None and user.is_active and age >= MIN_AGE_TO_CHAT)


def can_broadcast(user):
    """Signed in, active, and 18 or older."""
    age = user_age(user)
    return bool(age is not None and user.is_active and age >= MIN_AGE_TO_BROADCAST)


def x_id_hash(x_id):
    """Keyed with SECRET_KEY: the stored value says nothing about the X account by
    itself, yet the same X id always maps to it."""
    from django.utils.crypto import salted_hmac

    return salted_hmac(
        "onair.accounts.refused_x_account", str(x_id), algorithm="sha256"
    ).hexdigest()


def x_account_refusal(*, x_id):
    """Why this X account is refused at sign-in (RefusedXAccount.Why), or None."""
    return (
        RefusedXAccount.objects.filter(x_id_hash=x_id_hash(x_id)).values_list("why", flat=True)
    ).first()


def x_social_token(*, user):
    """The user's stored X OAuth 2.0 token (access token, refresh token, expiry)."""
    from allauth.socialaccount.models import SocialToken

    return (
        SocialToken.objects.filter(account__user=user, account__provider="twitter_oauth2")
        .order_by("-id")
        .first()
    )


def is_valid_birth_date(value):
    return date(1900, 1, 1) <= value <= timezone.localdate()
