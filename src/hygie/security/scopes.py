"""SMART App Launch 2 scopes: parsing and matching (scopes-and-launch-context.html).

A clinical scope is ``<context>/<resource type or *>.<permissions>[?param=value&...]`` with
context ``patient``, ``user`` or ``system`` and permissions a subsequence of ``cruds``
(SMART v2). SMART v1's ``.read``, ``.write`` and ``.*`` are read as ``rs``, ``cud`` and
``cruds``. Other scopes (``openid``, ``fhirUser``, ``launch/patient``, ``offline_access`` ...)
are kept as they are and grant no data access.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

PERMISSIONS = "cruds"
CONTEXTS = frozenset({"patient", "user", "system"})
NON_CLINICAL = frozenset(
    {
        "openid",
        "fhirUser",
        "profile",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
    }
)
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_CLINICAL = re.compile(
    r"(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{1,63})"
    r"\.(?P<perms>[cruds]{1,5}|read|write|\*)(?:\?(?P<query>[^\s]+))?"
)
MAX_SCOPES = 100


class InvalidScope(ValueError):
    """A scope string that is not a SMART scope Hygie knows."""


@dataclass(frozen=True, slots=True)
class Scope:
    raw: str
    context: str | None = None  # None for non-clinical scopes
    resource_type: str | None = None  # "*" for all types
    permissions: frozenset[str] = frozenset()  # letters of "cruds"
    constraints: tuple[tuple[str, str], ...] = ()  # ?category=... search restrictions

    @property
    def clinical(self) -> bool:
        return self.context is not None

    def permits(self, context: str, resource_type: str, permission: str) -> bool:
        """Whether this scope allows ``permission`` (one letter of cruds) on the type."""
        return (
            self.context == context
            and self.resource_type in ("*", resource_type)
            and permission in self.permissions
        )


def parse_scope(raw: str) -> Scope:
    if raw in NON_CLINICAL:
        return Scope(raw)
    match = _CLINICAL.fullmatch(raw)
    if match is None:
        raise InvalidScope(f"{raw!r} is not a SMART scope (e.g. patient/Observation.rs)")
    perms = match["perms"]
    letters = _V1.get(perms, perms)
    if letters not in _V1.values() and not _is_ordered_subset(letters):
        raise InvalidScope(f"{raw!r}: permissions must be in the order c, r, u, d, s")
    constraints = tuple(parse_qsl(match["query"] or "", keep_blank_values=False))
    return Scope(raw, match["context"], match["type"], frozenset(letters), constraints)


def parse_scopes(text: str) -> frozenset[Scope]:
    """Parse a space-separated scope parameter; raises :class:`InvalidScope` on any bad one."""
    words = text.split()
    if len(words) > MAX_SCOPES:
        raise InvalidScope(f"at most {MAX_SCOPES} scopes, got {len(words)}")
    return frozenset(parse_scope(word) for word in words)


def format_scopes(scopes: Iterable[Scope]) -> str:
    return " ".join(sorted(scope.raw for scope in scopes))


def permits(scopes: Iterable[Scope], context: str, resource_type: str, permission: str) -> bool:
    """Whether any of the scopes allows the permission; ``context`` is patient, user or system."""
    return any(scope.permits(context, resource_type, permission) for scope in scopes)


def _is_ordered_subset(letters: str) -> bool:
    positions = [PERMISSIONS.find(letter) for letter in letters]
    return -1 not in positions and all(b > a for a, b in itertools.pairwise(positions))
