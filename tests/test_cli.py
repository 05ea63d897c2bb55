"""The `hygie` command as an operator uses it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HYGIE = str(Path(sys.executable).parent / "hygie")


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HYGIE_DATA_DIR": str(data_dir), "HYGIE_MODE": "demo"}
    env.pop("HYGIE_DATABASE_URL", None)
    return subprocess.run([HYGIE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "demo", "import"):
        assert command in result.stdout


def test_migrate_is_idempotent_and_creates_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    first = run("migrate", data_dir=tmp_path / "var")
    assert first.returncode == 0, first.stderr
    assert "migrated from empty" in first.stdout
    assert (tmp_path / "var" / "hygie.sqlite3").is_file()
    second = run("migrate", data_dir=tmp_path / "var")
    assert second.returncode == 0 and "already at revision" in second.stdout


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run("serve", "--port", "8999", data_dir=tmp_path)
    assert result.returncode != 0
    assert "hygie migrate" in result.stderr


def test_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "HYGIE_DATA_DIR": str(tmp_path), "HYGIE_DATABASE_URL": "mysql://x@y/z"}
    result = subprocess.run([HYGIE, "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "postgresql:// or sqlite://" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_loads_once_and_import_loads_real_bundles(tmp_path: Path, shared_data: Path) -> None:
    first = run("demo", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "0 already present" in first.stdout
    # The demo accounts, each with its TOTP secret, are printed and kept for `serve`.
    listing = (tmp_path / "demo-accounts.txt").read_text()
    assert listing.startswith("Comptes de démonstration (mot de passe : Hygie-Demo-2026!)")
    for name in ("demo.patiente", "demo.cardiologue", "demo.rssi"):
        line = next(line for line in listing.splitlines() if line.startswith(name))
        assert re.fullmatch(r"TOTP [A-Z2-7]{32}", line.split("  ")[-1].strip())
        assert line in first.stdout
    assert (tmp_path / "demo-accounts.txt").stat().st_mode & 0o077 == 0
    second = run("demo", data_dir=tmp_path)
    assert second.returncode == 0 and " 0 resources created" in second.stdout
    assert (tmp_path / "demo-accounts.txt").read_text() == listing  # secrets kept
    bundle = next((shared_data / "fhir" / "synthea-r4").glob("smart_Clemente*.json"))
    imported = run("import", str(bundle), data_dir=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "transaction-response: 70 x 201 Created" in imported.stdout
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Patient", "birthDate": "demain"}')
    refused = run("import", str(broken), data_dir=tmp_path)
    assert refused.returncode == 1 and "refused" in refused.stderr


def test_demo_refuses_production_mode(tmp_path: Path) -> None:
    env = {**os.environ, "HYGIE_DATA_DIR": str(tmp_path), "HYGIE_MODE": "production"}
    env.pop("HYGIE_DATABASE_URL", None)
    result = subprocess.run([HYGIE, "demo"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "HYGIE_MODE=demo" in result.stderr and "Traceback" not in result.stderr
