"""KEK rotation and key status.

Rotation rewraps, batch by batch, every live DEK that is not yet under the active KEK.
Each batch is its own short transaction, so readers and writers keep going; during the
rotation the key file holds the old and the new KEK, so every DEK unwraps whichever it is
under. An interrupted rotation is finished by running it again. The DEKs themselves do
not change, so no payload is re-encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select, update

from hygie.db.engine import Database
from hygie.security.crypto.kek import KekSet
from hygie.security.crypto.tables import security_data_key as dk
from hygie.security.crypto.wrapping import unwrap_dek, wrap_dek


@dataclass(frozen=True)
class RotationReport:
    active_kek: str
    rewrapped: int
    batches: int
    under_active: int  # live DEKs under the active KEK once done


@dataclass(frozen=True)
class KeyStatus:
    active_kek: str
    loaded_keks: tuple[str, ...]
    deks_by_kek: dict[str, int] = field(default_factory=dict)
    destroyed: int = 0

    @property
    def missing_keks(self) -> tuple[str, ...]:
        """KEK ids that wrap DEKs but are not loaded: those DEKs cannot be read here."""
        return tuple(sorted(set(self.deks_by_kek) - set(self.loaded_keks)))


def rotate(db: Database, keks: KekSet, *, batch_size: int = 500) -> RotationReport:
    """Rewrap every live DEK under ``keks.active_id``; returns the counts."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    rewrapped = batches = 0
    last_seq = 0
    while True:
        with db.write() as conn:
            rows = conn.execute(
                select(dk.c.seq, dk.c.patient_ref, dk.c.dek_id, dk.c.kek_id, dk.c.wrapped_dek)
                .where(
                    dk.c.seq > last_seq,
                    dk.c.kek_id != keks.active_id,
                    dk.c.wrapped_dek.is_not(None),
                )
                .order_by(dk.c.seq)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            changes = []
            for seq, patient_ref, dek_id, kek_id, wrapped in rows:
                dek = unwrap_dek(
                    keks, wrapped, kek_id=kek_id, dek_id=dek_id, patient_ref=patient_ref
                )
                new_kek, new_wrapped = wrap_dek(keks, dek, dek_id=dek_id, patient_ref=patient_ref)
                changes.append(
                    {"b_seq": seq, "b_old": kek_id, "b_kek": new_kek, "b_w": new_wrapped}
                )
            # Only rows still as read: an erasure or another rotation in between wins.
            conn.execute(
                update(dk)
                .where(dk.c.seq == bindparam("b_seq"), dk.c.kek_id == bindparam("b_old"))
                .values(kek_id=bindparam("b_kek"), wrapped_dek=bindparam("b_w")),
                changes,
            )
        rewrapped += len(rows)
        batches += 1
        last_seq = rows[-1].seq
    with db.read() as conn:
        under_active = conn.execute(
            select(func.count()).select_from(dk).where(dk.c.kek_id == keks.active_id)
        ).scalar_one()
    return RotationReport(
        active_kek=keks.active_id, rewrapped=rewrapped, batches=batches, under_active=under_active
    )


def key_status(db: Database, keks: KekSet) -> KeyStatus:
    with db.read() as conn:
        counts = conn.execute(select(dk.c.kek_id, func.count()).group_by(dk.c.kek_id)).all()
    by_kek = {kek_id: n for kek_id, n in counts if kek_id is not None}
    destroyed = sum(n for kek_id, n in counts if kek_id is None)
    return KeyStatus(
        active_kek=keks.active_id,
        loaded_keks=keks.ids,
        deks_by_kek=by_kek,
        destroyed=destroyed,
    )
