"""The client's address behind load balancers (``FORWARDED_ALLOW_IPS``).

A proxy appends the address it received a request from to ``X-Forwarded-For``. Only the hops
we trust may speak for the client: starting at the TCP peer, walk the list from the right
while the hop is a trusted proxy; the first untrusted hop is the client. A peer we do not
trust is the client itself, whatever it claims in the header (anybody can send one).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "X-Forwarded-For"
FORWARDED_PROTO = "X-Forwarded-Proto"


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` as networks; a wrong entry is a ValueError naming it."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"must be IP addresses or networks separated by commas (not {entry!r})"
            ) from None
    return tuple(networks)


def _trusted(hop: str, proxies: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(hop)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def client_address(peer: str | None, forwarded: Iterable[str], proxies: Sequence[Network]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy, then the rightmost
    untrusted hop of the ``X-Forwarded-For`` headers (every header, in order)."""
    hop = peer or "unknown"
    if not proxies or not _trusted(hop, proxies):
        return hop
    hops = [part.strip() for header in forwarded for part in header.split(",") if part.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer or "unknown"


def forwarded_https(peer: str | None, proto: str | None, proxies: Sequence[Network]) -> bool:
    """A trusted proxy says the client used HTTPS (``X-Forwarded-Proto``; TLS ends there).
    Any ``https`` in the list counts: a cookie wrongly marked ``Secure`` is only not sent
    over plain HTTP, while one wrongly left without it could be."""
    said = {part.strip().lower() for part in (proto or "").split(",")}
    return "https" in said and bool(proxies) and _trusted(peer or "", proxies)
