"""IP addresses: dotted IPv4 and IPv6, every candidate validated by the `ipaddress` module.

What is not an address, though the format allows it:
- IPv6's `::` is also the scope operator of C++, Perl, Rust and Ruby: `Archive::Tar::Wrapper`, `Log::Dispatch`
  and `std::vector` hold `e::`, `g::D`, `d::v`, valid compressed addresses. A candidate must therefore stand
  alone (no letter, digit, `_`, `:` or `.` joined to it on either side), contain a digit, and name at least
  two groups: `::1` and `::` (loopback, unspecified) say nothing about anyone;
- four dotted numbers after a version or section label (`version 1.2.3.4`, `v2.0.0.1`, `Section 1.2.3.4`)
  are that, not an address (`context.is_business`); longer dotted runs (OIDs, `1.2.3.4.5`) never match.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.context import is_business

IPV4 = re.compile(r"(?<![\d.])(?<![vV])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                  r"(?!\.?\d)")
IPV6 = re.compile(r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
                  r"(?![0-9A-Za-z_:]|\.[0-9A-Za-z])")


class IPv4:
    name = "ipv4"
    priority = 20

    def find(self, text: str) -> Iterator[Match]:
        if "." not in text:
            return
        for m in IPV4.finditer(text):
            if not is_business(text, m.start()):
                yield Match(self.name, m.start(), m.end(), m.group(0))


def _plausible_ipv6(cand: str) -> bool:
    if not any(c.isdigit() for c in cand) or sum(1 for g in cand.split(":") if g) < 2:
        return False
    try:
        ipaddress.IPv6Address(cand)
    except ValueError:
        return False
    return True


class IPv6:
    name = "ipv6"
    priority = 20

    def find(self, text: str) -> Iterator[Match]:
        if ":" not in text:
            return
        for m in IPV6.finditer(text):
            if _plausible_ipv6(m.group(0)):
                yield Match(self.name, m.start(), m.end(), m.group(0))
