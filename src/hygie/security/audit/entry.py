"""One audit entry: a typed, frozen record and its canonical bytes (the Merkle leaf).

The leaf is sorted-key JSON (orjson) with every field present and the entry's own index,
so one entry at one place has exactly one serialisation: :func:`from_leaf` refuses anything
that would not serialise back to the same bytes, and ``hygie audit verify`` names an entry
moved to another index (rows swapped) by the index it carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from hygie.security.audit.errors import InvalidEntry

LEAF_VERSION = 1

# The families of actions the log knows; each maps to an AuditEvent type (fhir_event.py).
ACTION_FAMILIES = frozenset(
    {"fhir", "auth", "token", "consent", "admin", "audit", "location", "web"}
)
_ACTION = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+")
_REFERENCE = re.compile(r"[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}")
MAX_TEXT = 1000


class Outcome(StrEnum):
    PERMIT = "permit"
    DENY = "deny"
    SUCCESS = "success"
    FAILURE = "failure"


class ActorKind(StrEnum):
    PATIENT = "patient"
    PRACTITIONER = "practitioner"
    RELATED_PERSON = "related-person"
    USER = "user"  # an account not (yet) linked to a FHIR person
    APP = "app"
    DEVICE = "device"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: ``id`` is a FHIR reference (``Practitioner/12``) or an account/client id."""

    kind: ActorKind
    id: str
    display: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ActorKind(self.kind))
        _check_token("actor.id", self.id)
        _check_text("actor.display", self.display)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One decision or security event. ``time`` must be timezone-aware; it is kept in UTC."""

    time: datetime
    actor: Actor
    action: str  # family.verb: "fhir.read", "auth.signin", "token.issue", "admin.user.lock"
    outcome: Outcome
    policy_id: str | None = None  # the deciding policy, for permits and denials alike
    resource: str | None = None  # "Observation/42"
    patient: str | None = None  # "Patient/7": whose access history lists this entry
    client_id: str | None = None  # the OAuth client / app used
    network_zone: str | None = None
    purpose_of_use: str | None = None  # v3 ActReason code, e.g. "TREAT"
    break_glass: bool = False
    reason: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.time, datetime) or self.time.utcoffset() is None:
            raise InvalidEntry("time must be a timezone-aware datetime")
        object.__setattr__(self, "time", self.time.astimezone(UTC))
        if not isinstance(self.actor, Actor):
            raise InvalidEntry("actor must be an Actor")
        if not _ACTION.fullmatch(self.action) or self.family not in ACTION_FAMILIES:
            raise InvalidEntry(
                f"action {self.action!r} must be family.verb with a family among "
                f"{', '.join(sorted(ACTION_FAMILIES))}"
            )
        try:
            object.__setattr__(self, "outcome", Outcome(self.outcome))
        except ValueError:
            raise InvalidEntry(
                f"outcome {self.outcome!r} is not one of permit, deny, success, failure"
            ) from None
        for name in ("resource", "patient"):
            value = getattr(self, name)
            if value is not None and not _REFERENCE.fullmatch(value):
                raise InvalidEntry(f"{name} must be a FHIR reference Type/id, got {value!r}")
        if self.patient is not None and not self.patient.startswith("Patient/"):
            raise InvalidEntry(f"patient must reference a Patient, got {self.patient!r}")
        for name in ("policy_id", "client_id", "network_zone", "purpose_of_use"):
            value = getattr(self, name)
            if value is not None:
                _check_token(name, value)
        if not isinstance(self.break_glass, bool):
            raise InvalidEntry("break_glass must be true or false")
        if self.reason is not None:
            _check_text("reason", self.reason)

    @property
    def family(self) -> str:
        return self.action.split(".", 1)[0]


def to_leaf(entry: AuditEntry, index: int) -> bytes:
    """The canonical bytes of ``entry`` appended at ``index``: the Merkle leaf."""
    return orjson.dumps({**_as_dict(entry), "index": index}, option=orjson.OPT_SORT_KEYS)


def from_leaf(leaf: bytes) -> tuple[int, AuditEntry]:
    """Parse a stored leaf into (index, entry); :class:`InvalidEntry` unless canonical."""
    try:
        data = orjson.loads(leaf)
        if not isinstance(data, dict) or data.get("v") != LEAF_VERSION:
            raise InvalidEntry("not a version 1 audit leaf")
        actor = data["actor"]
        entry = AuditEntry(
            time=datetime.fromisoformat(data["time"]),
            actor=Actor(ActorKind(actor["kind"]), actor["id"], actor["display"]),
            action=data["action"],
            outcome=Outcome(data["outcome"]),
            policy_id=data["policy_id"],
            resource=data["resource"],
            patient=data["patient"],
            client_id=data["client_id"],
            network_zone=data["network_zone"],
            purpose_of_use=data["purpose_of_use"],
            break_glass=data["break_glass"],
            reason=data["reason"],
        )
        index = data["index"]
        if type(index) is not int:
            raise InvalidEntry("the leaf's index is not an integer")
    except InvalidEntry:
        raise
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidEntry(f"not an audit leaf: {type(exc).__name__}") from None
    if to_leaf(entry, index) != leaf:
        raise InvalidEntry("the leaf is not in canonical form")
    return index, entry


def format_time(moment: datetime) -> str:
    """UTC instant with microseconds and a Z: the leaf's and the AuditEvent's time format
    (``isoformat`` writes what ``%Y-%m-%dT%H:%M:%S.%f`` would, several times faster)."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds") + "Z"


def _as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "v": LEAF_VERSION,
        "time": format_time(entry.time),
        "actor": {
            "kind": entry.actor.kind.value,
            "id": entry.actor.id,
            "display": entry.actor.display,
        },
        "action": entry.action,
        "outcome": entry.outcome.value,
        "policy_id": entry.policy_id,
        "resource": entry.resource,
        "patient": entry.patient,
        "client_id": entry.client_id,
        "network_zone": entry.network_zone,
        "purpose_of_use": entry.purpose_of_use,
        "break_glass": entry.break_glass,
        "reason": entry.reason,
    }


def _check_token(name: str, value: object) -> None:
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise InvalidEntry(f"{name} must be 1-200 letters, digits or . _ : / @ + -, got {value!r}")


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidEntry(f"{name} must be text of at most {MAX_TEXT} characters")
