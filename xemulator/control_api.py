"""The control API under /_emulator/ (docs/xemulator.md): faults, users, tokens, revoke,
posts, reset. HTTP Basic with the emulator's client id and secret."""

import base64
import binascii
import functools
import hmac
import json

from django.http import JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from xemulator import conf, selectors, services
from xemulator.api import x_timestamp


def _authorized(request):
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        client_id, _, secret = (
            base64.b64decode(value.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(client_id, conf.client_id()) and hmac.compare_digest(
        secret, conf.client_secret()
    )


def error(status, code, message):
    return JsonResponse({"error": code, "message": message}, status=status)


def control(*methods):
    def decorate(view):
        @csrf_exempt
        @require_http_methods(list(methods))
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not _authorized(request):
                response = error(401, "unauthorized", "HTTP Basic with the emulator client.")
                response["WWW-Authenticate"] = 'Basic realm="X emulator control"'
                return response
            body = {}
            if request.body:
                try:
                    body = json.loads(request.body)
                except ValueError:
                    return error(400, "invalid_json", "The body must be JSON.")
                if not isinstance(body, dict):
                    return error(400, "invalid_json", "The body must be a JSON object.")
            try:
                return view(request, body, *args, **kwargs)
            except (ValueError, TypeError) as exc:
                return error(400, "invalid_request", str(exc))

        return wrapper

    return decorate


def _fault_json(fault):
    return {
        "id": fault.pk,
        "endpoint": fault.endpoint,
        "status": fault.status,
        "delay_s": fault.delay_s,
        "reset_in": fault.reset_in,
        "expires_in": fault.expires_in,
        "remaining": fault.remaining,
    }


@control("POST", "DELETE")
def faults(request, body):
    if request.method == "DELETE":
        return JsonResponse({"cleared": services.clear_faults()})
    fault = services.add_fault(
        endpoint=body.get("endpoint"),
        status=body.get("status"),
        delay_s=body.get("delay_s"),
        count=body.get("count", 1),
        reset_in=body.get("reset_in", 1),
        expires_in=body.get("expires_in"),
    )
    return JsonResponse(_fault_json(fault), status=201)


def _user_json(user):
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "created_at": x_timestamp(user.created_at),
    }


@control("POST")
def users(request, body):
    created_at = body.get("created_at")
    if created_at is not None:
        created_at = parse_datetime(created_at)
        if created_at is None or created_at.tzinfo is None:
            raise ValueError("created_at must be an ISO 8601 date-time with a time zone")
    user, created = services.get_or_create_user(
        username=body.get("username"), name=body.get("name"), created_at=created_at
    )
    return JsonResponse(_user_json(user), status=201 if created else 200)


@control("POST")
def tokens(request, body):
    user = selectors.user_by_id(body.get("user_id", ""))
    if user is None:
        return error(404, "not_found", "No such user.")
    scope = " ".join(str(body.get("scope") or "tweet.read users.read").split())
    if not set(scope.split()) <= conf.KNOWN_SCOPES:
        raise ValueError("scope holds an unknown scope")
    expires_in = body.get("expires_in")
    if expires_in is not None and (not isinstance(expires_in, int) or expires_in < 0):
        raise ValueError("expires_in must be a whole number of seconds, 0 or more")
    return JsonResponse(
        services.issue_token(
            user=user, client_id=conf.client_id(), scope=scope, expires_in=expires_in
        )
    )


@control("POST")
def revoke(request, body, user_id):
    user = selectors.user_by_id(user_id)
    if user is None:
        return error(404, "not_found", "No such user.")
    return JsonResponse({"revoked": services.revoke_user_tokens(user=user)})


@control("GET")
def user_posts(request, body, user_id):
    user = selectors.user_by_id(user_id)
    if user is None:
        return error(404, "not_found", "No such user.")
    data = [
        {
            "id": post.pk,
            "text": post.text,
            "created_at": x_timestamp(post.created_at),
            "deleted": post.deleted_at is not None,
            "deleted_at": post.deleted_at and x_timestamp(post.deleted_at),
        }
        for post in selectors.all_posts(user=user)
    ]
    return JsonResponse({"data": data})


@control("POST")
def reset(request, body):
    services.reset_state()
    return JsonResponse({"reset": True})
