"""The positioner that the running app uses: trained from the stored radio map in a
background thread, and retrained the same way when the stored map changes (an import from
the CLI, in another process, bumps the map's version; requests notice it, at most one
database check every ``check_every_s`` seconds). The old positioner keeps answering while
the new one trains, then is swapped out in one assignment."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from hygie.db.engine import Database
from hygie.location.positioning import Fix, Positioner, RadioMapError
from hygie.location.radiomap.service import load_radio_map, radio_map_version

log = logging.getLogger("hygie.location.radiomap")


class NoRadioMap(Exception):
    """No positioner yet: nothing is imported, or the first training has not finished."""

    def __init__(self, training: bool) -> None:
        super().__init__("the radio map is loading" if training else "no radio map is loaded")
        self.training = training


class LivePositioner:
    def __init__(
        self,
        database: Database,
        *,
        on_first: Callable[[LivePositioner], None] | None = None,
        check_every_s: float = 5.0,
    ) -> None:
        self.database = database
        self.check_every_s = check_every_s
        self._on_first = on_first
        self._lock = threading.Lock()
        self._current: Positioner | None = None
        self._version: int | None = None
        self._trainer: threading.Thread | None = None
        self._checked_at = -math.inf

    @property
    def version(self) -> int | None:
        """The version of the radio map the current positioner was trained on."""
        return self._version

    @property
    def training(self) -> bool:
        trainer = self._trainer
        return trainer is not None and trainer.is_alive()

    def refresh(self, *, force: bool = False) -> None:
        """Start training in the background if the stored map is newer than the current
        positioner's; without ``force``, the database is asked at most every
        ``check_every_s`` seconds."""
        now = time.monotonic()
        with self._lock:
            if self.training or (not force and now < self._checked_at + self.check_every_s):
                return
            self._checked_at = now
        stored = radio_map_version(self.database)
        with self._lock:
            if stored is None or stored == self._version or self.training:
                return
            self._trainer = threading.Thread(
                target=self._train, name="hygie-radiomap-training", daemon=True
            )
            self._trainer.start()

    def wait(self, timeout_s: float) -> bool:
        """Wait for a training in progress; True when a positioner is ready."""
        trainer = self._trainer
        if trainer is not None:
            trainer.join(timeout_s)
        return self._current is not None

    def locate(self, scans: Sequence[Mapping[str, float]]) -> list[Fix]:
        """Locate each scan; NoRadioMap before the first training, RadioMapError naming
        the scan when one has no access point known to the map."""
        current = self._ready()
        fixes = []
        for i, scan in enumerate(scans):
            try:
                fixes.append(current.locate(scan))
            except RadioMapError as exc:
                where = "the scan" if len(scans) == 1 else f"scans[{i}]"
                raise RadioMapError(f"{where}: {exc}") from None
        return fixes

    def locate_many(
        self, rssi: npt.NDArray[np.float64], ap_ids: Sequence[str] | None = None
    ) -> list[Fix]:
        """The engine's batch interface, as asset tracking calls it."""
        return self._ready().locate_many(rssi, ap_ids)

    def _ready(self) -> Positioner:
        self.refresh()
        current = self._current
        if current is None:
            raise NoRadioMap(self.training)
        return current

    def _train(self) -> None:
        started = time.perf_counter()
        try:
            loaded = load_radio_map(self.database)
            if loaded is None:
                return
            version, radio_map = loaded
            positioner = Positioner.fit(radio_map)
        except Exception:
            # a background thread has no caller to tell: log it, keep the old positioner
            log.exception("radio map training failed; the previous positioner stays in use")
            return
        first = self._current is None
        self._current, self._version = positioner, version
        log.info(
            "radio map version %d in use: %d fingerprints, loaded and trained in %.0f ms",
            version,
            len(radio_map),
            (time.perf_counter() - started) * 1000,
        )
        if first and self._on_first is not None:
            self._on_first(self)
