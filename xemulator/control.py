"""A small client for the emulator's control API (`/_emulator/`), used by tests and demos.

See docs/xemulator.md for the contract.
"""

import requests

DEFAULT_SCOPE = "tweet.read users.read tweet.write offline.access"


class EmulatorControl:
    def __init__(self, base_url, client_id, client_secret, *, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = (client_id, client_secret)
        self.timeout = timeout

    def _call(self, method, path, json=None):
        response = self.session.request(
            method, f"{self.base_url}/_emulator/{path}", json=json, timeout=self.timeout
        )
        response.raise_for_status()
        return response.json()

    def add_fault(
        self, endpoint, *, status=None, delay_s=None, count=1, reset_in=None, expires_in=None
    ):
        """Make the next `count` calls to `endpoint` ("POST /2/tweets", or "*") fail with
        `status`, wait `delay_s` seconds first, or (token endpoint) issue tokens that
        expire in `expires_in` seconds."""
        body = {"endpoint": endpoint, "count": count}
        optional = {
            "status": status,
            "delay_s": delay_s,
            "reset_in": reset_in,
            "expires_in": expires_in,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return self._call("POST", "faults", body)

    def clear_faults(self):
        return self._call("DELETE", "faults")

    def create_user(self, username, *, name=None, created_at=None):
        """Get or create a test user by username; returns {"id", "username", "name", ...}."""
        body = {"username": username}
        if name is not None:
            body["name"] = name
        if created_at is not None:
            body["created_at"] = (
                created_at if isinstance(created_at, str) else created_at.isoformat()
            )
        return self._call("POST", "users", body)

    def issue_token(self, user_id, *, scope=DEFAULT_SCOPE, expires_in=None):
        """A token response as /2/oauth2/token gives, without the browser consent."""
        body = {"user_id": str(user_id), "scope": scope}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return self._call("POST", "tokens", body)

    def revoke_user(self, user_id):
        return self._call("POST", f"users/{user_id}/revoke")

    def tweets(self, user_id):
        """All the user's posts, newest first, deleted ones included (`deleted` flag)."""
        return self._call("GET", f"users/{user_id}/tweets")["data"]

    def reset(self):
        return self._call("POST", "reset")
