"""The whole Hygie app in demo mode, reached over HTTP as real clients would.

A small hospital: organisations o1 and o2; patient p1 (Alice) is managed by o1, p2 by o2.
Dr Un (dr1) and Dr Trois (dr3) work for o1, so they care for p1; Dr Deux (dr2) works for o2
and has no care relationship with p1. doc-a is a DocumentReference of p1 written by dr3.
Each person gets their own TestClient on the same app, so cookies never mix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database
from hygie.fhir.access import SystemAccess
from hygie.fhir.reads import ReadService
from hygie.security.accounts import Account
from hygie.security.accounts.identity import rpps_is_valid
from hygie.security.context import Aal, PrincipalKind
from hygie.security.services import Security
from tests.apptest import demo_settings, sign_in
from tests.security.app.flows import ORIGIN, PASSWORD


def ref(value: str) -> dict[str, str]:
    return {"reference": value}


def observation(oid: str, patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": ref(patient),
        "valueQuantity": {"value": 72, "unit": "/min"},
    }


def document(did: str, patient: str, author: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": did,
        "status": "current",
        "subject": ref(patient),
        "author": [ref(author)],
        "content": [{"attachment": {"contentType": "text/plain", "title": did}}],
    }


HOSPITAL: list[dict[str, Any]] = [
    {"resourceType": "Organization", "id": "o1", "name": "Clinique Une"},
    {"resourceType": "Organization", "id": "o2", "name": "Cabinet Deux"},
    *(
        {"resourceType": "Practitioner", "id": dr, "name": [{"family": dr}]}
        for dr in ("dr1", "dr2", "dr3")
    ),
    {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "Martin", "given": ["Alice"]}],
        "managingOrganization": ref("Organization/o1"),
    },
    {
        "resourceType": "Patient",
        "id": "p2",
        "name": [{"family": "Durand", "given": ["Bruno"]}],
        "managingOrganization": ref("Organization/o2"),
    },
    observation("obs-p1", "Patient/p1"),
    observation("obs-p2", "Patient/p2"),
    document("doc-a", "Patient/p1", "Practitioner/dr3"),
    document("doc-b", "Patient/p1", "Practitioner/dr1"),
]


def rpps_of(fhir_ref: str) -> str:
    """A valid RPPS number (10 digits and their Luhn check digit), one per professional."""
    body = f"1{sum(map(ord, fhir_ref)):09d}"
    for check in "0123456789":
        if rpps_is_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


@dataclass
class Hospital:
    """The running app and a way to open a browser (a TestClient) on it."""

    app: FastAPI
    data_dir: Path

    @property
    def security(self) -> Security:
        security: Security = self.app.state.security
        return security

    def client(self) -> TestClient:
        return TestClient(self.app, base_url=ORIGIN)

    def signed_in(
        self, kind: PrincipalKind, username: str, *, aal: Aal = Aal.TWO, **account: Any
    ) -> tuple[TestClient, Account]:
        """A browser with the session cookie of a new account; its unsafe requests carry
        Hygie's own Origin, as a page of Hygie would send them."""
        browser = self.client()
        created = sign_in(browser, kind, username=username, aal=aal, **account)
        browser.headers["origin"] = ORIGIN
        return browser, created

    def patient_alice(self) -> tuple[TestClient, Account]:
        return self.signed_in(PrincipalKind.PATIENT, "alice", fhir_ref="Patient/p1")

    def professional(
        self, username: str, fhir_ref: str, org: str, *, aal: Aal = Aal.TWO
    ) -> tuple[TestClient, Account]:
        return self.signed_in(
            PrincipalKind.PRACTITIONER,
            username,
            aal=aal,
            fhir_ref=fhir_ref,
            organization_ref=org,
            roles=frozenset({"physician"}),
            rpps=rpps_of(fhir_ref),
        )

    def with_totp(self, kind: PrincipalKind, username: str, **account: Any) -> pyotp.TOTP:
        """An account with a password and TOTP, enrolled with the previous step's code so
        that the current one is still unused for the sign-in pages."""
        accounts = self.security.accounts
        created = accounts.create(kind, username, PASSWORD, display=username, **account)
        totp = pyotp.TOTP(accounts.begin_totp(created.id).secret)
        accounts.confirm_totp(created.id, totp.at(time.time() - 30))
        return totp

    def stored(self, resource_type: str) -> list[str]:
        """The ids of the resources of a type in the database, seen by Hygie itself."""
        reads = ReadService(self.security.store, fhir_base="", default_count=100, max_count=100)
        bundle = reads.search(
            resource_type, [], strict=True, guard=SystemAccess(reason="tests: oracle")
        )
        return sorted(e["resource"]["id"] for e in bundle.get("entry", []))


def open_hospital(
    database: Database,
    tmp_path: Path,
    resources: list[dict[str, Any]],
    prepare: Callable[[FastAPI], None] = lambda app: None,
) -> Iterator[Hospital]:
    """The app over ``database`` with ``resources`` stored (``prepare`` may mount routes)."""
    settings = demo_settings(tmp_path / "data", base_url=ORIGIN)
    app = create_app(settings, database=database)
    store = app.state.security.store
    for resource in resources:
        store.update(
            resource["resourceType"],
            resource["id"],
            resource,
            guard=SystemAccess(reason="tests: the hospital"),
        )
    prepare(app)
    with TestClient(app, base_url=ORIGIN):  # runs the lifespan: the audit sink is closed after
        yield Hospital(app, settings.data_dir)


@pytest.fixture
def hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    yield from open_hospital(database, tmp_path, HOSPITAL)
