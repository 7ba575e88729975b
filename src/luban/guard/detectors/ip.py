"""IP addresses: dotted IPv4 and IPv6, every candidate validated by the `ipaddress` module.

What is not an address, though the format allows it:
- IPv6's `::` is also the scope operator of C++, Perl, Rust and Ruby: `Archive::Tar::Wrapper`, `Log::Dispatch`
  and `std::vector` hold `e::`, `g::D`, `d::v`, valid compressed addresses. A candidate must therefore stand
  alone (no letter, digit, `_`, `:` or `.` joined to it on either side), contain a digit, and name at least
  two groups: `::1` and `::` (loopback, unspecified) say nothing about anyone;
- four dotted numbers after a version or section label (`version 1.2.3.4`, `v2.0.0.1`, `Section 1.2.3.4`)
  are that, not an address (`context.is_business`); longer dotted runs (OIDs, `1.2.3.4.5`) never match;
- addresses of no one: a network in CIDR notation (`192.168.0.0/24`, `2001:db8::/32`), a netmask or
  hostmask (`255.255.255.224`, `0.0.0.31`, `ffff:ffff::`), the unspecified and loopback addresses, and the
  ranges reserved for documentation (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849:
  2001:db8::/32), which manuals and docstrings use because no one is ever assigned them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.context import is_business
from luban.guard.detectors.windows import Seed

IPV4 = re.compile(r"(?<![\d.])(?<![vV])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                  r"(?!\.?\d)")
IPV6 = re.compile(r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
                  r"(?![0-9A-Za-z_:]|\.[0-9A-Za-z])")


_CIDR = re.compile(r"/\d{1,3}(?!\d)")
DOCUMENTATION = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                          "2001:db8::/32"))


def _someones(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """False for addresses that belong to no one: unspecified, loopback, documentation ranges, masks (a run
    of 1 bits then 0s, or its inverse, the hostmask)."""
    if addr.is_unspecified or addr.is_loopback or any(addr in net for net in DOCUMENTATION):
        return False
    bits = int(addr)
    width = addr.max_prefixlen
    inverse = bits ^ ((1 << width) - 1)
    is_mask = bits and (inverse & (inverse + 1)) == 0
    is_hostmask = (bits & (bits + 1)) == 0
    return not (is_mask or is_hostmask)


def _network(text: str, end: int) -> bool:
    return _CIDR.match(text, end) is not None


class IPv4:
    name = "ipv4"
    priority = 20
    seed = Seed(re.compile(r"0\.0{1,3}\.0{1,3}\.0"))  # digits folded to 0: "a.b.c.d" holds "0.0.0.0"

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        if "." not in text:
            return
        for m in IPV4.finditer(text, start, len(text) if end is None else end):
            if _network(text, m.end()) or is_business(text, m.start()):
                continue
            if _someones(ipaddress.IPv4Address(m.group(0))):
                yield Match(self.name, m.start(), m.end(), m.group(0))


def _plausible_ipv6(cand: str) -> bool:
    if not any(c.isdigit() for c in cand) or sum(1 for g in cand.split(":") if g) < 2:
        return False
    try:
        return _someones(ipaddress.IPv6Address(cand))
    except ValueError:
        return False


class IPv6:
    name = "ipv6"
    priority = 20
    seed = Seed(re.compile(r":[0-9A-Fa-f]{0,4}:"))  # two groups at least: "x:y:" holds ":y:"

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        if ":" not in text:
            return
        for m in IPV6.finditer(text, start, len(text) if end is None else end):
            if _plausible_ipv6(m.group(0)) and not _network(text, m.end()):
                yield Match(self.name, m.start(), m.end(), m.group(0))
