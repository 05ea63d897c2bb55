"""Reading and writing the stored radio map on a connection (the caller owns the transaction).

Fingerprints are packed sparse, see :mod:`hygie.location.radiomap.tables`; unpacking joins
every row's blobs and scatters them into the dense matrix in one vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, delete, func, insert, select

from hygie.location.positioning import RadioMap
from hygie.location.radiomap.tables import (
    location_radiomap_ap,
    location_radiomap_fingerprint,
    location_radiomap_import,
)

_AP_DTYPE = np.dtype("<u4")
_RSSI_DTYPE = np.dtype("<f4")


@dataclass(frozen=True, slots=True)
class StoredImport:
    seq: int
    source: str
    sha256: str
    fingerprints: int
    imported_at_us: int


def version(conn: Connection) -> int | None:
    """The latest import still in the map (None when the map is empty): any import or
    replacement changes it, since import numbers are never reused."""
    seq = conn.execute(select(func.max(location_radiomap_import.c.seq))).scalar_one()
    return None if seq is None else int(seq)


def imports(conn: Connection) -> list[StoredImport]:
    t = location_radiomap_import
    rows = conn.execute(
        select(t.c.seq, t.c.source, t.c.sha256, t.c.fingerprints, t.c.imported_at_us).order_by(
            t.c.seq
        )
    )
    return [StoredImport(*row) for row in rows]


def clear(conn: Connection) -> None:
    conn.execute(delete(location_radiomap_fingerprint))
    conn.execute(delete(location_radiomap_import))
    conn.execute(delete(location_radiomap_ap))


def add(
    conn: Connection, radio_map: RadioMap, *, source: str, sha256: str, imported_at_us: int
) -> int:
    """Append the fingerprints of ``radio_map`` as one import; return its number."""
    column_of = _ap_columns(conn, radio_map.ap_ids)
    seq = int(
        conn.execute(
            insert(location_radiomap_import)
            .values(
                source=source,
                sha256=sha256,
                fingerprints=len(radio_map),
                imported_at_us=imported_at_us,
            )
            .returning(location_radiomap_import.c.seq)
        ).scalar_one()
    )
    heard = ~np.isnan(radio_map.rssi)
    rows = []
    for i in range(len(radio_map)):
        cols = np.flatnonzero(heard[i])
        rows.append(
            {
                "import_seq": seq,
                "building": radio_map.building[i],
                "level": int(radio_map.level[i]),
                "x": float(radio_map.x[i]),
                "y": float(radio_map.y[i]),
                "aps": column_of[cols].astype(_AP_DTYPE).tobytes(),
                "rssi": radio_map.rssi[i, cols].astype(_RSSI_DTYPE).tobytes(),
            }
        )
    conn.execute(insert(location_radiomap_fingerprint), rows)
    return seq


def load(conn: Connection) -> tuple[int, RadioMap] | None:
    """The whole stored map and its version, read in one snapshot; None when empty."""
    current = version(conn)
    if current is None:
        return None
    ap_rows = conn.execute(
        select(location_radiomap_ap.c.column_no, location_radiomap_ap.c.ap_id).order_by(
            location_radiomap_ap.c.column_no
        )
    ).all()
    ap_ids = [ap_id for _, ap_id in ap_rows]
    if [no for no, _ in ap_rows] != list(range(len(ap_rows))):
        raise ValueError("the stored access point columns are not numbered 0..n-1")
    f = location_radiomap_fingerprint
    rows = conn.execute(
        select(f.c.building, f.c.level, f.c.x, f.c.y, f.c.aps, f.c.rssi).order_by(f.c.seq)
    ).all()
    buildings, levels, xs, ys, aps, rssi = zip(*rows, strict=True) if rows else ((),) * 6
    counts = np.fromiter((len(a) // _AP_DTYPE.itemsize for a in aps), np.int64, len(rows))
    dense = np.full((len(rows), len(ap_ids)), np.nan)
    dense[np.repeat(np.arange(len(rows)), counts), np.frombuffer(b"".join(aps), _AP_DTYPE)] = (
        np.frombuffer(b"".join(rssi), _RSSI_DTYPE)
    )
    return current, RadioMap.from_fingerprints(ap_ids, dense, xs, ys, buildings, levels)


def _ap_columns(conn: Connection, ap_ids: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Stored column numbers of ``ap_ids`` (in that order), adding the access points the
    map does not know yet after the existing ones."""
    t = location_radiomap_ap
    known: dict[str, int] = {ap: no for ap, no in conn.execute(select(t.c.ap_id, t.c.column_no))}
    new = [ap for ap in ap_ids if ap not in known]
    if new:
        start = len(known)
        conn.execute(insert(t), [{"column_no": start + i, "ap_id": ap} for i, ap in enumerate(new)])
        known.update({ap: start + i for i, ap in enumerate(new)})
    return np.array([known[ap] for ap in ap_ids], dtype=np.int64)
