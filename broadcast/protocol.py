"""The media sockets' protocol, shared by the consumers and their tests; documented in
docs/protocol.md ("Media"). Binary frames carry WebM; text frames carry JSON."""

import json

# Close codes (4000-4999 are the application's own).
CLOSE_ENDED = 1000
CLOSE_BAD_MEDIA = 4400
CLOSE_NOT_SIGNED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_ALREADY_PUBLISHING = 4409
CLOSE_TAKEN_OVER = 4410
CLOSE_TOO_LARGE = 4413
CLOSE_TOO_MANY_SOCKETS = 4429

# Error codes sent as {"type": "error", "code": ...} before a close.
ERROR_NOT_SIGNED_IN = "not_signed_in"
ERROR_NOT_OWNER = "not_owner"
ERROR_NOT_ALLOWED = "not_allowed"
ERROR_RESTRICTED = "restricted"  # with "until": restricted from going live
ERROR_NOT_LIVE = "not_live"
ERROR_NOT_FOUND = "not_found"
ERROR_ALREADY_PUBLISHING = "already_publishing"
ERROR_TAKEN_OVER = "taken_over"
ERROR_TOO_LARGE = "too_large"
ERROR_BAD_MEDIA = "bad_media"
ERROR_BAD_FRAME = "bad_frame"
ERROR_TOO_MANY_SOCKETS = "too_many_sockets"

# One MediaRecorder chunk (~200 ms is ~40 KB); below Daphne's own 1 MiB message limit.
MAX_PUBLISH_FRAME = 512 * 1024
MAX_TEXT_FRAME = 1024

STATE_CREATED = "created"
STATE_LIVE = "live"
STATE_RECONNECTING = "reconnecting"
STATE_ENDED = "ended"


def message(kind, **fields):
    return json.dumps({"type": kind, **fields})


def error(code, **fields):
    return message("error", code=code, **fields)
