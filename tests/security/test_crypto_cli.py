"""`hygie keys` as an operator runs it: status, a new KEK, rotation, clear refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner, Result

from hygie.config import Settings
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.security.crypto import Keyring, load_keks
from hygie.security.crypto.cli import keys


def invoke(data_dir: Path, key_file: Path, *args: str) -> Result:
    env = {
        "HYGIE_DATA_DIR": str(data_dir),
        "HYGIE_DATABASE_URL": "",
        "HYGIE_KEK_FILE": str(key_file),
        "HYGIE_KEK": "",
    }
    return CliRunner().invoke(keys, list(args), env=env)


def test_new_kek_then_rotate_moves_every_data_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    keks = load_keks({}, data_dir=data_dir, allow_generate=True)  # what a demo generated
    key_file = data_dir / "keys" / "kek.json"
    db = Database(make_engine(Settings.from_env({"HYGIE_DATA_DIR": str(data_dir)}).sqlalchemy_url))
    try:
        upgrade(db.engine)
        keyring = Keyring(db, keks)
        blobs = {f"Patient/{n}": keyring.encrypt(f"Patient/{n}", b"note", aad=b"x") for n in "abc"}
    finally:
        db.dispose()

    status = invoke(data_dir, key_file, "status")
    assert status.exit_code == 0, status.output
    assert f"active KEK: {keks.active_id}" in status.output
    assert f"data keys under {keks.active_id}: 3" in status.output

    added = invoke(data_dir, key_file, "new-kek", "--id", "kek-2027-01")
    assert added.exit_code == 0, added.output
    assert json.loads(key_file.read_text())["active"] == "kek-2027-01"

    rotated = invoke(data_dir, key_file, "rotate", "--batch-size", "2")
    assert rotated.exit_code == 0, rotated.output
    assert "rewrapped 3 data keys in 2 batches; 3 data keys now under kek-2027-01" in rotated.output
    status = invoke(data_dir, key_file, "status")
    assert "data keys under kek-2027-01: 3" in status.output
    assert f"data keys under {keks.active_id}: 0" in status.output
    assert "NOT LOADED" not in status.output

    db = Database(make_engine(f"sqlite:///{data_dir / 'hygie.sqlite3'}"))
    try:
        reader = Keyring(
            db,
            load_keks({"HYGIE_KEK_FILE": str(key_file)}, data_dir=data_dir, allow_generate=False),
        )
        assert all(reader.decrypt(ref, blob, aad=b"x") == b"note" for ref, blob in blobs.items())
    finally:
        db.dispose()


def test_an_unsafe_key_file_is_refused_without_a_traceback(tmp_path: Path) -> None:
    key_file = tmp_path / "kek.json"
    key_file.write_text(json.dumps({"active": "k", "keys": {"k": "A" * 44}}))
    key_file.chmod(0o644)
    for command in ("status", "rotate", "new-kek"):
        result = invoke(tmp_path, key_file, command)
        assert result.exit_code == 1
        assert "accessible by group or others" in result.output
        assert "Traceback" not in result.output
    assert json.loads(key_file.read_text())["keys"] == {"k": "A" * 44}  # unchanged
    assert not os.path.exists(tmp_path / "hygie.sqlite3")


def test_an_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    key_file = tmp_path / "kek.json"
    key_file.write_text(json.dumps({"active": "k", "keys": {"k": "A" * 43 + "="}}))
    key_file.chmod(0o600)
    for command in ("status", "rotate"):
        result = invoke(tmp_path, key_file, command)
        assert result.exit_code == 1
        assert "run `hygie migrate` first" in result.output
