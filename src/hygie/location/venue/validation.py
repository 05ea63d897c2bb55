"""Check an IMDF archive before anything is stored: structure, categories, references, shapes.

Every problem is collected (file, feature id, what is wrong) so that one import attempt
reports them all; :func:`validate` raises :class:`ImdfError` when there is any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hygie.location.venue import categories
from hygie.location.venue.errors import ImdfError, ImdfProblem
from hygie.location.venue.geometry import ring_problem
from hygie.location.venue.model import REQUIRED_FILES, Feature, ImdfArchive, file_name

_POLYGONAL = ("Polygon", "MultiPolygon")
GEOMETRY: dict[str, tuple[str, ...] | None] = {
    "address": None,
    "venue": _POLYGONAL,
    "building": None,
    "level": _POLYGONAL,
    "unit": _POLYGONAL,
    "opening": ("LineString",),
    "amenity": ("Point",),
    "anchor": ("Point",),
    "occupant": None,
}
CATEGORIES: dict[str, Callable[[str], bool]] = {
    "venue": categories.VENUE.__contains__,
    "building": categories.BUILDING.__contains__,
    "level": categories.LEVEL.__contains__,
    "unit": categories.UNIT.__contains__,
    "opening": categories.OPENING.__contains__,
    "amenity": categories.is_category_syntax,
    "occupant": categories.is_category_syntax,
}
# property -> feature type it must name, per feature type; "?" marks a nullable reference.
REFERENCES: dict[str, dict[str, str]] = {
    "venue": {"address_id": "address?"},
    "building": {"address_id": "address?"},
    "level": {"address_id": "address?"},
    "unit": {"level_id": "level"},
    "opening": {"level_id": "level"},
    "amenity": {"address_id": "address?"},
    "anchor": {"unit_id": "unit", "address_id": "address?"},
    "occupant": {"anchor_id": "anchor"},
}
LIST_REFERENCES: dict[str, dict[str, str]] = {
    "level": {"building_ids": "building"},
    "amenity": {"unit_ids": "unit"},
}
REQUIRED_LABELS = {"venue": ("name",), "level": ("name",), "occupant": ("name",)}


def validate(archive: ImdfArchive) -> None:
    problems = list(_problems(archive))
    if problems:
        raise ImdfError(problems)


def _problems(archive: ImdfArchive) -> list[ImdfProblem]:
    problems: list[ImdfProblem] = []
    manifest = archive.manifest
    if not isinstance(manifest.get("version"), str):
        problems.append(ImdfProblem("manifest.json", None, "missing property 'version'"))
    if not isinstance(manifest.get("language"), str):
        problems.append(ImdfProblem("manifest.json", None, "missing property 'language'"))
    for feature_type in REQUIRED_FILES:
        if not archive.of_type(feature_type):
            problems.append(ImdfProblem(file_name(feature_type), None, "missing or empty"))
    if len(archive.of_type("venue")) > 1:
        problems.append(ImdfProblem("venue.geojson", None, "must hold exactly one venue"))

    ids: dict[str, str] = {}
    for feature_type, feature in archive.all_features():
        fid = feature.get("id")
        if not isinstance(fid, str) or not fid:
            problems.append(
                ImdfProblem(file_name(feature_type), None, "a feature has no string 'id'")
            )
        elif fid in ids:
            problems.append(
                ImdfProblem(
                    file_name(feature_type), fid, f"id already used by a {ids[fid]} feature"
                )
            )
        else:
            ids[fid] = feature_type
    for feature_type, feature in archive.all_features():
        check = _FeatureCheck(feature_type, feature, ids, problems)
        check.run()
    return problems


class _FeatureCheck:
    def __init__(
        self,
        feature_type: str,
        feature: Feature,
        ids: Mapping[str, str],
        problems: list[ImdfProblem],
    ) -> None:
        self.feature_type = feature_type
        self.feature = feature
        self.ids = ids
        self.problems = problems
        fid = feature.get("id")
        self.fid = fid if isinstance(fid, str) else None
        props = feature.get("properties")
        self.props: dict[str, Any] = props if isinstance(props, dict) else {}

    def fail(self, message: str) -> None:
        self.problems.append(ImdfProblem(file_name(self.feature_type), self.fid, message))

    def run(self) -> None:
        if self.feature.get("type") != "Feature":
            self.fail("'type' must be \"Feature\"")
        if self.feature.get("feature_type") != self.feature_type:
            self.fail(f"'feature_type' must be {self.feature_type!r}")
        if not isinstance(self.feature.get("properties"), dict):
            self.fail("missing 'properties' object")
            return
        self.check_geometry()
        self.check_category()
        self.check_references()
        for key in REQUIRED_LABELS.get(self.feature_type, ()):
            self.check_labels(key, required=True)
        for key in ("name", "alt_name", "short_name"):
            if key not in REQUIRED_LABELS.get(self.feature_type, ()):
                self.check_labels(key, required=False)
        if self.feature_type == "level":
            self.check_level()
        if "display_point" in self.props and self.props["display_point"] is not None:
            point = self.props["display_point"]
            if not (isinstance(point, dict) and point.get("type") == "Point"):
                self.fail("'display_point' must be a GeoJSON Point")
            else:
                self.check_position(point.get("coordinates"), "display_point")

    def check_geometry(self) -> None:
        allowed = GEOMETRY[self.feature_type]
        geometry = self.feature.get("geometry")
        if allowed is None:
            if geometry is not None:
                self.fail(f"a {self.feature_type} feature must have a null geometry")
            return
        if not isinstance(geometry, dict) or geometry.get("type") not in allowed:
            have = geometry.get("type") if isinstance(geometry, dict) else geometry
            self.fail(f"geometry must be {' or '.join(allowed)}, not {have!r}")
            return
        coords = geometry.get("coordinates")
        kind = geometry["type"]
        if kind == "Point":
            self.check_position(coords, "geometry")
        elif kind == "LineString":
            if not isinstance(coords, list) or len(coords) < 2:
                self.fail("a LineString needs at least 2 positions")
                return
            for position in coords:
                self.check_position(position, "geometry")
        else:
            polygons = [coords] if kind == "Polygon" else coords
            if not isinstance(polygons, list) or not polygons:
                self.fail(f"invalid {kind}: no coordinates")
                return
            for polygon in polygons:
                self.check_polygon(polygon)

    def check_polygon(self, polygon: object) -> None:
        if not isinstance(polygon, list) or not polygon:
            self.fail("invalid polygon: it has no rings")
            return
        for ring in polygon:
            if not isinstance(ring, list) or not all(self.is_position(p) for p in ring):
                self.fail("invalid polygon: rings must be lists of [longitude, latitude]")
                return
            problem = ring_problem(ring)
            if problem:
                self.fail(f"invalid polygon: {problem}")
                return

    @staticmethod
    def is_position(value: object) -> bool:
        return (
            isinstance(value, list)
            and len(value) >= 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
            and -180 <= value[0] <= 180
            and -90 <= value[1] <= 90
        )

    def check_position(self, value: object, where: str) -> None:
        if not self.is_position(value):
            self.fail(f"{where}: {value!r} is not a WGS84 [longitude, latitude] position")

    def check_category(self) -> None:
        accepts = CATEGORIES.get(self.feature_type)
        if accepts is None:
            return
        category = self.props.get("category")
        if category is None:
            self.fail("missing required property 'category'")
        elif not isinstance(category, str) or not accepts(category):
            self.fail(f"unknown {self.feature_type} category {category!r}")

    def check_references(self) -> None:
        for key, target in REFERENCES.get(self.feature_type, {}).items():
            nullable = target.endswith("?")
            target = target.rstrip("?")
            value = self.props.get(key)
            if value is None:
                if not nullable:
                    self.fail(f"missing required property {key!r}")
                continue
            self.check_reference(key, value, target)
        for key, target in LIST_REFERENCES.get(self.feature_type, {}).items():
            values = self.props.get(key)
            if values is None and self.feature_type == "level" and self.props.get("outdoor"):
                continue  # an outdoor level may belong to no building
            if not isinstance(values, list) or not values:
                self.fail(f"missing required property {key!r} (a non-empty list of ids)")
                continue
            for value in values:
                self.check_reference(key, value, target)

    def check_reference(self, key: str, value: object, target: str) -> None:
        if not isinstance(value, str):
            self.fail(f"{key} must be a feature id (a string), not {value!r}")
        elif value not in self.ids:
            self.fail(f"{key} {value!r} does not match any {target} feature")
        elif self.ids[value] != target:
            self.fail(f"{key} {value!r} is a {self.ids[value]}, not a {target}")

    def check_labels(self, key: str, *, required: bool) -> None:
        value = self.props.get(key)
        if value is None:
            if required:
                self.fail(f"missing required property {key!r}")
            return
        if (
            not isinstance(value, dict)
            or not value
            or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in value.items())
        ):
            self.fail(f"{key!r} must be labels: an object of language tag -> non-empty text")

    def check_level(self) -> None:
        ordinal = self.props.get("ordinal")
        if ordinal is None:
            self.fail("missing required property 'ordinal'")
        elif not isinstance(ordinal, int) or isinstance(ordinal, bool):
            self.fail(f"'ordinal' must be an integer, not {ordinal!r}")
        if not isinstance(self.props.get("outdoor", False), bool):
            self.fail("'outdoor' must be true or false")
