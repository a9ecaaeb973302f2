"""Allowed networks: CIDR ranges checked at registration, addresses matched at authentication."""

from __future__ import annotations

import pytest

from app.security.networks import (
    NetworkError,
    allows,
    compile_networks,
    limit_key,
    parse_networks,
    without_port,
)


def test_networks_are_normalised():
    assert parse_networks(["192.0.2.0/24", " 2001:DB8::/32 ", "203.0.113.7", "", "::1"]) == [
        "192.0.2.0/24",
        "2001:db8::/32",
        "203.0.113.7/32",
        "::1/128",
    ]
    assert parse_networks(["10.0.0.0/8", "10.0.0.0/8"]) == ["10.0.0.0/8"]
    assert parse_networks([]) == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("10.0.0.0/33", "not a network"),
        ("300.1.1.1/8", "not a network"),
        ("10.0.0.1/8", "10.0.0.0/8 for the whole network, or 10.0.0.1"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("example.com", "not a network"),
        ("10.0.0.0/-1", "not a network"),
        ("10.0.0.0/8/8", "not a network"),
        ("<script>", "not a network"),
    ],
)
def test_an_impossible_network_is_a_clear_error(value, says):
    with pytest.raises(NetworkError) as refused:
        parse_networks([value])
    assert says in str(refused.value)


def test_too_many_networks_are_refused():
    with pytest.raises(NetworkError, match="at most 50"):
        parse_networks([f"10.0.{i}.0/24" for i in range(51)])


@pytest.mark.parametrize(
    ("networks", "address", "allowed"),
    [
        ([], "198.51.100.1", True),
        (["127.0.0.1/32"], "127.0.0.1", True),
        (["127.0.0.1/32"], "127.0.0.2", False),
        (["10.0.0.0/8"], "10.255.0.1", True),
        (["10.0.0.0/8", "2001:db8::/32"], "2001:db8::5", True),
        (["2001:db8::/32"], "2001:db9::5", False),
        (["192.0.2.0/24"], "::ffff:192.0.2.9", True),
        (["192.0.2.0/24"], "unknown", False),
        (["192.0.2.0/24"], "", False),
    ],
)
def test_addresses_are_matched(networks, address, allowed):
    assert allows(compile_networks(networks), address) is allowed


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # IPv4 through a dual-stack socket
        ("64:ff9b::c000:201", "192.0.2.1"),  # IPv4 through NAT64 (RFC 6052)
        ("64:ff9b::c000:202", "192.0.2.2"),  # another IPv4 caller behind the same translator
        ("2002:c000:201:1::1", "192.0.2.1"),  # 6to4 (RFC 3056): its /48 is one caller
        ("2002:c000:201:ffff::1", "192.0.2.1"),
        # Teredo (RFC 4380): server 65.54.227.120, client 192.0.2.1 and 192.0.2.2,
        # the client address stored inverted in the last 32 bits
        ("2001:0:4136:e378:8000:63bf:3fff:fdfe", "192.0.2.1"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdfd", "192.0.2.2"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # same /64, same key
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # the next /64 is another caller
        ("fe80::1%eth0", "fe80::/64"),  # a zone names the interface, not the caller
        ("unknown", "unknown"),
        ("", ""),
    ],
)
def test_failures_are_counted_per_ipv4_address_and_per_ipv6_64(address, key):
    assert limit_key(address) == key


@pytest.mark.parametrize(
    ("forwarded", "address"),
    [
        ("192.0.2.1:50312", "192.0.2.1"),
        ("[2001:db8::1]:50312", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),  # a bare IPv6 address has no port to take off
        ("192.0.2.1", "192.0.2.1"),
        ("[::ffff:192.0.2.1]:443", "::ffff:192.0.2.1"),
        # anything but an IP address and a numeric port is left for the checks to refuse
        ("[2001:db8::1", "[2001:db8::1"),
        ("[2001:db8::1]:", "[2001:db8::1]:"),
        ("[2001:db8::1]junk", "[2001:db8::1]junk"),
        ("[2001:db8::1]443", "[2001:db8::1]443"),
        ("[10.0.0.5]junk", "[10.0.0.5]junk"),
        ("10.0.0.5:abc", "10.0.0.5:abc"),
        ("10.0.0.5:", "10.0.0.5:"),
        ("[]:1", "[]:1"),
        ("unknown", "unknown"),
        ("unknown:80", "unknown:80"),
        ("_hidden:_port", "_hidden:_port"),  # RFC 7239 §6.3 obfuscated identifiers
    ],
)
def test_a_forwarded_port_is_taken_off(forwarded, address):
    assert without_port(forwarded) == address
