"""Network zones from configured CIDRs."""

from __future__ import annotations

import pytest

from hygie.security.policy import NetworkZones


def test_most_specific_zone_wins_ipv4_and_ipv6() -> None:
    zones = NetworkZones.parse(
        "internal=10.0.0.0/8,127.0.0.0/8,fd00::/8; vpn=10.8.0.0/16,fd00:8::/32"
    )
    assert zones.zone_of("10.1.2.3") == "internal"
    assert zones.zone_of("10.8.0.9") == "vpn"
    assert zones.zone_of("127.0.0.1") == "internal"
    assert zones.zone_of("fd00::1") == "internal"
    assert zones.zone_of("fd00:8::1") == "vpn"
    assert zones.zone_of("::ffff:10.8.1.1") == "vpn"
    assert zones.zone_of("8.8.8.8") == "internet"
    assert zones.zone_of("2001:db8::1") == "internet"
    assert zones.zone_of("testclient") == "internet"


def test_no_zones_means_everything_is_internet() -> None:
    assert NetworkZones.parse("").zone_of("10.0.0.1") == "internet"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("internal", "expected name=CIDR"),
        ("internal=10.0.0.1/8", "has host bits set"),
        ("internal=10.0.0.0/33", "does not appear to be an IPv4 or IPv6 network"),
        ("internal=fd00::/129", "does not appear to be an IPv4 or IPv6 network"),
        ("internal=", "has no CIDR"),
        ("Internal Net=10.0.0.0/8", "use lower-case letters"),
        ("internet=10.0.0.0/8", "not a zone"),
        ("a=10.0.0.0/8;a=11.0.0.0/8", "defined twice"),
        ("a=10.0.0.0/8;b=10.0.0.0/8", "in both zones 'a' and 'b'"),
    ],
)
def test_bad_configuration_is_refused_precisely(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NetworkZones.parse(text)
