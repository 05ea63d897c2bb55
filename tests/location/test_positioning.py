"""WiFi positioning on the public UJIIndoorLoc data (../shared/data/ujiindoorloc)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from hygie.location.cli import location
from hygie.location.positioning import (
    Positioner,
    PositionerConfig,
    RadioMap,
    RadioMapError,
    coverage,
    evaluate,
    parse_radio_map,
    read_radio_map,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data" / "ujiindoorloc"
HEADER = "WAP001,WAP002,WAP003,LONGITUDE,LATITUDE,FLOOR,BUILDINGID,USERID"


@pytest.fixture(scope="module")
def training() -> RadioMap:
    return read_radio_map(DATA / "trainingData.csv.gz")


@pytest.fixture(scope="module")
def validation() -> RadioMap:
    return read_radio_map(DATA / "validationData.csv.gz")


def test_reads_the_ujiindoorloc_layout(training: RadioMap) -> None:
    assert len(training) == 19937
    assert training.ap_ids[0] == "WAP001" and len(training.ap_ids) == 520
    assert set(training.building) == {"0", "1", "2"}
    assert set(training.level.tolist()) == {0, 1, 2, 3, 4}
    assert np.nanmax(training.rssi) <= 0  # the "100 = not detected" sentinel became NaN


def test_parses_small_text_and_ignores_extra_columns() -> None:
    rmap = parse_radio_map(f"{HEADER}\n-50,100,-70,10.5,20,1,0,7\n100,-60,100,11,21,2,1,7\n")
    assert rmap.ap_ids == ("WAP001", "WAP002", "WAP003")
    assert rmap.building == ("0", "1")
    assert rmap.level.tolist() == [1, 2]
    assert np.isnan(rmap.rssi[0, 1]) and rmap.rssi[0, 2] == -70


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("WAP001,LONGITUDE,LATITUDE,FLOOR\n-50,1,2,0\n", "missing column(s) BUILDINGID"),
        ("LONGITUDE,LATITUDE,FLOOR,BUILDINGID\n1,2,0,0\n", "no access point column"),
        (f"{HEADER}\n", "no fingerprint rows"),
        (f"{HEADER}\n-50,abc,-70,10,20,1,0,7\n", "could not convert string 'abc'"),
        (f"{HEADER}\n-50,100,-70,10,20,1.5,0,7\n", "FLOOR must hold whole numbers"),
        (f"{HEADER}\n-50,100,-70,10,20,1,0\n", "line 2 has 7 fields, header has 8"),
        (f"{HEADER}\n-50,100,40,10,20,1,0,7\n", "RSSI values must lie in"),
    ],
)
def test_bad_files_give_precise_errors(text: str, message: str) -> None:
    with pytest.raises(RadioMapError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_radio_map(text)


def test_single_scan_returns_building_level_and_position(training: RadioMap) -> None:
    positioner = Positioner.fit(training)
    row = 1234
    scan = {
        ap: float(v) for ap, v in zip(training.ap_ids, training.rssi[row], strict=True) if v == v
    }
    scan["00:11:22:33:44:55"] = -40.0  # unknown access points are ignored
    fix = positioner.locate(scan)
    assert fix.building == training.building[row]
    assert fix.level == training.level[row]
    assert np.hypot(fix.x - training.x[row], fix.y - training.y[row]) < 5.0
    assert fix.uncertainty_m >= 0 and 0 < fix.level_confidence <= 1


def test_a_scan_that_matches_nothing_is_refused(training: RadioMap) -> None:
    positioner = Positioner.fit(training)
    refused = "hears no access point of the radio map above -105 dBm"
    # nothing heard; only unknown APs or "not detected"; an AP of the map that no
    # fingerprint heard (WAP003); a reading below the -105 dBm floor: no position follows
    for scan in (
        {},
        {"aa:bb:cc:dd:ee:ff": -50.0, "WAP001": 100.0},
        {"WAP003": -50.0},
        {"WAP001": -110.0},
    ):
        with pytest.raises(RadioMapError, match=refused):
            positioner.locate(scan)
    with pytest.raises(RadioMapError, match="must be in"):
        positioner.locate({"WAP001": 12.0})


def test_one_scan_and_a_batch_give_the_same_fixes(training: RadioMap, validation: RadioMap) -> None:
    positioner = Positioner.fit(training)
    rows = np.arange(0, len(validation), 37)
    batch = positioner.locate_many(validation.rssi[rows], validation.ap_ids)
    for row, fix in zip(rows, batch, strict=True):
        scan = {
            ap: float(v)
            for ap, v in zip(validation.ap_ids, validation.rssi[row], strict=True)
            if v == v
        }
        assert positioner.locate(scan) == fix
    with pytest.raises(RadioMapError, match="scan 1 hears no access point of the radio map"):
        positioner.locate_many(np.vstack([validation.rssi[0], np.full(520, np.nan)]))


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"k_position": 0}, "must be at least 1"),
        ({"other_level_weight": 0.0}, "other_level_weight must be in"),
        ({"floor_dbm": 5.0}, "floor_dbm must be in"),
        ({"position_power": -1.0}, "must be > 0"),
        ({"rssi_offsets_db": ()}, "at least one finite offset"),
        ({"coordinate_powers": ()}, "coordinate_powers must list one or more powers, all > 0"),
        (
            {"coordinate_powers": (1.0, 0.0)},
            "coordinate_powers must list one or more powers, all > 0",
        ),
        ({"offset_candidates": 5}, "offset_candidates must be at least"),
        ({"coordinate_powers": (1.0, 2.0)}, "coordinate_powers must include position_power"),
    ],
)
def test_bad_configuration_is_refused(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PositionerConfig(**option)


def _user_holdout(training: RadioMap, users: set[int]) -> tuple[RadioMap, RadioMap]:
    with gzip.open(DATA / "trainingData.csv.gz", "rt") as f:
        header = f.readline().strip().split(",")
        user = np.loadtxt(f, delimiter=",", usecols=[header.index("USERID")])
    held = np.isin(user, list(users))
    return training.subset(~held), training.subset(held)


def test_beats_one_nearest_neighbour_on_unseen_users(training: RadioMap) -> None:
    # users 2, 8 and 17 surveyed places others surveyed too; their phones are unseen
    radio_map, held_out = _user_holdout(training, {2, 8, 17})
    held_out = held_out.subset(np.arange(0, len(held_out), 4))
    ours = evaluate(Positioner.fit(radio_map), held_out)
    one_nn = PositionerConfig(
        k_building=1, k_level=1, k_position=1, rssi_offsets_db=(0.0,), coordinate_powers=(1.5,)
    )
    baseline = evaluate(Positioner.fit(radio_map, one_nn), held_out)
    # measured: mean 7.22 vs 8.20 m, P75 9.7 vs 12.8 m, floors 97.0 vs 95.2 %,
    # within uncertainty_m 65 % vs 40 %
    assert ours["mean_error_m"] < baseline["mean_error_m"] - 0.5
    assert ours["p75_error_m"] < baseline["p75_error_m"] - 1.5
    assert ours["floor_hit"] > baseline["floor_hit"]
    assert ours["building_hit"] >= baseline["building_hit"]
    # uncertainty_m is calibrated to hold about 68 % of fixes on unseen users
    assert 0.58 <= ours["within_uncertainty"] <= 0.8


def test_full_validation_accuracy_holds(training: RadioMap, validation: RadioMap) -> None:
    figures = evaluate(Positioner.fit(training), validation)
    # measured 6.45 m, P75 7.94 m, 95.77 % floors, 99.91 % buildings, 70 % within
    # uncertainty_m; with one offset per scan for the coordinates too: 6.62 m, P75 8.64 m;
    # without the coordinate ensemble either: 6.77 m
    assert figures["n"] == 1111
    assert figures["mean_error_m"] < 6.55
    assert figures["p75_error_m"] < 8.1
    assert figures["floor_hit"] >= 0.95
    assert figures["building_hit"] >= 0.998
    assert 0.6 <= figures["within_uncertainty"] <= 0.8


def test_coverage_counts_fingerprints_and_gaps(training: RadioMap) -> None:
    report = coverage(training, cell_m=5.0, gap_m=10.0)
    assert len(report) == 13  # 4 + 4 + 5 levels
    assert sum(r.fingerprints for r in report) == len(training)
    assert all(0 <= r.gap_cells <= r.grid_cells and r.aps_heard > 0 for r in report)
    # drop the west half of building 0, level 0: that level gets gaps, the others do not change
    b0l0 = np.array([b == "0" for b in training.building]) & (training.level == 0)
    west = b0l0 & (training.x < np.median(training.x[b0l0]))
    thinned = {(r.building, r.level): r for r in coverage(training.subset(~west))}
    before = {(r.building, r.level): r for r in report}
    assert thinned["0", 0].gap_cells > before["0", 0].gap_cells + 10
    assert thinned["0", 1].fingerprints == before["0", 1].fingerprints


def _small_csv(tmp_path: Path, name: str, rows: slice) -> Path:
    with gzip.open(DATA / "trainingData.csv.gz", "rt") as f:
        lines = f.read().splitlines()
    path = tmp_path / name
    path.write_text("\n".join([lines[0], *lines[1:][rows]]) + "\n")
    return path


def test_cli_evaluate_prints_one_json_object(tmp_path: Path) -> None:
    train = _small_csv(tmp_path, "train.csv", slice(0, None, 2))
    test = _small_csv(tmp_path, "test.csv", slice(1, 2000, 10))
    result = CliRunner().invoke(location, ["evaluate", "--train", str(train), "--test", str(test)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert {
        "mean_error_m",
        "median_error_m",
        "p75_error_m",
        "building_hit",
        "floor_hit",
        "ms_per_fix",
        "n",
    } <= figures.keys()
    assert figures["n"] == 200 and figures["building_hit"] > 0.95


def test_cli_bad_file_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("WAP001,LONGITUDE,LATITUDE\n-50,1,2\n")
    result = CliRunner().invoke(location, ["coverage", "--train", str(bad)])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: bad.csv: missing column(s) FLOOR, BUILDINGID"
    empty = tmp_path / "empty.csv.gz"
    empty.write_bytes(gzip.compress(b""))
    result = CliRunner().invoke(location, ["evaluate", "--train", str(empty), "--test", str(bad)])
    assert result.exit_code == 1 and "empty file" in result.output
    assert "Traceback" not in result.output
