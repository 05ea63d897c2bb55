"""The radio map: WiFi fingerprints (RSSI per access point) taken at known positions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: RSSI readings are dBm in this range; anything outside is a malformed reading.
MIN_RSSI_DBM = -120.0
MAX_RSSI_DBM = 0.0


class RadioMapError(ValueError):
    """A radio map or a scan that cannot be used, with the reason in one line."""


@dataclass(frozen=True, eq=False)
class RadioMap:
    """Fingerprints as plain arrays, one row per scan.

    ``rssi[i, j]`` is the signal of access point ``ap_ids[j]`` in scan ``i`` in dBm,
    or NaN when that access point was not heard. ``x``/``y`` are planar metres in the
    venue's projected coordinate system; ``building`` and ``level`` locate the scan
    vertically.
    """

    ap_ids: tuple[str, ...]
    rssi: FloatArray
    x: FloatArray
    y: FloatArray
    building: tuple[str, ...]
    level: IntArray

    def __post_init__(self) -> None:
        n = self.rssi.shape[0] if self.rssi.ndim == 2 else -1
        if self.rssi.ndim != 2 or self.rssi.shape[1] != len(self.ap_ids):
            raise RadioMapError("rssi must be a matrix with one column per access point")
        if len(set(self.ap_ids)) != len(self.ap_ids):
            raise RadioMapError("access point identifiers must be unique")
        if not (len(self.x) == len(self.y) == len(self.building) == len(self.level) == n):
            raise RadioMapError("rssi, x, y, building and level must have one entry per scan")
        heard = self.rssi[~np.isnan(self.rssi)]
        if heard.size and (heard.min() < MIN_RSSI_DBM or heard.max() > MAX_RSSI_DBM):
            raise RadioMapError(
                f"RSSI values must lie in [{MIN_RSSI_DBM:g}, {MAX_RSSI_DBM:g}] dBm or be NaN"
            )
        if not (np.isfinite(self.x).all() and np.isfinite(self.y).all()):
            raise RadioMapError("coordinates must be finite numbers")

    @classmethod
    def from_fingerprints(
        cls,
        ap_ids: tuple[str, ...] | list[str],
        rssi: npt.ArrayLike,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        building: tuple[str, ...] | list[str],
        level: npt.ArrayLike,
    ) -> RadioMap:
        """Build a radio map from array-likes (e.g. database rows), checking shapes and ranges."""
        return cls(
            ap_ids=tuple(ap_ids),
            rssi=np.asarray(rssi, dtype=np.float64),
            x=np.asarray(x, dtype=np.float64),
            y=np.asarray(y, dtype=np.float64),
            building=tuple(str(b) for b in building),
            level=np.asarray(level, dtype=np.int64),
        )

    def __len__(self) -> int:
        return int(self.rssi.shape[0])

    def subset(self, rows: npt.NDArray[np.bool_] | IntArray) -> RadioMap:
        """The fingerprints selected by a boolean mask or index array."""
        index = np.flatnonzero(rows) if np.asarray(rows).dtype == np.bool_ else np.asarray(rows)
        return RadioMap(
            ap_ids=self.ap_ids,
            rssi=self.rssi[index],
            x=self.x[index],
            y=self.y[index],
            building=tuple(self.building[i] for i in index),
            level=self.level[index],
        )

    def rssi_for(self, ap_ids: tuple[str, ...]) -> FloatArray:
        """RSSI re-ordered to another access point list (NaN where this map has no column)."""
        out = np.full((len(self), len(ap_ids)), np.nan)
        own = {ap: j for j, ap in enumerate(self.ap_ids)}
        pairs = [(i, own[ap]) for i, ap in enumerate(ap_ids) if ap in own]
        if pairs:
            dst, src = (list(p) for p in zip(*pairs, strict=True))
            out[:, dst] = self.rssi[:, src]
        return out
