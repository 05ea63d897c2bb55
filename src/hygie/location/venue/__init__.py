"""Venue maps: IMDF archives imported, validated, stored, exported and linked to FHIR Locations.

Public interface: :func:`import_venue`, :func:`export_venue`, :func:`read_venue`,
:func:`venues`, :func:`load_demo_venue`, :class:`ImdfArchive`, :class:`ImdfError`.
"""

from hygie.location.venue.demo import load_demo_venue
from hygie.location.venue.errors import ImdfError, ImdfProblem, UnknownVenue
from hygie.location.venue.model import ImdfArchive
from hygie.location.venue.service import (
    ImportResult,
    export_venue,
    import_venue,
    read_venue,
    venues,
)

__all__ = [
    "ImdfArchive",
    "ImdfError",
    "ImdfProblem",
    "ImportResult",
    "UnknownVenue",
    "export_venue",
    "import_venue",
    "load_demo_venue",
    "read_venue",
    "venues",
]
