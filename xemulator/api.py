"""X's HTTP API as the emulator serves it: the token endpoint and the v2 endpoints.

Every endpoint is an async view, so a delayed call (the `delay_s` fault) waits with
asyncio.sleep and never holds the thread Django runs sync views on. Its work runs in a
task shielded from the client hanging up: a slow X still creates the post, and a client
that timed out can find it later. Database work runs in worker threads.
"""

import asyncio
import base64
import binascii
import hmac
import json
import logging
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.db import connections
from django.http import JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from xemulator import conf, problems, rate_limits, selectors, services
from xemulator.text import as_x_shows_it

logger = logging.getLogger(__name__)
# Tasks of calls still being processed (kept referenced until they finish).
_running = set()
USER_FIELDS = {
    "confirmed_email",
    "connection_status",
    "created_at",
    "description",
    "entities",
    "id",
    "is_identity_verified",
    "location",
    "most_recent_tweet_id",
    "name",
    "parody",
    "pinned_tweet_id",
    "profile_banner_url",
    "profile_image_url",
    "protected",
    "public_metrics",
    "receives_your_dm",
    "subscribes_to_you",
    "subscription",
    "subscription_type",
    "url",
    "username",
    "verified",
    "verified_followers_count",
    "verified_type",
    "withheld",
}
READ_SCOPES = ("tweet.read", "users.read")
WRITE_SCOPES = ("tweet.write", "tweet.read", "users.read")


def in_thread(func):
    """Run ORM work in a worker thread and close its connections afterwards."""

    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run, thread_sensitive=False)


def x_endpoint(name):
    """Make a sync handler an async X endpoint named `name` ("POST /2/tweets"), with
    faults applied and X errors turned into responses."""

    method = name.split()[0]

    def decorate(handler):
        def guarded(request, fault, **kwargs):
            request.x_endpoint = name
            try:
                response = handler(request, fault=fault, **kwargs)
            except problems.XApiError as exc:
                response = exc.response()
            # X reports the caller's window on every answer, errors included.
            for header, value in getattr(request, "x_rate_limit", {}).items():
                response.setdefault(header, value)
            return response

        async def process(request, kwargs):
            fault = await in_thread(services.consume_fault)(endpoint=name)
            if fault and fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault and fault.status:
                return fault_response(fault, endpoint=name)
            return await in_thread(guarded)(request, fault, **kwargs)

        @csrf_exempt
        async def view(request, **kwargs):
            if request.method != method:
                return problems.XApiError(405, problems.blank_problem(405)).response()
            # Read the body now: Django closes it when the client hangs up.
            request.body  # noqa: B018
            task = asyncio.ensure_future(process(request, kwargs))
            _running.add(task)
            task.add_done_callback(_finished)
            return await asyncio.shield(task)

        view.__name__ = handler.__name__
        return view

    return decorate


def _finished(task):
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("X emulator call failed", exc_info=task.exception())


def fault_response(fault, *, endpoint):
    headers = {}
    if fault.status == 429:
        headers = rate_limits.exhausted_headers(endpoint=endpoint, reset_in=fault.reset_in)
    if fault.endpoint == "POST /2/oauth2/token" and fault.status < 500:
        error = "invalid_request" if fault.status != 401 else "invalid_client"
        exc = problems.oauth_error(error, "Injected by an emulator fault.", fault.status)
        exc.headers.update(headers)
        return exc.response()
    return problems.XApiError(
        fault.status, problems.blank_problem(fault.status), headers
    ).response()


def authenticate(request, *, scopes):
    """The caller's token, one request counted in the caller's window for this endpoint
    (X counts per user and endpoint): 429 once the window is used up."""
    token = services.authenticate_bearer(
        request.headers.get("Authorization"), required_scopes=scopes
    )
    allowed, request.x_rate_limit = rate_limits.take(
        user_id=token.user_id, endpoint=request.x_endpoint
    )
    if not allowed:
        raise problems.XApiError(429, problems.blank_problem(429))
    return token


def x_timestamp(value):
    """X's date format: 2013-12-14T04:35:55.000Z"""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _fields(request, *names):
    fields = []
    for name in names:
        for item in request.GET.get(name, "").split(","):
            if item.strip():
                fields.append(item.strip())
    return fields


# --- OAuth 2.0 token endpoint -----------------------------------------------------------


def _client_credentials(request):
    """HTTP Basic client authentication (RFC 6749 2.3.1), or a public client's id."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return request.POST.get("client_id"), None


def _check_client(request):
    client_id, secret = _client_credentials(request)
    if not client_id or not hmac.compare_digest(client_id, conf.client_id()):
        raise problems.oauth_error("invalid_client", "Missing valid authorization header", 401)
    if secret is not None and not hmac.compare_digest(secret, conf.client_secret()):
        raise problems.oauth_error("invalid_client", "Missing valid authorization header", 401)
    return client_id


@x_endpoint("POST /2/oauth2/token")
def token(request, fault):
    client_id = _check_client(request)
    grant_type = request.POST.get("grant_type")
    expires_in = fault.expires_in if fault else None
    try:
        if grant_type == "authorization_code":
            body = services.exchange_code(
                client_id=client_id,
                code=request.POST.get("code"),
                redirect_uri=request.POST.get("redirect_uri"),
                code_verifier=request.POST.get("code_verifier"),
                expires_in=expires_in,
            )
        elif grant_type == "refresh_token":
            body = services.refresh_token_grant(
                client_id=client_id,
                refresh_token=request.POST.get("refresh_token"),
                expires_in=expires_in,
            )
        else:
            raise services.OAuthError(
                "unsupported_grant_type", "Value passed for the grant type was invalid."
            )
    except services.OAuthError as exc:
        raise problems.oauth_error(exc.error, exc.description, exc.status) from exc
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


# --- API v2 -----------------------------------------------------------------------------


def _user_data(request, user, fields):
    data = {"id": user.pk, "name": user.name, "username": user.username}
    available = {
        "created_at": lambda: x_timestamp(user.created_at),
        "profile_image_url": lambda: request.build_absolute_uri(
            f"/_emulator/avatars/{user.pk}.svg"
        ),
        "description": lambda: "",
        "protected": lambda: False,
        "verified": lambda: False,
        "verified_type": lambda: "none",
        "url": lambda: "",
        "public_metrics": lambda: _public_metrics(user),
        "most_recent_tweet_id": lambda: (
            selectors.live_posts(user=user).values_list("id", flat=True).first()
        ),
    }
    for field in fields:
        if field in available:
            value = available[field]()
            if value is not None:
                data[field] = value
    return data


def _public_metrics(user):
    count = selectors.live_posts(user=user).count()
    return {
        "followers_count": 0,
        "following_count": 0,
        "tweet_count": count,
        "post_count": count,
        "listed_count": 0,
        "like_count": 0,
    }


@x_endpoint("GET /2/users/me")
def users_me(request, fault):
    token = authenticate(request, scopes=READ_SCOPES)
    fields = _fields(request, "user.fields")
    for field in fields:
        if field not in USER_FIELDS:
            raise problems.invalid_request(
                "user.fields",
                field,
                f"The `user.fields` query parameter value [{field}] is not one of "
                f"[{','.join(sorted(USER_FIELDS))}]",
            )
    return JsonResponse({"data": _user_data(request, token.user, fields)})


def _post_data(post, fields):
    """A post as X's API shows it: links as t.co links, entities on request."""
    text, urls = as_x_shows_it(post.pk, post.text)
    data = {
        "id": post.pk,
        "text": text,
        "edit_history_tweet_ids": [post.pk],
        "edit_history_post_ids": [post.pk],
    }
    extra = {
        "created_at": lambda: x_timestamp(post.created_at),
        "author_id": lambda: post.author_id,
        "conversation_id": lambda: post.pk,
        "lang": lambda: "en",
        "possibly_sensitive": lambda: False,
        "reply_settings": lambda: "everyone",
        "entities": lambda: {"urls": urls} if urls else None,
    }
    for field in fields:
        if field in extra:
            value = extra[field]()
            if value is not None:
                data[field] = value
    return data


def _time_param(request, name):
    raw = request.GET.get(name)
    if raw is None:
        return None
    value = parse_datetime(raw.replace("Z", "+00:00"))
    if value is None or value.tzinfo is None:
        raise problems.invalid_request(
            name, raw, f"The `{name}` query parameter value [{raw}] is not a valid time"
        )
    return value


@x_endpoint("GET /2/users/:id/tweets")
def user_tweets(request, fault, user_id):
    authenticate(request, scopes=READ_SCOPES)
    raw = request.GET.get("max_results", "10")
    if not raw.isdigit() or not 5 <= int(raw) <= 100:
        raise problems.invalid_request(
            "max_results",
            raw,
            f"The `max_results` query parameter value [{raw}] is not between 5 and 100",
        )
    for name in ("since_id", "until_id"):
        value = request.GET.get(name)
        if value is not None and not (value.isdigit() and len(value) <= 19):
            raise problems.invalid_request(
                name, value, f"The `{name}` query parameter value [{value}] is not valid"
            )
    if not user_id.isdigit():
        raise problems.invalid_request(
            "id", user_id, f"The `id` query parameter value [{user_id}] is not valid"
        )
    user = selectors.user_by_id(user_id)
    if user is None:
        problem = problems.not_found_problem(resource_type="user", value=user_id)
        return JsonResponse({"errors": [problem]})
    posts = list(
        selectors.live_posts(
            user=user,
            since_id=request.GET.get("since_id"),
            until_id=request.GET.get("until_id"),
            start_time=_time_param(request, "start_time"),
            end_time=_time_param(request, "end_time"),
        )[: int(raw)]
    )
    fields = _fields(request, "tweet.fields", "post.fields")
    meta = {"result_count": len(posts)}
    if posts:
        meta.update({"newest_id": posts[0].pk, "oldest_id": posts[-1].pk})
        return JsonResponse({"data": [_post_data(p, fields) for p in posts], "meta": meta})
    return JsonResponse({"meta": meta})


ALLOWED_POST_FIELDS = {
    "card_uri",
    "community_id",
    "direct_message_deep_link",
    "edit_options",
    "for_super_followers_only",
    "geo",
    "made_with_ai",
    "media",
    "nullcast",
    "paid_partnership",
    "poll",
    "quote_tweet_id",
    "reply",
    "reply_settings",
    "share_with_followers",
    "text",
}


def _create_post(request):
    token = authenticate(request, scopes=WRITE_SCOPES)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise problems.invalid_request("body", "", "Request body must be a JSON object.")
    for key in body:
        if key not in ALLOWED_POST_FIELDS:
            raise problems.invalid_request(
                key, body[key], f"The `{key}` field is not a known request body field."
            )
    post = services.create_post(user=token.user, text=body.get("text", ""))
    return JsonResponse({"data": _post_data(post, [])}, status=201)


def _delete_post(request, post_id):
    token = authenticate(request, scopes=WRITE_SCOPES)
    if not post_id.isdigit():
        raise problems.invalid_request(
            "id", post_id, f"The `id` query parameter value [{post_id}] is not valid"
        )
    services.delete_post(user=token.user, post_id=post_id)
    return JsonResponse({"data": {"deleted": True}})


@x_endpoint("POST /2/tweets")
def create_tweet(request, fault):
    return _create_post(request)


@x_endpoint("DELETE /2/tweets/:id")
def delete_tweet(request, fault, post_id):
    return _delete_post(request, post_id)
