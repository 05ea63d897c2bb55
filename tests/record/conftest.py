"""A small clinic in the whole app, for the shared documents (IHE MHD).

Organisation o1 manages patients p1 and p2; Dr Un (dr1) and Dr Trois (dr3) work for o1 and
so care for both; Dr Deux (dr2) works for o2 and cares for neither. Each person is an
account signed in at AAL2: ``clinic.fhir(who)`` is a FhirClient acting as them through the
real enforcement point (as http/caller_fhir gives routes), ``clinic.browser(who)`` a
TestClient carrying their session cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database
from hygie.db.schema import fhir_resource
from hygie.fhir.access import SystemAccess
from hygie.fhir.router import FhirRouter
from hygie.http.caller_fhir import FhirClient
from hygie.security.context import Aal, PrincipalKind
from hygie.security.sessions import SESSION_COOKIE
from tests.apptest import demo_settings, sign_in
from tests.security.app.conftest import rpps_of
from tests.security.app.flows import ORIGIN

PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n"
    b"Compte rendu: angioplastie\n%%EOF\n"
)

PEOPLE: dict[str, tuple[PrincipalKind, str, str | None]] = {
    "p1": (PrincipalKind.PATIENT, "Patient/p1", None),
    "p2": (PrincipalKind.PATIENT, "Patient/p2", None),
    "dr1": (PrincipalKind.PRACTITIONER, "Practitioner/dr1", "Organization/o1"),
    "dr2": (PrincipalKind.PRACTITIONER, "Practitioner/dr2", "Organization/o2"),
    "dr3": (PrincipalKind.PRACTITIONER, "Practitioner/dr3", "Organization/o1"),
}


def _clinic_resources() -> list[dict[str, Any]]:
    managed = {"reference": "Organization/o1"}
    return [
        {"resourceType": "Organization", "id": "o1", "name": "Clinique Une"},
        {"resourceType": "Organization", "id": "o2", "name": "Cabinet Deux"},
        {
            "resourceType": "Practitioner",
            "id": "dr1",
            "name": [{"family": "Un", "given": ["Anne"], "prefix": ["Dr"]}],
        },
        {"resourceType": "Practitioner", "id": "dr2", "name": [{"family": "Deux"}]},
        {"resourceType": "Practitioner", "id": "dr3", "name": [{"family": "Trois"}]},
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "284057505608924"}],
            "name": [{"family": "Martin", "given": ["Alice"]}],
            "gender": "female",
            "birthDate": "1984-05-12",
            "managingOrganization": managed,
        },
        {
            "resourceType": "Patient",
            "id": "p2",
            "name": [{"family": "Durand", "given": ["Bruno"]}],
            "managingOrganization": managed,
        },
    ]


@dataclass
class Clinic:
    app: FastAPI
    database: Database
    cookies: dict[str, str] = field(default_factory=dict)

    def fhir(self, who: str, router: FhirRouter | None = None) -> FhirClient:
        security = self.app.state.security
        ctx = security.sessions.context(
            self.cookies[who], network_zone="internal", source_ip="testclient"
        )
        assert ctx is not None
        guard = security.enforcement.guard(ctx)
        return FhirClient(router or self.app.state.fhir_router, guard)

    def system(self) -> FhirClient:
        return FhirClient(self.app.state.fhir_router, SystemAccess(reason="tests: oracle"))

    def browser(self, who: str) -> TestClient:
        client = TestClient(self.app, base_url=ORIGIN)
        client.cookies.set(SESSION_COOKIE, self.cookies[who])
        client.headers["origin"] = ORIGIN
        return client

    def count(self, resource_type: str) -> int:
        with self.database.read() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(fhir_resource)
                    .where(
                        fhir_resource.c.resource_type == resource_type,
                        fhir_resource.c.deleted.is_(False),
                    )
                ).scalar_one()
            )

    def counts(self) -> tuple[int, int, int]:
        return (self.count("List"), self.count("DocumentReference"), self.count("Binary"))

    def raw(self, resource_type: str, resource_id: str) -> bytes:
        """The row as the database holds it."""
        with self.database.read() as conn:
            content: bytes = conn.execute(
                select(fhir_resource.c.content).where(
                    fhir_resource.c.resource_type == resource_type,
                    fhir_resource.c.id == resource_id,
                )
            ).scalar_one()
        return content


@pytest.fixture
def clinic(database: Database, tmp_path: Path) -> Iterator[Clinic]:
    settings = demo_settings(tmp_path / "data", base_url=ORIGIN)
    app = create_app(settings, database=database)
    store = app.state.security.store
    for resource in _clinic_resources():
        store.update(
            resource["resourceType"],
            resource["id"],
            resource,
            guard=SystemAccess(reason="tests: the clinic"),
        )
    with TestClient(app, base_url=ORIGIN) as client:  # runs the lifespan (the audit sink)
        built = Clinic(app, database)
        for who, (kind, ref, org) in PEOPLE.items():
            extra: dict[str, Any] = {"fhir_ref": ref}
            if kind is PrincipalKind.PRACTITIONER:
                extra.update(
                    organization_ref=org, roles=frozenset({"physician"}), rpps=rpps_of(ref)
                )
            sign_in(client, kind, username=f"{who}.test", aal=Aal.TWO, **extra)
            built.cookies[who] = client.cookies[SESSION_COOKIE]
            client.cookies.clear()
        yield built
