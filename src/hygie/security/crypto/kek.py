"""Key-encryption keys (KEKs): loaded from a file or the environment, never from the database.

Sources, in order:

- ``HYGIE_KEK_FILE``: a JSON file ``{"active": ID, "keys": {ID: BASE64_32_BYTES, ...}}``
  that only its owner may read (mode 0600 or stricter). Several keys coexist during a
  rotation: the active one wraps new data keys, the others still unwrap old ones.
- ``HYGIE_KEK``: one base64 key, for containers; its id is derived from the key itself.
- Neither, with ``allow_generate`` (demo and development): ``DATA_DIR/keys/kek.json`` is
  created with mode 0600 on first use and read afterwards. Without ``allow_generate``
  (production) a missing KEK is an error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hygie.security.crypto.errors import KekConfigError
from hygie.security.keyfiles import create_exclusive, write_private

KEY_BYTES = 32
_KEK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class KekSet:
    """The loaded KEKs by id and the id of the active one. The repr shows ids only."""

    active_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise KekConfigError(f"the active KEK {self.active_id!r} is not among the keys")

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active_id]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.keys))


def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def load_keks(
    env: Mapping[str, str] | None = None, *, data_dir: Path, allow_generate: bool
) -> KekSet:
    """The KEKs from ``HYGIE_KEK_FILE`` or ``HYGIE_KEK``, else the generated development file."""
    env = os.environ if env is None else env
    file_name = env.get("HYGIE_KEK_FILE", "")
    inline = env.get("HYGIE_KEK", "")
    if file_name and inline:
        raise KekConfigError("set HYGIE_KEK_FILE or HYGIE_KEK, not both")
    if file_name:
        return read_kek_file(Path(file_name))
    if inline:
        key = _decode_key(inline, "HYGIE_KEK")
        return KekSet(active_id=_derived_id(key), keys={_derived_id(key): key})
    dev_file = data_dir / "keys" / "kek.json"
    if not allow_generate:
        raise KekConfigError(
            "no key-encryption key: set HYGIE_KEK_FILE (a 0600 JSON key file) or HYGIE_KEK "
            f"(base64, 32 bytes); a demo's generated key file is {dev_file}"
        )
    if not dev_file.exists():
        dev_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_id = new_kek_id()
        create_exclusive(dev_file, _dump(key_id, {key_id: generate_key()}))
    return read_kek_file(dev_file)


def read_kek_file(path: Path) -> KekSet:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise KekConfigError(f"HYGIE_KEK_FILE {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise KekConfigError(
            f"HYGIE_KEK_FILE {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
        )
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise KekConfigError(f"HYGIE_KEK_FILE {path}: {exc.strerror}") from None
    except ValueError:
        raise KekConfigError(f"HYGIE_KEK_FILE {path} is not JSON") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    active = document.get("active") if isinstance(document, dict) else None
    if not isinstance(keys, dict) or not keys or not isinstance(active, str):
        raise KekConfigError(
            f'HYGIE_KEK_FILE {path} must hold {{"active": ID, "keys": {{ID: BASE64, ...}}}}'
        )
    decoded: dict[str, bytes] = {}
    for key_id, value in keys.items():
        if not _KEK_ID.fullmatch(key_id):
            raise KekConfigError(
                f"HYGIE_KEK_FILE {path}: KEK id {key_id!r} must be 1-64 letters, digits, . _ -"
            )
        decoded[key_id] = _decode_key(value, f"HYGIE_KEK_FILE {path}: key {key_id!r}")
    if active not in decoded:
        raise KekConfigError(f"HYGIE_KEK_FILE {path}: the active KEK {active!r} is not in keys")
    return KekSet(active_id=active, keys=decoded)


def add_kek(path: Path, key_id: str | None = None) -> str:
    """Add a fresh key to the KEK file at ``path`` and make it active; returns its id."""
    current = read_kek_file(path)
    key_id = key_id or new_kek_id()
    if not _KEK_ID.fullmatch(key_id):
        raise KekConfigError(f"KEK id {key_id!r} must be 1-64 letters, digits, . _ -")
    if key_id in current.keys:
        raise KekConfigError(f"HYGIE_KEK_FILE {path} already has a KEK {key_id!r}")
    content = _dump(key_id, {**current.keys, key_id: generate_key()})
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    write_private(staging, content)
    os.replace(staging, path)  # atomic: a reader sees the old file or the new one
    return key_id


def new_kek_id() -> str:
    return "kek-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def _derived_id(key: bytes) -> str:
    # A short fingerprint names a lone key without revealing anything usable about it.
    return "env-" + hashlib.sha256(b"hygie kek id\x00" + key).hexdigest()[:16]


def _decode_key(value: object, where: str) -> bytes:
    if isinstance(value, str):
        try:
            key = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KekConfigError(f"{where} is not valid base64") from None
        if len(key) == KEY_BYTES:
            return key
    raise KekConfigError(f"{where} must be {KEY_BYTES} random bytes in base64")


def _dump(active: str, keys: Mapping[str, bytes]) -> bytes:
    encoded = {key_id: base64.b64encode(key).decode() for key_id, key in keys.items()}
    return json.dumps({"active": active, "keys": encoded}, indent=2).encode() + b"\n"
