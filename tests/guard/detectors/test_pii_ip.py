"""IP detectors: addresses found; scope operators, versions, times and MAC addresses are not addresses."""

from __future__ import annotations

import pytest

from luban.guard.detectors.ip import IPv4, IPv6


def found(det: IPv4 | IPv6, text: str) -> list[str]:
    return [m.text for m in det.find(text)]


@pytest.mark.parametrize("text, address", [
    ("server 2001:da8::8a2e:370:7334 is down", "2001:da8::8a2e:370:7334"),
    ("访问地址2408:8000:0:0:1:0:0:1。", "2408:8000:0:0:1:0:0:1"),
    ("curl http://[fe80::1ff:fe23:4567:890a]:8080/", "fe80::1ff:fe23:4567:890a"),
    ("mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128"),
    ("link-local fe80::1%eth0.", "fe80::1"),
])
def test_ipv6_addresses_are_found(text: str, address: str) -> None:
    assert found(IPv6(), text) == [address]


@pytest.mark.parametrize("text", [
    "use Archive::Tar::Wrapper;",
    "my $log = Log::Dispatch->new(outputs => []);",
    "std::vector<int> v; boost::asio::ip::tcp::socket s;",
    "impl Add for Face { fn add(self) -> Self { Self::Bead } }  // Face::add, Cafe::Dead",
    "Ruby: ActiveRecord::Base.connection; Rust: crate::db::Pool",
    "loopback ::1 and the unspecified :: say nothing about anyone",
    "MAC 00:1A:2B:3C:4D:5E, time 12:30:45, ratio 16:9, score 3:2:1",
])
def test_code_identifiers_times_and_macs_are_not_ipv6(text: str) -> None:
    assert found(IPv6(), text) == []


def test_ipv4_addresses_but_not_versions_or_sections() -> None:
    assert found(IPv4(), "client 58.32.113.9 (via 10.0.0.1)") == ["58.32.113.9", "10.0.0.1"]
    for text in ["upgrade to version 2.1.0.4 now", "build v10.0.19.1", "see Section 3.1.2.4",
                 "OID 1.3.6.1.4.1.311", "版本号 4.2.1.0 已发布", "999.1.1.1 and 1.2.3.4.5"]:
        assert found(IPv4(), text) == [], text


def test_networks_masks_and_addresses_of_no_one_are_not_reported() -> None:
    text = ("subnet 10.20.0.0/16, netmask 255.255.255.224, hostmask 0.0.0.31, bind 0.0.0.0, "
            "ping 127.0.0.1; prefix 2001:db8::/32, mask ffff:ffff:ffff:ffff::, gateway 10.20.0.1")
    assert found(IPv4(), text) == ["10.20.0.1"]
    assert found(IPv6(), text) == []


def test_documentation_ranges_belong_to_no_one() -> None:
    text = "e.g. 192.0.2.10, 198.51.100.7, 203.0.113.9 or 2001:db8::1 (RFC 5737, RFC 3849)"
    assert found(IPv4(), text) == [] and found(IPv6(), text) == []
