"""A small hospital to test the enforcement point on, and a plain rule-based PDP.

Patients p1 and p2; organisations o1 and o2; professionals dr1, dr3 and dr4 work for o1
(which manages p1), dr2 for o2 and is p2's general practitioner. p1's privacy consent
blocks dr4 and masks doc-a (authored by dr3) from every professional but its author.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import orjson

from hygie.fhir.access import SystemAccess
from hygie.fhir.http_types import FhirRequest, FhirResponse
from hygie.fhir.router import FhirRouter
from hygie.fhir.store import FhirStore
from hygie.security.context import Aal, Principal, PrincipalKind, RequestContext
from hygie.security.pep import EnforcementPoint
from hygie.security.policy.model import Decision, ResourceFacts
from hygie.security.scopes import parse_scopes, permits

BASE = "http://hygie.test/fhir"
JSON = {"content-type": "application/fhir+json", "accept": "application/fhir+json"}
SECRET = b"%PDF-1.7 compte rendu: appendicectomie"
_LETTER = {
    "fhir.read": "r",
    "fhir.search": "s",
    "fhir.history": "r",
    "fhir.create": "c",
    "fhir.update": "u",
    "fhir.delete": "d",
}


class RuleDecisionPoint:
    """The policies in plain Python: patients reach their own compartment, professionals
    need a care relationship and not to be blocked, masked documents only for their
    author, default deny."""

    def decide(self, ctx: RequestContext, action: str, resource: ResourceFacts) -> Decision:
        principal = ctx.principal
        letter = _LETTER.get(action)
        if letter is None:
            return Decision(False, (), "unknown action")
        if principal.kind is PrincipalKind.PATIENT:
            if not permits(ctx.scopes, "patient", resource.resource_type, letter):
                return Decision(False, (), "no scope")
            if resource.patient_ref is not None and resource.patient_ref == principal.fhir_ref:
                return Decision(True, ("rule-patient-own",), "own record")
            return Decision(False, ("rule-patient-other",), "another patient's record")
        if principal.kind is PrincipalKind.PRACTITIONER:
            if not permits(ctx.scopes, "user", resource.resource_type, letter):
                return Decision(False, (), "no scope")
            if resource.blocked:
                return Decision(False, ("rule-blocked",), "blocked by the patient")
            mine = {principal.fhir_ref, principal.organization_ref}
            if resource.masked and not mine & resource.author_refs:
                return Decision(False, ("rule-masked",), "masked document")
            if resource.patient_ref is None or resource.care_relationship:
                return Decision(True, ("rule-care",), "care relationship")
            if resource.break_glass_grant and not resource.emergency_forbidden:
                return Decision(True, ("rule-break-glass",), "break-the-glass")
            return Decision(False, ("rule-no-care",), "no care relationship")
        return Decision(False, (), "no policy permits this action")


def context(kind: PrincipalKind, ref: str, org: str | None = None) -> RequestContext:
    scopes = "patient/*.cruds" if kind is PrincipalKind.PATIENT else "user/*.cruds"
    return RequestContext(
        principal=Principal(kind, ref.replace("/", "-"), "Test", ref, org),
        aal=Aal.TWO,
        auth_time=int(time.time()),
        network_zone="internal",
        scopes=parse_scopes(scopes),
        launch_patient=ref if kind is PrincipalKind.PATIENT else None,
    )


P1 = context(PrincipalKind.PATIENT, "Patient/p1")
P2 = context(PrincipalKind.PATIENT, "Patient/p2")
DR1 = context(PrincipalKind.PRACTITIONER, "Practitioner/dr1", "Organization/o1")
DR2 = context(PrincipalKind.PRACTITIONER, "Practitioner/dr2", "Organization/o2")
DR3 = context(PrincipalKind.PRACTITIONER, "Practitioner/dr3", "Organization/o1")
DR4 = context(PrincipalKind.PRACTITIONER, "Practitioner/dr4", "Organization/o1")


def ref(value: str) -> dict[str, str]:
    return {"reference": value}


def privacy_consent(consent_id: str, patient: str, *provisions: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": consent_id,
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": ref(patient),
        "provision": {"type": "permit", "provision": list(provisions)},
    }


def block(actor: str) -> dict[str, Any]:
    role = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}
        ]
    }
    return {"type": "deny", "actor": [{"role": role, "reference": ref(actor)}]}


def mask(document: str) -> dict[str, Any]:
    return {"type": "deny", "data": [{"meaning": "instance", "reference": ref(document)}]}


def observation(oid: str, patient: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": ref(patient),
        **extra,
    }


def document(did: str, patient: str, author: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": did,
        "status": "current",
        "subject": ref(patient),
        "author": [ref(author)],
        "content": [{"attachment": {"contentType": "application/pdf", "url": f"Binary/{did}"}}],
    }


def hospital() -> list[dict[str, Any]]:
    people = [
        {"resourceType": "Organization", "id": "o1", "name": "Clinique Une"},
        {"resourceType": "Organization", "id": "o2", "name": "Cabinet Deux"},
        *(
            {"resourceType": "Practitioner", "id": dr, "name": [{"family": dr}]}
            for dr in ("dr1", "dr2", "dr3", "dr4")
        ),
        {
            "resourceType": "Patient",
            "id": "p1",
            "name": [{"family": "Martin"}],
            "managingOrganization": ref("Organization/o1"),
        },
        {
            "resourceType": "Patient",
            "id": "p2",
            "name": [{"family": "Durand"}],
            "managingOrganization": ref("Organization/o2"),
            "generalPractitioner": [ref("Practitioner/dr2")],
        },
    ]
    records = [
        observation("obs-p1", "Patient/p1", derivedFrom=[ref("Observation/obs-p2")]),
        observation("obs-p2", "Patient/p2", derivedFrom=[ref("Observation/obs-p1")]),
        document("doc-a", "Patient/p1", "Practitioner/dr3"),
        document("doc-b", "Patient/p1", "Practitioner/dr1"),
        {
            "resourceType": "Binary",
            "id": "bin-p1",
            "contentType": "application/pdf",
            "securityContext": ref("Patient/p1"),
            "data": base64.b64encode(SECRET).decode(),
        },
        privacy_consent(
            "consent-p1", "Patient/p1", block("Practitioner/dr4"), mask("DocumentReference/doc-a")
        ),
    ]
    return people + records


@dataclass
class World:
    store: FhirStore
    router: FhirRouter
    point: EnforcementPoint

    def load(self, resources: list[dict[str, Any]]) -> None:
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "resource": r,
                    "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
                }
                for r in resources
            ],
        }
        response = self.router.handle(
            FhirRequest("POST", "", headers=JSON, body=orjson.dumps(bundle)),
            SystemAccess(reason="test hospital load"),
        )
        assert response.status == 200, response.body

    def call(
        self,
        ctx: RequestContext,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **query: str,
    ) -> FhirResponse:
        raw = body if isinstance(body, bytes) else orjson.dumps(body) if body is not None else b""
        request = FhirRequest(method, path, tuple(query.items()), {**JSON, **(headers or {})}, raw)
        return self.router.handle(request, self.point.guard(ctx))

    def get(self, ctx: RequestContext, path: str, **query: str) -> FhirResponse:
        return self.call(ctx, "GET", path, **query)

    def ids(self, ctx: RequestContext | None, path: str, **query: str) -> list[str]:
        """The Type/id of every entry of a search or history Bundle the caller gets
        (``None``: Hygie itself, unrestricted)."""
        if ctx is None:
            request = FhirRequest("GET", path, tuple(query.items()), JSON)
            response = self.router.handle(request, SystemAccess(reason="test oracle"))
        else:
            response = self.get(ctx, path, **query)
        assert response.status == 200, response.body
        bundle = orjson.loads(response.body)
        return sorted(
            f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in bundle.get("entry", [])
            if "resource" in e and e.get("search", {}).get("mode") != "outcome"
        )


def _url(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"
