"""An IMDF archive in memory: the manifest and, per feature type, its GeoJSON features.

Features stay the GeoJSON dicts they were read as, so that an export gives back what was
imported; typed accessors read the few properties the rest of Hygie needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Feature = dict[str, Any]

# In dependency order: a feature only references types listed before it.
FEATURE_TYPES = (
    "address",
    "venue",
    "building",
    "level",
    "unit",
    "opening",
    "amenity",
    "anchor",
    "occupant",
)
REQUIRED_FILES = ("venue", "building", "level", "unit")
MANIFEST = "manifest.json"


def file_name(feature_type: str) -> str:
    return f"{feature_type}.geojson"


def label(labels: object, language: str = "fr") -> str | None:
    """The name in ``language`` from IMDF labels ({"fr": ..., "en": ...}), else any name."""
    if not isinstance(labels, Mapping) or not labels:
        return None
    value = labels.get(language)
    if value is None:
        value = next(iter(labels.values()))
    return str(value)


@dataclass
class ImdfArchive:
    manifest: dict[str, Any]
    features: dict[str, list[Feature]] = field(default_factory=dict)

    def of_type(self, feature_type: str) -> list[Feature]:
        return self.features.get(feature_type, [])

    def all_features(self) -> Iterator[tuple[str, Feature]]:
        for feature_type in FEATURE_TYPES:
            for feature in self.of_type(feature_type):
                yield feature_type, feature

    @property
    def venue(self) -> Feature:
        return self.of_type("venue")[0]

    @property
    def venue_id(self) -> str:
        return str(self.venue["id"])

    @property
    def name(self) -> str:
        return label(self.venue["properties"].get("name")) or self.venue_id

    def to_json(self) -> dict[str, Any]:
        return {"manifest": self.manifest, "features": self.features}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImdfArchive:
        return cls(manifest=dict(data["manifest"]), features=dict(data["features"]))
