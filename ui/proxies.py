"""Which address a request comes from: the socket's, unless the operator trusts a proxy.

Why (issue 23): the login throttle keys failures by ``scope["client"]``, and uvicorn (which
Gradio starts) rewrites that from ``X-Forwarded-For`` whenever the connection comes from
loopback — its default ``FORWARDED_ALLOW_IPS`` is ``127.0.0.1,::1``. A client on the same
machine could then name a new address per request: unlimited password guesses, and a login
while its real address was locked out. Gradio gives no way to pass uvicorn's option, so the
trust list is handed over through uvicorn's own environment variable, from
``Settings.trusted_proxies`` (``ASSISTANT_TRUSTED_PROXIES``), empty by default: nobody is
trusted and every header is ignored. ``X-Real-IP`` and ``Forwarded`` are never read, trusted
proxy or not (see docs/deployment-security.md for a reverse-proxy set-up).
"""

from __future__ import annotations

import ipaddress
import os

from assistant.core.settings import Settings

UVICORN_TRUST_VAR = "FORWARDED_ALLOW_IPS"
# An entry no socket address can equal: uvicorn then trusts no peer (an unset variable would
# mean its default, loopback).
TRUST_NOBODY = ""


def parse_trusted_proxies(raw: str) -> list[str]:
    """``"127.0.0.1, 10.0.0.0/8"`` -> the normalised addresses and networks; ValueError for a
    bad entry (a typo must not silently trust nobody, or worse, something else); ``*`` is
    refused because it would let any client choose its own address."""
    entries: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*":
            raise ValueError("ASSISTANT_TRUSTED_PROXIES=* would let any client choose its address; "
                             "name the proxies' addresses or networks")
        try:
            entries.append(str(ipaddress.ip_network(item, strict=False)) if "/" in item
                           else str(ipaddress.ip_address(item)))
        except ValueError:
            raise ValueError(f"ASSISTANT_TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return entries


def apply_proxy_trust(settings: Settings) -> str:
    """Tell uvicorn which peers may set the client address (before ``launch`` builds its
    config); returns the value given. Overrides any ``FORWARDED_ALLOW_IPS`` already set, so
    the product's one setting decides."""
    value = ",".join(parse_trusted_proxies(settings.trusted_proxies)) or TRUST_NOBODY
    os.environ[UVICORN_TRUST_VAR] = value
    return value


def client_host(scope: dict[str, object]) -> str:
    """The client address of an ASGI request as the server established it ('unknown' if none)."""
    client = scope.get("client")
    return str(client[0]) if isinstance(client, (tuple, list)) and client else "unknown"
