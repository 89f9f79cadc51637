"""tweepy, pointed at settings.X_API_BASE, with the user's OAuth 2.0 access token.

tweepy fixes its host (https://api.twitter.com) inside Client.request; the session
below rewrites that host to X_API_BASE (the emulator in development and tests,
https://api.x.com in production) and puts a timeout on every call, so one code path
serves both.
"""

import requests
import tweepy
from django.conf import settings

TWEEPY_HOST = "https://api.twitter.com"


class _XSession(requests.Session):
    def __init__(self, *, api_base, timeout):
        super().__init__()
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWEEPY_HOST):
            url = self.api_base + url[len(TWEEPY_HOST) :]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class XClient(tweepy.Client):
    """Acts as one user: `bearer_token` is that user's OAuth 2.0 access token, so every
    call must pass user_auth=False (tweepy's default for writes is OAuth 1.0a).
    Use it as a context manager (or call close()): it owns an HTTP session."""

    def __init__(self, access_token, *, api_base=None, timeout=None):
        super().__init__(bearer_token=access_token, return_type=dict)
        self.session = _XSession(
            api_base=api_base or settings.X_API_BASE,
            timeout=timeout if timeout is not None else settings.X_HTTP_TIMEOUT,
        )

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def post_text(self, text):
        """POST /2/tweets; returns the new post's id."""
        response = self.create_tweet(text=text, user_auth=False)
        return str(response["data"]["id"])

    def delete_post(self, post_id):
        """DELETE /2/tweets/:id. A post X does not know (already deleted) raises
        tweepy.NotFound, which callers count as done."""
        self.delete_tweet(post_id, user_auth=False)

    def find_recent_post(self, *, x_user_id, marker, start_time=None):
        """GET /2/users/:id/tweets: the id of a recent post of the user containing
        `marker` (in its text or in a link it carries, as X shortens links), or None."""
        params = {"max_results": 100, "tweet_fields": ["created_at", "entities"]}
        if start_time is not None:
            params["start_time"] = start_time
        response = self.get_users_tweets(x_user_id, user_auth=False, **params)
        for post in response.get("data") or []:
            if marker in (post.get("text") or ""):
                return str(post["id"])
            for url in (post.get("entities") or {}).get("urls") or []:
                if marker in (url.get("expanded_url") or "") or marker in (url.get("url") or ""):
                    return str(post["id"])
        return None


def post_url(*, handle, post_id):
    """Where the post is seen: x.com/<handle>/status/<id> (or the emulator's copy)."""
    return f"{settings.X_AUTH_BASE}/{handle or 'i'}/status/{post_id}"
