"""Source addresses: the networks a client may authenticate from, and the key an
address's failures are counted under.

Allowed networks (CIDR ranges, IPv4 or IPv6) are checked at registration (an
impossible range is a clear error) and on every client authentication, against the
one source address the app uses everywhere (``app.http_policy.client_address``).
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

    An address that does not parse is outside every network.
    """
    if not networks:
        return True
    ip = _parse(address)
    return ip is not None and any(ip in network for network in networks)


#: RFC 4291 §2.5.1: an IPv6 interface identifier is 64 bits, so whoever holds a /64
#: (the usual allocation to one subscriber, RFC 6177) can send from 2**64 addresses,
#: and RFC 8981 has hosts rotate through them on their own.
IPV6_COUNTING_PREFIX = 64
#: RFC 6052 §2.1: NAT64's well-known prefix carries an IPv4 address in its last 32 bits
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is a translation of one.

    NAT64 (RFC 6052 §2.1) carries it in the last 32 bits. 6to4 (RFC 3056 §2) gives
    each IPv4 holder a whole /48, 65,536 /64s to step through. Teredo (RFC 4380 §4)
    puts its server's address in the /64, so every client of one server would share
    one count; the client's own address is in the last 32 bits, inverted.
    """
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return ip.sixtofour


def limit_key(address: str) -> str:
    """The key failures from ``address`` are counted under, for the per-address limits.

    An IPv4 address is itself, also when it arrives as IPv6 (``::ffff:192.0.2.1``
    from a dual-stack socket, ``64:ff9b::c000:201`` through NAT64: else every IPv4
    caller behind the translator would share one count), and through 6to4 or Teredo.
    Any other IPv6 address counts as its whole /64, or one caller could step to a
    new address whenever it was refused. Anything that does not parse is kept as it
    is. Logs and the audit log keep the exact address: only the counting is coarser.
    """
    ip = _parse(address)
    if ip is None:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _carried_ipv4(ip) or ip
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.IPv6Network((ip, IPV6_COUNTING_PREFIX), strict=False))


def without_port(address: str) -> str:
    """``192.0.2.1:50312`` → ``192.0.2.1``, ``[2001:db8::1]:50312`` → ``2001:db8::1``.

    Only a numeric port after an IP address goes; anything else (a bare IPv6 address,
    ``unknown``, ``10.0.0.5:abc``) is returned as it is, for the checks to refuse.
    """
    if address.startswith("["):
        host, bracket, rest = address[1:].partition("]")
        port_ok = rest == "" or (rest[0] == ":" and rest[1:].isdigit())
        return host if bracket and port_ok and _parse(host) is not None else address
    host, colon, port = address.partition(":")
    return host if colon and port.isdigit() and _parse(host) is not None else address


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, an IPv4 one written as IPv6 (``::ffff:192.0.2.1``, as dual-stack
    sockets report it) taken as the IPv4 address it is; None if it does not parse."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
