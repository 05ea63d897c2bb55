"""Loading key-encryption keys: the key file, the environment, the generated demo file."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from hygie.security.crypto import KekConfigError, KekSet, add_kek, load_keks


def write_key_file(path: Path, keys: dict[str, bytes], active: str, mode: int = 0o600) -> Path:
    encoded = {kek_id: base64.b64encode(key).decode() for kek_id, key in keys.items()}
    path.write_text(json.dumps({"active": active, "keys": encoded}))
    path.chmod(mode)
    return path


def test_a_private_key_file_loads_every_key_and_the_active_one(tmp_path: Path) -> None:
    old, new = os.urandom(32), os.urandom(32)
    path = write_key_file(tmp_path / "kek.json", {"kek-old": old, "kek-new": new}, "kek-new")
    keks = load_keks({"HYGIE_KEK_FILE": str(path)}, data_dir=tmp_path, allow_generate=False)
    assert keks.active_id == "kek-new" and keks.active_key == new
    assert keks.keys == {"kek-old": old, "kek-new": new}
    shown = repr(keks)
    assert "kek-new" in shown
    assert base64.b64encode(new).decode() not in shown and str(new) not in shown


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_key_file(tmp_path / "kek.json", {"k1": os.urandom(32)}, "k1", mode)
    with pytest.raises(KekConfigError, match="accessible by group or others") as error:
        load_keks({"HYGIE_KEK_FILE": str(path)}, data_dir=tmp_path, allow_generate=True)
    assert f"{mode:04o}" in str(error.value) and "chmod 600" in str(error.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "is not JSON"),
        ('{"keys": {}}', "must hold"),
        ('{"active": "k2", "keys": {"k1": "%s"}}', "active KEK 'k2' is not in keys"),
        ('{"active": "k1", "keys": {"k1": "c2hvcnQ="}}', "must be 32 random bytes"),
        ('{"active": "k1", "keys": {"k1": "***not base64***"}}', "not valid base64"),
        ('{"active": "a b", "keys": {"a b": "%s"}}', "letters, digits"),
    ],
)
def test_a_malformed_key_file_is_a_precise_error(tmp_path: Path, content: str, words: str) -> None:
    good = base64.b64encode(os.urandom(32)).decode()
    path = tmp_path / "kek.json"
    path.write_text(content.replace("%s", good))
    path.chmod(0o600)
    with pytest.raises(KekConfigError, match=words) as error:
        load_keks({"HYGIE_KEK_FILE": str(path)}, data_dir=tmp_path, allow_generate=False)
    assert good not in str(error.value)


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(KekConfigError, match=f"HYGIE_KEK_FILE {missing}: No such file"):
        load_keks({"HYGIE_KEK_FILE": str(missing)}, data_dir=tmp_path, allow_generate=True)


def test_one_key_from_the_environment_gets_a_stable_id_from_its_fingerprint(
    tmp_path: Path,
) -> None:
    key = os.urandom(32)
    env = {"HYGIE_KEK": base64.b64encode(key).decode()}
    first = load_keks(env, data_dir=tmp_path, allow_generate=False)
    again = load_keks(env, data_dir=tmp_path, allow_generate=False)
    other = load_keks(
        {"HYGIE_KEK": base64.b64encode(os.urandom(32)).decode()},
        data_dir=tmp_path,
        allow_generate=False,
    )
    assert first.active_key == key and first.active_id == again.active_id
    assert first.active_id.startswith("env-") and first.active_id != other.active_id
    assert not (tmp_path / "keys").exists()


def test_the_two_sources_at_once_are_refused(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "kek.json", {"k1": os.urandom(32)}, "k1")
    env = {"HYGIE_KEK_FILE": str(path), "HYGIE_KEK": base64.b64encode(os.urandom(32)).decode()}
    with pytest.raises(KekConfigError, match="not both"):
        load_keks(env, data_dir=tmp_path, allow_generate=True)


def test_production_refuses_to_start_without_a_kek(tmp_path: Path) -> None:
    with pytest.raises(KekConfigError, match="no key-encryption key: set HYGIE_KEK_FILE"):
        load_keks({}, data_dir=tmp_path, allow_generate=False)
    assert not (tmp_path / "keys").exists()


def test_demo_mode_generates_a_private_key_file_once(tmp_path: Path) -> None:
    results: list[KekSet] = []
    start = threading.Barrier(4)

    def load() -> None:
        start.wait()
        results.append(load_keks({}, data_dir=tmp_path, allow_generate=True))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    key_file = tmp_path / "keys" / "kek.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert len({keks.active_key for keks in results}) == 1 and len(results) == 4
    assert [p.name for p in key_file.parent.iterdir()] == ["kek.json"]  # no staging left over
    assert load_keks({}, data_dir=tmp_path, allow_generate=True) == results[0]


def test_add_kek_makes_a_new_active_key_and_keeps_the_old_ones(tmp_path: Path) -> None:
    old = os.urandom(32)
    path = write_key_file(tmp_path / "kek.json", {"kek-1": old}, "kek-1")
    assert add_kek(path, "kek-2") == "kek-2"
    keks = load_keks({"HYGIE_KEK_FILE": str(path)}, data_dir=tmp_path, allow_generate=False)
    assert keks.active_id == "kek-2" and keks.keys["kek-1"] == old
    assert len(keks.keys["kek-2"]) == 32 and keks.keys["kek-2"] != old
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(KekConfigError, match="already has a KEK 'kek-2'"):
        add_kek(path, "kek-2")
    assert load_keks({"HYGIE_KEK_FILE": str(path)}, data_dir=tmp_path, allow_generate=False) == keks
