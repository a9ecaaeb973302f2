"""Allowed networks: the CIDR ranges a client may authenticate from (IPv4 or IPv6).

Checked at registration (an impossible range is a clear error) and on every client
authentication, against the one source address the app uses everywhere
(``app.http_policy.client_address``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_NETWORKS = 50


class NetworkError(ValueError):
    """A network cannot be registered; the message names it and says why."""


def parse_networks(items: Iterable[str]) -> list[str]:
    """Normalised CIDR strings (a bare address is a /32 or /128), in order, without repeats."""
    found: list[str] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        network = str(_network(text))
        if network not in found:
            found.append(network)
    if len(found) > MAX_NETWORKS:
        raise NetworkError(f"at most {MAX_NETWORKS} networks, got {len(found)}")
    return found


def _network(text: str) -> Network:
    shown = text[:60]
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            loose = ipaddress.ip_network(text, strict=False)
            address = text.split("/")[0]
            raise NetworkError(
                f"{shown} has host bits set: write {loose} for the whole network, "
                f"or {address} for that one address"
            ) from None
        raise NetworkError(
            f"{shown} is not a network: write CIDR ranges such as 192.0.2.0/24 or "
            "2001:db8::/32, or single addresses"
        ) from None


def compile_networks(networks: Iterable[str]) -> tuple[Network, ...]:
    """Stored (already checked) CIDR strings as network objects, for ``allows``."""
    return tuple(ipaddress.ip_network(network) for network in networks)


def allows(networks: tuple[Network, ...], address: str) -> bool:
    """Whether ``address`` is inside one of ``networks`` (empty: anywhere).

    An IPv4 address written as IPv6 (``::ffff:192.0.2.1``, as dual-stack sockets
    report it) is compared as the IPv4 address it is. An address that does not
    parse is outside every network.
    """
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
