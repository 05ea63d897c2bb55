"""Network zones: which configured CIDRs a caller's address falls in.

Configured as ``internal=10.0.0.0/8,127.0.0.0/8;vpn=10.8.0.0/16`` (IPv4 and IPv6). The
most specific network wins, so a VPN range inside the internal one is the VPN. An address
no zone contains, or that is not an IP address at all, is ``internet``: the least trusted.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

INTERNET = "internet"
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class NetworkZones:
    networks: tuple[tuple[_Network, str], ...] = ()  # most specific first

    @classmethod
    def parse(cls, text: str) -> NetworkZones:
        """Parse ``name=cidr,cidr;name=cidr``; :class:`ValueError` naming the bad part."""
        networks: list[tuple[_Network, str]] = []
        names: set[str] = set()
        for part in filter(None, (chunk.strip() for chunk in text.split(";"))):
            name, sep, cidrs = part.partition("=")
            name = name.strip()
            if not sep:
                raise ValueError(f"network zone {part!r}: expected name=CIDR[,CIDR...]")
            if not _NAME.fullmatch(name):
                raise ValueError(f"network zone name {name!r}: use lower-case letters and digits")
            if name == INTERNET:
                raise ValueError(f"{INTERNET!r} is every address outside the zones: not a zone")
            if name in names:
                raise ValueError(f"network zone {name!r} is defined twice")
            names.add(name)
            cidr_list = [cidr.strip() for cidr in cidrs.split(",") if cidr.strip()]
            if not cidr_list:
                raise ValueError(f"network zone {name!r} has no CIDR")
            for cidr in cidr_list:
                try:
                    network = ipaddress.ip_network(cidr, strict=True)
                except ValueError as exc:
                    raise ValueError(f"network zone {name!r}: {exc}") from None
                for other, other_name in networks:
                    if other == network:
                        raise ValueError(
                            f"network {cidr} is in both zones {other_name!r} and {name!r}"
                        )
                networks.append((network, name))
        networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
        return cls(tuple(networks))

    def zone_of(self, ip: str) -> str:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return INTERNET
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:10.0.0.1 from a dual-stack socket
        for network, name in self.networks:
            if address in network:
                return name
        return INTERNET
