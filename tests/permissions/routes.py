"""Every route of the URLconf, read at test time, and the few the matrix leaves out on
purpose, each with why. A route in neither the table nor this list fails the matrix: a
new view cannot ship before someone decides who may use it."""

from django.urls import URLResolver, get_resolver

_ALLAUTH = (
    "allauth's own page, unused: OnAir has no passwords and no e-mail sign-in, X is the only "
    "way in (our account_login and account_signup shadow allauth's, and are in the table)"
)
_EMULATOR = (
    "the X emulator's state, in the admin only while the emulator stands in for X (never "
    "in production); tests/xemulator cover it"
)
EMULATOR_MODELS = ("xemulator.xuser", "xemulator.post", "xemulator.fault")
_X_FLOW = (
    "the OAuth 2.0 round trip to X: it signs no one in by itself, and "
    "tests/accounts/test_sign_in_with_x.py drives it against the X emulator"
)

EXCLUDED = {
    "healthz": "the load balancer's probe: public by design, says only whether the site is up",
    "account_logout": _ALLAUTH,
    "account_inactive": _ALLAUTH,
    "account_reauthenticate": _ALLAUTH,
    "account_email": _ALLAUTH,
    "account_email_verification_sent": _ALLAUTH,
    "account_confirm_email": _ALLAUTH,
    "account_change_password": _ALLAUTH,
    "account_set_password": _ALLAUTH,
    "account_reset_password": _ALLAUTH,
    "account_reset_password_done": _ALLAUTH,
    "account_reset_password_from_key": _ALLAUTH,
    "account_reset_password_from_key_done": _ALLAUTH,
    "account_confirm_login_code": _ALLAUTH,
    "socialaccount_login_cancelled": _ALLAUTH,
    "socialaccount_login_error": _ALLAUTH,
    "socialaccount_signup": _ALLAUTH,
    "socialaccount_connections": _ALLAUTH,
    "accounts/social/login/cancelled/": _ALLAUTH,
    "accounts/social/login/error/": _ALLAUTH,
    "accounts/social/signup/": _ALLAUTH,
    "accounts/social/connections/": _ALLAUTH,
    "twitter_oauth2_login": _X_FLOW,
    "twitter_oauth2_callback": _X_FLOW,
}
# Not routes of this URLconf, so not in the walk: static files (public assets, served in
# front of Django), and the X emulator's own paths (a separate ASGI app, xemulator.asgi,
# on its own port).


def emulator_admin_routes():
    """The admin pages of the emulator's models, while they are registered."""
    from django.contrib import admin

    registered = {model._meta.label_lower for model in admin.site._registry}
    for label in EMULATOR_MODELS:
        if label in registered:
            app, model = label.split(".")
            yield f"admin/{app}/{model}/<path:object_id>/"
            for page in ("changelist", "add", "change", "delete", "history"):
                yield f"admin:{app}_{model}_{page}"


def excluded():
    """Route -> why it is not in the table."""
    return {**EXCLUDED, **dict.fromkeys(emulator_admin_routes(), _EMULATOR)}


def every_route(patterns=None, prefix="", namespace=None):
    """The key of every route: its namespaced name, or the full path pattern of one that
    has no name."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from every_route(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name
        else:
            yield prefix + str(pattern.pattern)
