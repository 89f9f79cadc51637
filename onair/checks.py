"""Deploy checks (`manage.py check --deploy`): what `make run` may leave at its embedded
defaults but a deployment must set, or the links OnAir posts to X lead nowhere."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.http.request import split_domain_port, validate_host

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback(host):
    """True for a name or address only this machine reaches (0.0.0.0 included)."""
    host = host.strip("[]").lower().rstrip(".")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def public_url_problems(url):
    """Why PUBLIC_URL cannot be the address the world follows, or [] when it can."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [
            Error(
                f"PUBLIC_URL ({url!r}) is not an http(s) address: the links posted to X, "
                "og:url and og:image would be broken.",
                hint="Set PUBLIC_URL to the address people reach OnAir at, e.g. "
                "https://onair.example.",
                id="onair.E001",
            )
        ]
    if is_loopback(parts.hostname):
        return [
            Error(
                f"PUBLIC_URL is missing or on this machine only ({url}): the links posted "
                "to X, og:url and og:image would point nowhere anyone else can reach.",
                hint="Set PUBLIC_URL to the address people reach OnAir at, e.g. "
                "https://onair.example.",
                id="onair.E001",
            )
        ]
    problems = []
    if parts.scheme != "https":
        problems.append(
            Warning(
                f"PUBLIC_URL ({url}) is not https: browsers never send secure cookies "
                "(on in a deployment) over http, so nobody could stay signed in.",
                hint="Serve OnAir over https and set PUBLIC_URL to its https address.",
                id="onair.W002",
            )
        )
    domain, _port = split_domain_port(parts.netloc.rsplit("@", 1)[-1])
    if not validate_host(domain, settings.ALLOWED_HOSTS):
        problems.append(
            Warning(
                f"PUBLIC_URL's host ({parts.hostname}) is not in ALLOWED_HOSTS: the links "
                "posted to X would be answered 400 Bad Request.",
                hint="Add it to ALLOWED_HOSTS.",
                id="onair.W001",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def public_url_reachable(app_configs, **kwargs):
    return public_url_problems(settings.PUBLIC_URL)


@register(Tags.security, deploy=True)
def not_a_local_run(app_configs, **kwargs):
    if not settings.LOCAL_RUN:
        return []
    return [
        Error(
            "ONAIR_LOCAL_RUN is set: `make run`'s mode keeps a generated secret key, loopback "
            "ALLOWED_HOSTS, and no TLS redirect, secure cookies or HSTS.",
            hint="Unset ONAIR_LOCAL_RUN in a deployment.",
            id="onair.E002",
        )
    ]
