"""The stored radio map and live WiFi positioning, through the real app: UJIIndoorLoc survey
slices imported into the database, validation scans located over HTTP, a tag's scan report
positioned, refusals, and the operator's CLI commands."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database
from hygie.location.positioning import RadioMap, RadioMapError, read_radio_map
from hygie.location.radiomap import import_radio_map, load_radio_map, radio_map_info
from tests.apptest import BASE, authorize, demo_settings
from tests.conftest import backends

HYGIE = str(Path(sys.executable).parent / "hygie")
UJI = "ujiindoorloc"


def _rows(path: Path, building: str) -> tuple[str, list[str]]:
    header, *rows = gzip.decompress(path.read_bytes()).decode().splitlines()
    column = header.split(",").index("BUILDINGID")
    return header, [row for row in rows if row.split(",")[column] == building]


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture(scope="module")
def survey(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every third training fingerprint of building 1 (1,732), every sixth of building 0,
    and 50 validation scans of each building, as CSV files."""
    folder = tmp_path_factory.mktemp("radiomap")
    files = {}
    for building, step in (("1", 3), ("0", 6)):
        header, rows = _rows(shared_data / UJI / "trainingData.csv.gz", building)
        files[f"train{building}"] = _write(folder / f"b{building}.csv", header, rows[::step])
        header, rows = _rows(shared_data / UJI / "validationData.csv.gz", building)
        files[f"valid{building}"] = _write(folder / f"v{building}.csv", header, rows[:50])
    return files


def scans_of(radio_map: RadioMap) -> list[dict[str, float]]:
    return [
        {ap: float(v) for ap, v in zip(radio_map.ap_ids, row, strict=True) if not np.isnan(v)}
        for row in radio_map.rssi
    ]


@pytest.fixture
def client(database: Database, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(demo_settings(tmp_path / "data"), database=database)
    with TestClient(app, base_url=BASE) as running:
        yield authorize(running)


def ready(client: TestClient) -> None:
    live = client.app.state.radiomap  # type: ignore[attr-defined]
    assert live.wait(30.0), "the positioner did not become ready"


@backends
def test_stored_map_loads_back_as_imported_and_appends_merge_access_points(
    database: Database, survey: dict[str, Path]
) -> None:
    first = import_radio_map(database, survey["train1"])
    second = import_radio_map(database, survey["train0"], source="building 0 survey")
    assert second.version > first.version
    version, stored = load_radio_map(database) or (None, None)
    assert version == second.version and stored is not None
    b1, b0 = read_radio_map(survey["train1"]), read_radio_map(survey["train0"])
    assert len(stored) == len(b1) + len(b0)
    assert stored.building == b1.building + b0.building
    np.testing.assert_array_equal(stored.x, np.concatenate([b1.x, b0.x]))
    np.testing.assert_array_equal(stored.level, np.concatenate([b1.level, b0.level]))
    np.testing.assert_array_equal(stored.rssi[: len(b1)], b1.rssi_for(stored.ap_ids))
    np.testing.assert_array_equal(stored.rssi[len(b1) :], b0.rssi_for(stored.ap_ids))

    info = radio_map_info(database)
    assert [i["source"] for i in info["imports"]] == ["b1.csv", "building 0 survey"]
    assert {row["building"] for row in info["levels"]} == {"0", "1"}
    assert sum(row["fingerprints"] for row in info["levels"]) == len(stored)


@backends
def test_bad_or_repeated_import_stores_nothing(
    database: Database, survey: dict[str, Path], tmp_path: Path
) -> None:
    import_radio_map(database, survey["train1"])
    before = radio_map_info(database)
    with pytest.raises(RadioMapError, match="already in the radio map"):
        import_radio_map(database, survey["train1"])
    broken = tmp_path / "broken.csv"
    lines = survey["train0"].read_text().splitlines()
    _write(broken, lines[0], [*lines[1:10], lines[10].replace(",", ";", 3)])
    with pytest.raises(RadioMapError, match=r"^broken\.csv: "):
        import_radio_map(database, broken, replace=True)
    assert radio_map_info(database) == before


@backends
def test_validation_scans_located_over_http_and_a_tag_scan_positions_the_asset(
    database: Database, survey: dict[str, Path], client: TestClient
) -> None:
    import_radio_map(database, survey["train1"])
    client.app.state.radiomap.refresh(force=True)  # type: ignore[attr-defined]
    ready(client)
    truth = read_radio_map(survey["valid1"])
    response = client.post("/api/location/locate", json={"scans": scans_of(truth)})
    assert response.status_code == 200, response.text
    fixes = response.json()["fixes"]
    assert {f["building"] for f in fixes} == {"1"}
    errors = [
        np.hypot(f["x"] - x, f["y"] - y) for f, x, y in zip(fixes, truth.x, truth.y, strict=True)
    ]
    assert np.mean(errors) < 15.0
    one = client.post("/api/location/locate", json={"scan": scans_of(truth)[0]}).json()["fix"]
    assert one == fixes[0]

    asset = {"tag": "PUMP-7", "kind": "infusion-pump", "name": "Pompe 7"}
    assert client.post("/api/location/assets", json=asset).status_code == 201
    report = {"t": datetime.now(UTC).isoformat(), "scan": scans_of(truth)[0]}
    assert client.post("/api/location/tags/PUMP-7/reports", json=report).status_code == 202
    where = client.get("/api/location/assets/PUMP-7").json()
    assert where["from_scan"] is True and where["building"] == "1"
    assert (where["x"], where["y"]) == pytest.approx((fixes[0]["x"], fixes[0]["y"]), abs=0.01)


@backends
def test_no_map_gives_503_then_an_import_and_a_replacement_are_picked_up(
    database: Database, survey: dict[str, Path], client: TestClient
) -> None:
    scan = scans_of(read_radio_map(survey["valid0"]))[0]
    refused = client.post("/api/location/locate", json={"scan": scan})
    assert refused.status_code == 503
    assert "Aucune carte radio" in refused.json()["error"]
    assert "No radio map is loaded" in refused.json()["error"]
    asset = {"tag": "BED-1", "kind": "bed", "name": "Lit 1"}
    assert client.post("/api/location/assets", json=asset).status_code == 201
    report = {"scan": scan}
    assert client.post("/api/location/tags/BED-1/reports", json=report).status_code == 503

    live = client.app.state.radiomap  # type: ignore[attr-defined]
    live.check_every_s = 0.0  # notice each new import at the next request
    import_radio_map(database, survey["train1"])
    first = client.post("/api/location/locate", json={"scan": scan})
    assert first.status_code in (200, 503)  # 503 "loading" while the first training runs
    ready(client)
    assert client.post("/api/location/locate", json={"scan": scan}).json()["fix"]["building"] == "1"

    import_radio_map(database, survey["train0"], replace=True)
    client.post("/api/location/locate", json={"scan": scan})  # the old positioner answers
    ready(client)
    assert client.post("/api/location/locate", json={"scan": scan}).json()["fix"]["building"] == "0"
    assert client.post("/api/location/tags/BED-1/reports", json=report).status_code == 202
    assert client.get("/api/location/assets/BED-1").json()["building"] == "0"


BAD_INPUTS: list[tuple[Any, int, str]] = [
    (b"{not json", 400, "not valid JSON"),
    ([{"WAP001": -70}], 422, '{"scan"'),
    ({"scan": {"WAP001": -70}, "scans": []}, 422, '{"scan"'),
    ({"scan": {}}, 422, "scan is empty"),
    ({"scan": [-70]}, 422, "scan must be an object"),
    ({"scan": {"WAP001": -130}}, 422, "RSSI -130 dBm is out of range"),
    ({"scan": {"WAP001": 12}}, 422, "RSSI 12 dBm is out of range"),
    ({"scan": {"WAP001": True}}, 422, "must be a number"),
    ({"scan": {"WAP 001": -70}}, 422, "not a valid access point id"),
    ({"scan": {f"AP{i}": -70 for i in range(1025)}}, 422, "1025 access points; at most 1024"),
    ({"scans": []}, 422, "1 to 100 scans"),
    ({"scans": [{"WAP001": -70}] * 101}, 422, "1 to 100 scans"),
    ({"scans": [{"WAP001": -70}, {"WAP001": -200}]}, 422, "scans[1]['WAP001']"),
    ({"scan": {"NOT-AN-AP": -50}}, 422, "hears no access point of the radio map"),
    ({"scans": [{"WAP248": -70}, {"ELSE": -50}]}, 422, "scans[1]: "),
    (b'{"scan": {"WAP001": -70, "x": "' + b"a" * (1024 * 1024) + b'"}}', 413, "larger than"),
]


def test_bad_inputs_get_precise_errors(
    database: Database, survey: dict[str, Path], client: TestClient
) -> None:
    import_radio_map(database, survey["train1"])
    client.app.state.radiomap.refresh(force=True)  # type: ignore[attr-defined]
    ready(client)
    for body, status, message in BAD_INPUTS:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        response = client.post("/api/location/locate", content=content)
        assert response.status_code == status, body if len(content) < 200 else message
        assert message in response.json()["error"]


def hygie(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HYGIE_DATA_DIR": str(data_dir), "HYGIE_MODE": "demo"}
    env.pop("HYGIE_DATABASE_URL", None)
    return subprocess.run([HYGIE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_import_refusal_replace_and_info(survey: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert hygie("migrate", data_dir=data).returncode == 0
    imported = hygie("location", "radiomap-import", str(survey["train1"]), data_dir=data)
    assert imported.returncode == 0, imported.stderr
    assert "b1.csv: 1732 fingerprints" in imported.stdout

    broken = _write(tmp_path / "nofloor.csv", "WAP001,LONGITUDE,LATITUDE", ["-70,1,2"])
    refused = hygie("location", "radiomap-import", str(broken), data_dir=data)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == "Error: nofloor.csv: missing column(s) FLOOR, BUILDINGID"

    args = ("location", "radiomap-import", "--replace", str(survey["train0"]))
    assert "(replaced the previous map)" in hygie(*args, data_dir=data).stdout
    info = orjson.loads(hygie("location", "radiomap-info", data_dir=data).stdout)
    expected = len(read_radio_map(survey["train0"]))
    assert [i["source"] for i in info["imports"]] == ["b0.csv"]
    assert info["fingerprints"] == expected and info["access_points"] == 520
    assert {r["building"] for r in info["levels"]} == {"0"}
    assert sum(r["fingerprints"] for r in info["levels"]) == expected
