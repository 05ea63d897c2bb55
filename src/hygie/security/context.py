"""The typed, frozen request context: who is calling, how strongly, from where, for what.

The web edge builds one per request (session cookie for pages, bearer or DPoP token for
APIs); every decision downstream reads it and nothing else. It never changes once built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from hygie.security.scopes import Scope


class PrincipalKind(StrEnum):
    PATIENT = "patient"
    PRACTITIONER = "practitioner"  # any health professional (RPPS-style identifier)
    ADMIN = "admin"  # security officer or IT admin: no access to health data by role alone
    CLIENT = "client"  # a backend service (client_credentials), acting for itself
    DEVICE = "device"  # a connected device or tag
    SYSTEM = "system"  # Hygie itself, for a named reason in a listed module


class Aal(IntEnum):
    """NIST SP 800-63B authenticator assurance level reached in the current session."""

    NONE = 0
    ONE = 1  # one factor (password, client secret)
    TWO = 2  # two factors (password + TOTP or passkey), or a passkey with user verification


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: str  # account id, client id or device id: stable, never reused
    display: str = ""
    fhir_ref: str | None = None  # "Patient/p1", "Practitioner/pr1": the FHIR person it is
    organization_ref: str | None = None  # "Organization/o1" for professionals
    roles: frozenset[str] = frozenset()  # "physician", "nurse", "security-officer", "it-admin"


@dataclass(frozen=True, slots=True)
class RequestContext:
    principal: Principal
    aal: Aal
    auth_time: int  # epoch seconds of the last authentication (second factor included)
    network_zone: str  # a configured zone name: "internal", "vpn", "internet"
    source_ip: str = ""
    client_id: str | None = None  # the OAuth client (app) the call comes through
    # Granted SMART scopes. A page session carries its role's (patient/*.cruds for a patient,
    # user/*.cruds for a professional); an empty set permits no data access at all.
    scopes: frozenset[Scope] = frozenset()
    launch_patient: str | None = None  # "Patient/p1": SMART launch context
    device_posture: str | None = None  # "compliant", "unknown", "quarantined"
    purpose_of_use: str = "TREAT"  # v3 ActReason: TREAT, ETREAT (emergency), PATRQT ...
    break_glass: bool = False  # the caller invoked break-the-glass for this request
    session_id: str | None = None
    token_id: str | None = None  # the access token's jti
    request_id: str = field(default="")

    def auth_age(self, now: int) -> int:
        """Seconds since the last authentication."""
        return max(0, now - self.auth_time)
