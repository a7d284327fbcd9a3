"""Which IP addresses a webhook may be delivered to: public unicast ones only.

The table below is IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890), every
range they do not mark "globally reachable", plus ranges whose real destination is decided by a
gateway rather than by the address (NAT64, 6to4, Teredo, IPv4-mapped and -compatible IPv6, which
can lead to loopback or private IPv4 behind it), multicast and the deprecated site-local range.
Python's ``ipaddress.is_global`` is checked as well, so an address either source calls
non-public is refused: fail closed. Ranges IANA marks globally reachable inside a refused
block (anycast services in 192.0.0.0/24 and 2001::/23) are refused with their block: no
webhook receiver lives there."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TypeAlias

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Refused:
    network: Network
    rfc: str
    what: str


def _row(cidr: str, rfc: str, what: str) -> Refused:
    return Refused(ipaddress.ip_network(cidr), rfc, what)


NOT_PUBLIC: tuple[Refused, ...] = (
    # IPv4 Special-Purpose Address Registry
    _row("0.0.0.0/8", "RFC 791", '"this network"'),
    _row("10.0.0.0/8", "RFC 1918", "private use"),
    _row("100.64.0.0/10", "RFC 6598", "shared address space (carrier-grade NAT)"),
    _row("127.0.0.0/8", "RFC 1122", "loopback"),
    _row("169.254.0.0/16", "RFC 3927", "link-local (cloud metadata services)"),
    _row("172.16.0.0/12", "RFC 1918", "private use"),
    _row("192.0.0.0/24", "RFC 6890", "IETF protocol assignments"),
    _row("192.0.2.0/24", "RFC 5737", "documentation (TEST-NET-1)"),
    _row("192.88.99.0/24", "RFC 7526", "deprecated 6to4 relay anycast"),
    _row("192.168.0.0/16", "RFC 1918", "private use"),
    _row("198.18.0.0/15", "RFC 2544", "benchmarking"),
    _row("198.51.100.0/24", "RFC 5737", "documentation (TEST-NET-2)"),
    _row("203.0.113.0/24", "RFC 5737", "documentation (TEST-NET-3)"),
    _row("224.0.0.0/4", "RFC 5771", "multicast"),
    _row("240.0.0.0/4", "RFC 1112", "reserved"),
    _row("255.255.255.255/32", "RFC 919", "limited broadcast"),
    # IPv6 Special-Purpose Address Registry
    _row("::/128", "RFC 4291", "unspecified"),
    _row("::1/128", "RFC 4291", "loopback"),
    _row("::/96", "RFC 4291", "IPv4-compatible (deprecated; embeds an IPv4 address)"),
    _row("::ffff:0:0/96", "RFC 4291", "IPv4-mapped (embeds an IPv4 address)"),
    _row("64:ff9b::/96", "RFC 6052", "NAT64 well-known prefix (a gateway picks the IPv4)"),
    _row("64:ff9b:1::/48", "RFC 8215", "local-use IPv4/IPv6 translation"),
    _row("100::/64", "RFC 6666", "discard-only"),
    _row("100:0:0:1::/64", "RFC 9780", "dummy prefix"),
    _row("2001::/23", "RFC 2928", "IETF protocol assignments (Teredo, ORCHID, benchmarking)"),
    _row("2001:db8::/32", "RFC 3849", "documentation"),
    _row("2002::/16", "RFC 3056", "6to4 (embeds an IPv4 address)"),
    _row("3fff::/20", "RFC 9637", "documentation"),
    _row("5f00::/16", "RFC 9602", "segment routing (SRv6) SIDs"),
    _row("fc00::/7", "RFC 4193", "unique local"),
    _row("fe80::/10", "RFC 4291", "link-local"),
    _row("fec0::/10", "RFC 3879", "site-local (deprecated)"),
    _row("ff00::/8", "RFC 4291", "multicast"),
)


def why_not_public(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address, or None if it is one."""
    for row in NOT_PUBLIC:
        if address.version == row.network.version and address in row.network:
            return f"{row.what}, {row.network} ({row.rfc})"
    if not address.is_global or address.is_multicast:
        return "not globally reachable"
    return None
