"""Geofences as a charge nurse would judge them: no alarm storm from an asset parked by a
doorway, exactly one enter and one leave when it really goes through."""

from __future__ import annotations

import numpy as np

from hygie.location.tracking.geofence import Debounce, FenceState, GeofenceEngine, LocatedFix
from hygie.location.tracking.geometry import BAND, INSIDE, OUTSIDE, LevelZones
from hygie.location.tracking.model import Place, Zone

WARD = Zone(
    "ward-3b", "Cardiologie 3B", "service", "A", 3, ((0, 0), (20, 0), (20, 10), (0, 10)), 1.5
)
L_SHAPED = Zone(
    "l-room", "L", "room", "A", 3, ((30, 0), (40, 0), (40, 4), (34, 4), (34, 10), (30, 10)), 0.5
)


def walk(
    points: list[tuple[float, float]], *, start_s: float = 0, step_s: float = 1
) -> list[LocatedFix]:
    return [
        LocatedFix(7, round((start_s + i * step_s) * 1e6), Place("A", 3, x, y))
        for i, (x, y) in enumerate(points)
    ]


def test_classification_of_points_including_a_concave_polygon() -> None:
    level = LevelZones([WARD, L_SHAPED])
    xs = np.array([10.0, 10.0, 25.0, 19.5, 32.0, 37.0, 37.0])
    ys = np.array([5.0, 11.0, 5.0, 5.0, 8.0, 8.0, 2.0])
    classes = level.classify(xs, ys)
    assert classes[:, 0].tolist() == [INSIDE, BAND, OUTSIDE, BAND, OUTSIDE, OUTSIDE, OUTSIDE]
    # (37, 8) is in the L's notch: outside, though inside its bounding box.
    assert classes[:, 1].tolist() == [OUTSIDE, OUTSIDE, OUTSIDE, OUTSIDE, INSIDE, OUTSIDE, INSIDE]


def test_noise_along_an_edge_does_not_flap_but_would_without_hysteresis() -> None:
    rng = np.random.default_rng(20261128)
    # An asset parked against the ward's east wall (x = 20), fixes scattered 1 m around it.
    noisy = walk([(20 + dx, 5 + dy) for dx, dy in rng.normal(0, 1.0, (600, 2))])
    debounced = GeofenceEngine([WARD], Debounce(3, 15, 3, 15))
    assert debounced.evaluate(noisy, {}) == []
    naive = GeofenceEngine([Zone(**{**_fields(WARD), "margin_m": 0.0})], Debounce(1, 0, 1, 0))
    assert len(naive.evaluate(noisy, {})) > 50


def test_a_real_crossing_gives_one_enter_then_one_leave() -> None:
    rng = np.random.default_rng(7)
    path = [(x, 5.0) for x in np.linspace(-10, 10, 40)] + [(10.0, 5.0)] * 20
    path += [(x, 5.0) for x in np.linspace(10, 30, 40)] + [(30.0, 5.0)] * 20
    fixes = walk(
        [
            (x + dx, y + dy)
            for (x, y), (dx, dy) in zip(path, rng.normal(0, 0.6, (120, 2)), strict=True)
        ]
    )
    states: dict[int, FenceState] = {}
    crossings = GeofenceEngine([WARD], Debounce(3, 15, 3, 15)).evaluate(fixes, states)
    assert [(c.zone_id, c.kind) for c in crossings] == [("ward-3b", "enter"), ("ward-3b", "leave")]
    enter, leave = crossings
    assert 0 < enter.t_us / 1e6 < 40 and 60 < leave.t_us / 1e6 < 100
    assert states[7].inside == set()


def test_slow_tags_enter_after_the_time_threshold_with_fewer_fixes() -> None:
    engine = GeofenceEngine([WARD], Debounce(enter_fixes=5, enter_seconds=20))
    states: dict[int, FenceState] = {}
    assert engine.evaluate(walk([(10, 5)] * 2, step_s=10), states) == []  # 10 s inside
    crossings = engine.evaluate(walk([(10, 5)], start_s=25), states)
    assert [c.kind for c in crossings] == ["enter"]


def test_a_fix_on_another_level_counts_as_outside() -> None:
    engine = GeofenceEngine([WARD], Debounce(2, 60, 2, 60))
    states: dict[int, FenceState] = {}
    engine.evaluate(walk([(10, 5)] * 2), states)
    upstairs = [LocatedFix(7, (10 + i) * 1_000_000, Place("A", 4, 10, 5)) for i in range(2)]
    assert [c.kind for c in engine.evaluate(upstairs, states)] == ["leave"]


def _fields(zone: Zone) -> dict[str, object]:
    return {name: getattr(zone, name) for name in Zone.__dataclass_fields__}
