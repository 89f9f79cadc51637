"""The one place that says which address a request or socket came from. Every cap, rate
limit and report that counts addresses reads it here, so trusting a proxy's hop is decided
in one function."""

from django.utils.crypto import salted_hmac

UNKNOWN = "unknown"


def from_request(request):
    return request.META.get("REMOTE_ADDR") or UNKNOWN


def from_scope(scope):
    client = scope.get("client") or None
    return (client[0] if client else None) or UNKNOWN


def address_key(address):
    """A keyed hash of an address, for what is stored (report rows): the address itself is
    never kept beyond the short-lived rate-limit counters."""
    return salted_hmac("onair.client_address", address, algorithm="sha256").hexdigest()[:32]
