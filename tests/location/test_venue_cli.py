"""`hygie location venue-export / venue-import` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

HYGIE = str(Path(sys.executable).parent / "hygie")


def hygie(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HYGIE_DATA_DIR": str(data_dir), "HYGIE_MODE": "demo"}
    env.pop("HYGIE_DATABASE_URL", None)
    return subprocess.run([HYGIE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_export_then_import_into_another_installation(tmp_path: Path) -> None:
    assert hygie("demo", data_dir=tmp_path / "a").returncode == 0
    archive = tmp_path / "chu.zip"
    unknown = hygie("location", "venue-export", "nope", str(archive), data_dir=tmp_path / "a")
    assert unknown.returncode == 1 and "no venue 'nope'" in unknown.stderr
    venue_id = unknown.stderr.split("known: ")[1].split(")")[0].split(",")[0]

    exported = hygie("location", "venue-export", venue_id, str(archive), data_dir=tmp_path / "a")
    assert exported.returncode == 0, exported.stderr
    assert "venue.geojson" in zipfile.ZipFile(archive).namelist()

    assert hygie("migrate", data_dir=tmp_path / "b").returncode == 0
    imported = hygie("location", "venue-import", str(archive), data_dir=tmp_path / "b")
    assert imported.returncode == 0, imported.stderr
    assert "CHU Hygie" in imported.stdout and "FHIR Locations" in imported.stdout

    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("manifest.json", "{}")
    refused = hygie("location", "venue-import", str(broken), data_dir=tmp_path / "b")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
