"""The keyring: per-patient envelope encryption of document contents and message bodies.

Each patient gets one random 256-bit data key (DEK), created on first encryption and
stored wrapped by the active KEK. Unwrapped DEKs stay in a bounded in-memory cache for a
limited time, so that a key erased by another process stops working here too.

A DEK is created in its own transaction, or, when :meth:`Keyring.encrypt` is given the
caller's write transaction, in that one: the key then commits or rolls back with what it
seals (on SQLite a second writer would wait for the caller forever). Two writers creating
one patient's key at once both end up with the first committed row (``INSERT ... ON
CONFLICT DO NOTHING``, then a read). Only committed keys are cached.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Row, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hygie.db.engine import Database
from hygie.security.crypto import blob
from hygie.security.crypto.errors import DataKeyMismatch, KeyDestroyed, NoDataKey
from hygie.security.crypto.kek import KEY_BYTES, KekSet
from hygie.security.crypto.tables import security_data_key as dk
from hygie.security.crypto.wrapping import unwrap_dek, wrap_dek

log = logging.getLogger(__name__)

_MAX_REF = 128
# dek_id, kek_id and wrapped_dek; both of the latter NULL once the key is destroyed.
_KeyRow = Row[bytes, str | None, bytes | None]


@dataclass(frozen=True)
class _DataKey:
    dek_id: bytes
    cipher: AESGCM
    loaded_at: float

    def __repr__(self) -> str:
        return f"_DataKey(dek_id={self.dek_id.hex()}, cipher=***)"


class Keyring:
    """Encrypts and decrypts one patient's payloads; erases a patient's key."""

    def __init__(
        self,
        db: Database,
        keks: KekSet,
        *,
        cache_size: int = 4096,
        cache_ttl_s: float = 300.0,
    ) -> None:
        if cache_size < 1 or cache_ttl_s <= 0:
            raise ValueError("cache_size must be at least 1 and cache_ttl_s positive")
        self._db = db
        self._keks = keks
        self._cache_size = cache_size
        self._cache_ttl_s = cache_ttl_s
        self._cache: OrderedDict[str, _DataKey] = OrderedDict()
        # Keys created in a caller's transaction, by DEK id, until they are committed: that
        # transaction reads back what it sealed (a blob names its DEK, so no other can use
        # them); they never encrypt anything else, as the transaction may roll back.
        self._pending: OrderedDict[bytes, tuple[str, _DataKey]] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by each erasure, so that a key read just before it is not cached after it.
        self._erasures = 0

    def __repr__(self) -> str:
        return f"Keyring(active_kek={self._keks.active_id!r}, cached_keys={len(self._cache)})"

    def encrypt(
        self, patient_ref: str, plaintext: bytes, *, aad: bytes, conn: Connection | None = None
    ) -> bytes:
        """``plaintext`` sealed under the patient's DEK (created if needed), bound to ``aad``.

        ``conn``, the caller's write transaction, is where a missing DEK is created.
        """
        key = self._data_key(patient_ref, create=True, conn=conn)
        return blob.seal(key.cipher, key.dek_id, patient_ref, plaintext, aad)

    def decrypt(self, patient_ref: str, encrypted: bytes, *, aad: bytes) -> bytes:
        """The plaintext of a blob from :meth:`encrypt` for the same patient and ``aad``."""
        parsed = blob.parse(encrypted)
        try:
            key = self._data_key(patient_ref, create=False)
        except NoDataKey:
            key = self._pending_key(patient_ref, parsed.dek_id)
        if parsed.dek_id != key.dek_id:
            raise DataKeyMismatch(
                f"the blob was encrypted under data key {parsed.dek_id.hex()}, "
                "not this patient's: it belongs to another patient or another database"
            )
        return blob.open_sealed(key.cipher, parsed, patient_ref, aad)

    def ensure_data_key(self, patient_ref: str) -> None:
        """Create the patient's DEK now if they have none yet (and cache it)."""
        self._data_key(patient_ref, create=True)

    def erase_patient_key(self, patient_ref: str) -> bool:
        """Destroy the patient's DEK: every blob encrypted for them becomes unreadable.

        Returns False when there was no live key to destroy. Copies of the database made
        before the erasure still hold the wrapped DEK: retire the KEK that wrapped it after
        the next rotation to make those copies unreadable too.
        """
        _check_ref(patient_ref)
        with self._db.write() as conn:
            if self._db.dialect == "sqlite":
                # Zero the freed bytes of the old row instead of leaving them in the page
                # (the default only in SQLite builds compiled with SQLITE_SECURE_DELETE).
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
            erased = conn.execute(
                update(dk)
                .where(dk.c.patient_ref == patient_ref, dk.c.wrapped_dek.is_not(None))
                .values(wrapped_dek=None, kek_id=None, destroyed_at_us=_now_us())
            ).rowcount
        with self._lock:
            self._cache.pop(patient_ref, None)
            for dek_id in [d for d, (ref, _k) in self._pending.items() if ref == patient_ref]:
                del self._pending[dek_id]
            self._erasures += 1
        if erased:
            log.info("a patient data key was destroyed")
        return bool(erased)

    def _data_key(
        self, patient_ref: str, *, create: bool, conn: Connection | None = None
    ) -> _DataKey:
        _check_ref(patient_ref)
        cached = self._cached(patient_ref)
        if cached is not None:
            return cached
        erasures = self._erasures
        with self._db.read() as committed:
            row = _select(committed, patient_ref)
        if row is None:
            if not create:
                raise NoDataKey("this patient has no data key: nothing was encrypted for them")
            if conn is not None:
                # Not cached: the caller's transaction may still roll the key back.
                key = self._unwrap(patient_ref, self._insert(conn, patient_ref))
                with self._lock:
                    self._pending[key.dek_id] = (patient_ref, key)
                    while len(self._pending) > self._cache_size:
                        self._pending.popitem(last=False)
                return key
            with self._db.write() as own:
                row = self._insert(own, patient_ref)
        return self._remember(patient_ref, self._unwrap(patient_ref, row), erasures)

    def _insert(self, conn: Connection, patient_ref: str) -> _KeyRow:
        """A new DEK for the patient in ``conn``'s transaction, or the one already there."""
        dek_id = secrets.token_bytes(blob.DEK_ID_BYTES)
        dek = secrets.token_bytes(KEY_BYTES)
        kek_id, wrapped = wrap_dek(self._keks, dek, dek_id=dek_id, patient_ref=patient_ref)
        values = {
            "patient_ref": patient_ref,
            "dek_id": dek_id,
            "kek_id": kek_id,
            "wrapped_dek": wrapped,
            "created_at_us": _now_us(),
        }
        insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        # Two writers racing for the same patient: the second waits for the first to commit
        # (PostgreSQL's unique index), inserts nothing, and reads the first one's row.
        conn.execute(
            insert(dk).values(**values).on_conflict_do_nothing(index_elements=["patient_ref"])
        )
        row = _select(conn, patient_ref)
        assert row is not None  # inserted or committed by the other writer
        return row

    def _unwrap(self, patient_ref: str, row: _KeyRow) -> _DataKey:
        dek_id, kek_id, wrapped = row
        if wrapped is None or kek_id is None:
            raise KeyDestroyed(
                "this patient's data key was destroyed (erasure): their encrypted data "
                "cannot be read and nothing new is encrypted for them"
            )
        dek = unwrap_dek(self._keks, wrapped, kek_id=kek_id, dek_id=dek_id, patient_ref=patient_ref)
        return _DataKey(dek_id=dek_id, cipher=AESGCM(dek), loaded_at=time.monotonic())

    def _pending_key(self, patient_ref: str, dek_id: bytes) -> _DataKey:
        with self._lock:
            ref, key = self._pending.get(dek_id, (None, None))
        if key is None or ref != patient_ref:
            raise NoDataKey("this patient has no data key: nothing was encrypted for them")
        return key

    def _cached(self, patient_ref: str) -> _DataKey | None:
        with self._lock:
            key = self._cache.get(patient_ref)
            if key is None:
                return None
            if time.monotonic() - key.loaded_at > self._cache_ttl_s:
                del self._cache[patient_ref]
                return None
            self._cache.move_to_end(patient_ref)
            return key

    def _remember(self, patient_ref: str, key: _DataKey, erasures: int) -> _DataKey:
        with self._lock:
            if erasures != self._erasures:
                return key  # an erasure ran meanwhile: use the key once, do not keep it
            self._cache[patient_ref] = key
            self._cache.move_to_end(patient_ref)
            self._pending.pop(key.dek_id, None)  # committed now
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return key


def _select(conn: Connection, patient_ref: str) -> _KeyRow | None:
    query = select(dk.c.dek_id, dk.c.kek_id, dk.c.wrapped_dek).where(
        dk.c.patient_ref == patient_ref
    )
    return conn.execute(query).one_or_none()


def _check_ref(patient_ref: str) -> None:
    if not patient_ref or len(patient_ref) > _MAX_REF:
        raise ValueError(f"patient_ref must be 1 to {_MAX_REF} characters")


def _now_us() -> int:
    return time.time_ns() // 1000
