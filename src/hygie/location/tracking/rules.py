"""Alert rules: each looks at one enter or leave and says whether it deserves an alert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hygie.location.tracking.model import Asset, Zone


class AlertRule(Protocol):
    @property
    def name(self) -> str: ...

    def fires(self, kind: str, asset: Asset, zone: Zone) -> bool: ...


@dataclass(frozen=True, slots=True)
class LeftHomeService:
    """The asset left the zone it belongs to (its service)."""

    name: str = "left-home-service"

    def fires(self, kind: str, asset: Asset, zone: Zone) -> bool:
        return kind == "leave" and zone.id == asset.home_zone_id


@dataclass(frozen=True, slots=True)
class EnteredDecontamination:
    """An asset of the watched kinds entered a decontamination zone."""

    kinds: frozenset[str] = frozenset({"infusion-pump"})
    name: str = "entered-decontamination"

    def fires(self, kind: str, asset: Asset, zone: Zone) -> bool:
        return kind == "enter" and zone.kind == "decontamination" and asset.kind in self.kinds


DEFAULT_RULES: tuple[AlertRule, ...] = (LeftHomeService(), EnteredDecontamination())
