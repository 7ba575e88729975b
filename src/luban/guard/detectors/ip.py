"""IP addresses: dotted IPv4 and IPv6 (every candidate validated by the `ipaddress` module)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match

IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                  r"(?!\.?\d)")
IPV6 = re.compile(r"(?<![0-9A-Fa-f:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|"
                  r"(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Fa-f:])")


class IPv4:
    name = "ipv4"
    priority = 20

    def find(self, text: str) -> Iterator[Match]:
        if "." not in text:
            return
        for m in IPV4.finditer(text):
            yield Match(self.name, m.start(), m.end(), m.group(0))


class IPv6:
    name = "ipv6"
    priority = 20

    def find(self, text: str) -> Iterator[Match]:
        if ":" not in text:
            return
        for m in IPV6.finditer(text):
            cand = m.group(0)
            if cand.count(":") < 2 or len(cand) < 3:
                continue
            try:
                ipaddress.IPv6Address(cand)
            except ValueError:
                continue
            yield Match(self.name, m.start(), m.end(), cand)
