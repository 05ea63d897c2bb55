"""IHE MHD over HTTP, as a Document Source and Consumer would use Hygie: ITI-65 (POST a
Provide Document Bundle to /fhir), ITI-67 (search DocumentReference), ITI-68 (read the
attachment's Binary raw); the ProvideBundle rules refuse a bad Bundle with 422 naming the
entry, and nothing is stored."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from hygie.record.mhd import MINIMAL_PROVIDE_BUNDLE, Coded, NewDocument, provide_bundle
from tests.conftest import backends
from tests.record.conftest import PDF, Clinic

INS = "urn:oid:1.2.250.1.213.1.4.8|284057505608924"


def provide(patient: str = "Patient/p1", content: bytes = PDF) -> dict[str, Any]:
    return provide_bundle(
        NewDocument(
            patient_ref=patient,
            author_ref="Practitioner/dr1",
            author_name="Dr Anne Un",
            title="Lettre de liaison de sortie",
            type=Coded("18842-5", "Discharge summary"),
            category=Coded("18842-5", "Discharge summary"),
            content=content,
            content_type="application/pdf",
            file_name="lettre.pdf",
            created=datetime(2026, 11, 20, 10, 30, tzinfo=UTC),
        )
    )


def post(clinic: Clinic, who: str, bundle: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = clinic.browser(who).post(
        "/fhir",
        content=orjson.dumps(bundle),
        headers={"content-type": "application/fhir+json", "prefer": "return=representation"},
    )
    return response.status_code, response.json()


def ids(clinic: Clinic, who: str, **params: str) -> list[str]:
    response = clinic.browser(who).get("/fhir/DocumentReference", params=params)
    assert response.status_code == 200, response.text
    return [e["resource"]["id"] for e in response.json().get("entry", [])]


@backends
def test_provide_find_and_retrieve_over_http(clinic: Clinic) -> None:
    status, answer = post(clinic, "dr1", provide())
    assert status == 200, answer
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 3
    document = answer["entry"][1]["resource"]
    url = document["content"][0]["attachment"]["url"]
    assert url.startswith("Binary/")  # the fullUrl was rewritten to the stored Binary
    # ITI-67, with each MHD search parameter.
    found_by = {
        "patient": {"patient": "Patient/p1"},
        "patient.identifier": {"patient.identifier": INS},
        "status": {"patient": "Patient/p1", "status": "current"},
        "type": {"type": "http://loinc.org|18842-5"},
        "category": {"category": "http://loinc.org|18842-5"},
        "date": {"patient": "Patient/p1", "date": "ge2026-01-01"},
        "creation": {"patient": "Patient/p1", "creation": "2026-11-20"},
        "author": {"author": "Practitioner/dr1"},
        "author.family": {"author:Practitioner.family": "Un"},
    }
    for name, params in found_by.items():
        assert ids(clinic, "p1", **params) == [document["id"]], name
    missed_by = {
        "patient": {"patient": "Patient/p2"},
        "patient.identifier": {"patient.identifier": "urn:oid:1.2.250.1.213.1.4.8|1"},
        "status": {"patient": "Patient/p1", "status": "superseded"},
        "type": {"type": "http://loinc.org|11502-2"},
        "date": {"patient": "Patient/p1", "date": "lt2000-01-01"},
        "creation": {"patient": "Patient/p1", "creation": "2026-11-21"},
        "author": {"author": "Practitioner/dr3"},
    }
    for name, params in missed_by.items():
        assert ids(clinic, "dr1", **params) == [], name
    # ITI-68: the attachment url, read raw with its content type.
    raw = clinic.browser("p1").get(f"/fhir/{url}", headers={"accept": "application/pdf"})
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/pdf")
    assert raw.content == PDF
    assert clinic.browser("dr2").get(f"/fhir/{url}").status_code == 404


@backends
def test_a_binary_whose_security_context_is_the_new_document_gets_the_patients_key(
    clinic: Clinic,
) -> None:
    # p2 has no data key yet, and the Binary's patient is only known through the
    # DocumentReference created by the same transaction.
    bundle = provide("Patient/p2")
    binary = bundle["entry"][2]
    binary["resource"]["securityContext"] = {"reference": bundle["entry"][1]["fullUrl"]}
    status, answer = post(clinic, "dr1", bundle)
    assert status == 200, answer
    binary_id = answer["entry"][2]["resource"]["id"]
    sealed = orjson.loads(clinic.raw("Binary", binary_id))
    assert sealed["_data"]["extension"][0]["valueString"] == "Patient/p2"
    assert PDF not in clinic.raw("Binary", binary_id)
    document = answer["entry"][1]["resource"]["id"]
    fetched = clinic.browser("p2").get(f"/fhir/Binary/{binary_id}", headers={"accept": "*/*"})
    assert (fetched.status_code, fetched.content) == (200, PDF)
    assert ids(clinic, "p2", patient="Patient/p2") == [document]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set ``entry.N.key.key`` in a Bundle to ``value``."""

    def change(bundle: dict[str, Any]) -> None:
        keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
        target: Any = bundle
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def _drop_binary(bundle: dict[str, Any]) -> None:
    del bundle["entry"][2]


def _unlisted(bundle: dict[str, Any]) -> None:
    bundle["entry"][0]["resource"]["entry"] = []


def _second_list(bundle: dict[str, Any]) -> None:
    bundle["entry"].append(copy.deepcopy(bundle["entry"][0]))
    bundle["entry"][-1]["fullUrl"] = "urn:uuid:5d9c1f64-1df4-4a7e-9d0b-3c2b8c4f7a10"


@backends
@pytest.mark.parametrize(
    ("change", "blamed", "why"),
    [
        (_set("entry.1.resource.subject.reference", "Patient/p2"), "entry[1]", "subject"),
        (_set("entry.2.resource.securityContext.reference", "Patient/p2"), "entry[2]", "patient"),
        (_drop_binary, "entry[1]", "not a Binary of this Bundle"),
        (
            _set("entry.1.resource.content.0.attachment.url", "Binary/elsewhere"),
            "entry[1]",
            "Binary",
        ),
        (
            _set("entry.1.resource.content.0.attachment.contentType", "text/html"),
            "entry[1]",
            "not accepted",
        ),
        (_set("entry.2.resource.contentType", "image/png"), "entry[1]", "contentType differs"),
        (_set("entry.1.resource.content.0.attachment.size", 12), "entry[1]", "size 12"),
        (_set("entry.1.resource.content.0.attachment.hash", "AAAA"), "entry[1]", "SHA-1"),
        (_set("entry.1.resource.type.coding.0.system", "urn:local"), "entry[1]", "LOINC"),
        (_unlisted, "entry[1]", "not in the SubmissionSet"),
        (_second_list, "Bundle.entry", "one SubmissionSet"),
        (
            _set("entry.0.resource.code.coding.0.code", "folder"),
            "Bundle.entry",
            "one SubmissionSet",
        ),
    ],
)
def test_a_bundle_breaking_the_mhd_rules_is_refused_with_nothing_stored(
    clinic: Clinic, change: Callable[[dict[str, Any]], None], blamed: str, why: str
) -> None:
    bundle = provide()
    change(bundle)
    status, outcome = post(clinic, "dr1", bundle)
    assert status == 422, outcome
    diagnostics = outcome["issue"][0]["diagnostics"]
    assert blamed in diagnostics and why in diagnostics, diagnostics
    assert clinic.counts() == (0, 0, 0)


@backends
def test_the_comprehensive_profile_is_checked_too_and_a_plain_bundle_is_not(
    clinic: Clinic,
) -> None:
    bundle = provide()
    bundle["meta"]["profile"] = [
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/"
        "IHE.MHD.Comprehensive.ProvideBundle|4.2.2"
    ]
    bundle["entry"][1]["resource"]["content"][0]["attachment"]["size"] = 1
    assert post(clinic, "dr1", bundle)[0] == 422
    del bundle["meta"]
    status, answer = post(clinic, "dr1", bundle)  # no MHD claim: a plain transaction
    assert status == 200, answer
    assert bundle.get("meta") is None and MINIMAL_PROVIDE_BUNDLE not in str(bundle)


@backends
def test_an_oversized_document_is_refused_over_http(clinic: Clinic) -> None:
    from hygie.record.mhd import MAX_DOCUMENT_BYTES

    status, outcome = post(clinic, "dr1", provide(content=b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES))
    assert status == 422, outcome
    assert "over" in outcome["issue"][0]["diagnostics"]
    assert clinic.counts() == (0, 0, 0)
