"""No network in any Python process the tests start (CLI, web server, benchmarks).

``tests/conftest.py`` puts this folder first on ``PYTHONPATH`` and sets ``DOCQA_BLOCK_NETWORK=1``
for the whole session, so every child interpreter imports this module at start-up. An audit
hook (which nothing in the child can remove) then refuses connections and name lookups that
leave the machine — loopback and Unix sockets stay allowed — with a ``PermissionError``, and
records each attempt in ``DOCQA_NETWORK_LOG``, which the session checks at its end: a child
that swallows the error still fails the run. Without the variable this module does nothing
but hand over to any other ``sitecustomize`` it shadows.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.strip("[]").split("%", 1)[0].lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _record(what: str) -> None:
    path = os.environ.get("DOCQA_NETWORK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"pid {os.getpid()} ({' '.join(sys.argv)[:200]}): {what}\n")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[1]
        if not isinstance(address, tuple) or _is_local(address[0]):
            return  # a Unix socket path, or loopback
        what = f"{event} {address!r} (family {getattr(sock, 'family', '?')})"
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        if _is_local(args[0]):
            return
        what = f"{event} {args[0]!r}"
    else:
        return
    _record(what)
    raise PermissionError(f"network access blocked in tests: {what}")


def _chain() -> None:
    """Run the ``sitecustomize`` this one shadows, if any (a distribution's own hooks)."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


if os.environ.get("DOCQA_BLOCK_NETWORK") == "1":
    sys.addaudithook(_hook)
_chain()
