"""Wayfinding use cases over stored venues, with one routing graph cached per venue version."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from hygie.db.engine import Database
from hygie.fhir.errors import FhirError
from hygie.location.venue.errors import UnknownVenue
from hygie.location.venue.service import feature_id_of_location
from hygie.location.venue.storage import list_venues, load_venue, venue_digest
from hygie.location.wayfinding.graph import VenueGraph, build_graph
from hygie.location.wayfinding.places import resolve_destination, resolve_origin
from hygie.location.wayfinding.route import Route, plan_route

if TYPE_CHECKING:
    from hygie.fhir.store import FhirStore


class WayfindingService:
    """Routes on the stored venues. Build one per application; it is safe across threads.

    The graph of a venue is built on first use and kept while the stored archive's digest
    stays the same, so a re-import is picked up by the next request.
    """

    def __init__(self, database: Database, store: FhirStore | None = None) -> None:
        self.database = database
        self.store = store
        self._graphs: dict[str, tuple[str, VenueGraph]] = {}
        self._lock = threading.Lock()

    def default_venue(self) -> str:
        with self.database.read() as conn:
            stored = list_venues(conn)
        if not stored:
            raise UnknownVenue("no venue has been imported")
        return stored[0].venue_id

    def graph(self, venue_id: str | None = None) -> VenueGraph:
        venue_id = venue_id or self.default_venue()
        with self.database.read() as conn:
            digest = venue_digest(conn, venue_id)
            cached = self._graphs.get(venue_id)
            if cached is not None and cached[0] == digest:
                return cached[1]
            archive = load_venue(conn, venue_id)
        graph = build_graph(archive)
        with self._lock:
            self._graphs[venue_id] = (digest, graph)
        return graph

    def location_feature(self, location_id: str) -> str | None:
        if self.store is None:
            return None
        try:
            return feature_id_of_location(self.store, location_id)
        except FhirError:
            return None

    def route(
        self,
        origin: str,
        destination: str,
        *,
        accessible: bool = False,
        venue_id: str | None = None,
    ) -> tuple[VenueGraph, Route]:
        """Raises UnknownVenue, UnknownPlace (bad origin or destination) or NoRoute."""
        graph = self.graph(venue_id)
        target = resolve_destination(graph, destination, self.location_feature)
        start = resolve_origin(graph, origin, self.location_feature)
        return graph, plan_route(graph, start, target, accessible=accessible)
