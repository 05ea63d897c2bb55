"""Helpers of the policy tests (no tests here): request contexts for each kind of caller."""

from __future__ import annotations

from hygie.security.context import Aal, Principal, PrincipalKind, RequestContext
from hygie.security.scopes import parse_scopes

NOW = 1_800_000_000

PATIENT = Principal(PrincipalKind.PATIENT, "acc-p1", "Alice", fhir_ref="Patient/p1")
DOCTOR = Principal(
    PrincipalKind.PRACTITIONER,
    "acc-d1",
    "Dr Martin",
    fhir_ref="Practitioner/d1",
    organization_ref="Organization/chu",
    roles=frozenset({"physician"}),
)
OFFICER = Principal(PrincipalKind.ADMIN, "acc-a1", "Officer", roles=frozenset({"security-officer"}))
IT_ADMIN = Principal(PrincipalKind.ADMIN, "acc-a2", "IT", roles=frozenset({"it-admin"}))
BACKEND = Principal(PrincipalKind.CLIENT, "lab-sync")
TAG = Principal(PrincipalKind.DEVICE, "tag-7", fhir_ref="Device/tag-7")


def context(
    principal: Principal,
    *,
    scopes: str = "",
    aal: Aal = Aal.TWO,
    auth_age: int = 10,
    zone: str = "internal",
    launch_patient: str | None = None,
    posture: str | None = None,
) -> RequestContext:
    return RequestContext(
        principal=principal,
        aal=aal,
        auth_time=NOW - auth_age,
        network_zone=zone,
        client_id="hygie-web",
        scopes=parse_scopes(scopes),
        launch_patient=launch_patient,
        device_posture=posture,
    )


def patient(**kwargs: object) -> RequestContext:
    return context(PATIENT, scopes="patient/*.cruds", launch_patient="Patient/p1", **kwargs)  # type: ignore[arg-type]


def doctor(**kwargs: object) -> RequestContext:
    kwargs.setdefault("scopes", "user/*.cruds")
    return context(DOCTOR, **kwargs)  # type: ignore[arg-type]
