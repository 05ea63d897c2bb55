"""RNIV identity statuses on a Patient, their transitions, and what of the INS may travel."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hygie.identity.ins import NIR_SYSTEM
from hygie.identity.sharing import shareable_patient
from hygie.identity.status import (
    RELIABILITY_URL,
    STATUS_SYSTEM,
    TRANSITIONS,
    IdentityStatus,
    IdentityStatusError,
    check_transition,
    identity_status,
    next_status,
    reliability_extension,
    validation_mode,
    with_status,
)

PROV, RECUP, VALI, QUAL = (
    IdentityStatus.PROVISOIRE,
    IdentityStatus.RECUPEREE,
    IdentityStatus.VALIDEE,
    IdentityStatus.QUALIFIEE,
)


def patient(status: IdentityStatus | None = None, **reliability: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"system": "urn:hygie:demo", "value": "patient-1"},
            {"system": NIR_SYSTEM, "value": "284057505608924"},
        ],
        "name": [{"use": "official", "family": "Martin", "given": ["Alice"]}],
    }
    if status is not None:
        resource["extension"] = [reliability_extension(status, **reliability)]
    return resource


def test_labels_are_the_rnivs() -> None:
    assert [s.label for s in IdentityStatus] == [
        "Identité provisoire",
        "Identité récupérée",
        "Identité validée",
        "Identité qualifiée",
    ]
    assert [s.code for s in IdentityStatus] == ["PROV", "RECUP", "VALI", "QUAL"]


def test_the_transitions_are_proofs_added_or_a_doubt() -> None:
    assert {
        (PROV, RECUP),  # INSi matched
        (PROV, VALI),  # document checked
        (RECUP, QUAL),  # document checked
        (VALI, QUAL),  # INSi matched
        (RECUP, PROV),  # doubt
        (VALI, PROV),
        (QUAL, PROV),
    } == TRANSITIONS
    assert next_status(PROV, insi_matched=True) is RECUP
    assert next_status(RECUP, document_checked=True) is QUAL
    assert next_status(VALI, insi_matched=True) is QUAL
    assert next_status(QUAL, insi_matched=True) is QUAL


@pytest.mark.parametrize(("current", "after"), [(PROV, QUAL), (RECUP, VALI), (QUAL, RECUP)])
def test_a_jump_the_rniv_forbids_is_refused(current: IdentityStatus, after: IdentityStatus) -> None:
    with pytest.raises(IdentityStatusError, match="n'est pas permis"):
        check_transition(current, after)


def test_qualified_needs_a_document_and_insi() -> None:
    with pytest.raises(IdentityStatusError, match="pièce d'identité à haut niveau de confiance"):
        with_status(patient(PROV), QUAL, document="CN", checked_on=date(2026, 1, 5))
    recovered = patient(RECUP)
    with pytest.raises(IdentityStatusError, match="exige la pièce d'identité vérifiée"):
        with_status(recovered, QUAL)
    with pytest.raises(IdentityStatusError, match="n'est pas une pièce à haut niveau"):
        with_status(recovered, QUAL, document="PC", checked_on=date(2026, 1, 5))  # driving licence
    qualified = with_status(recovered, QUAL, document="PA", checked_on=date(2026, 1, 5))
    assert identity_status(qualified) is QUAL and validation_mode(qualified) == "PA"
    assert identity_status(recovered) is RECUP  # the original is not changed


def test_status_written_as_fr_core_and_the_document_kept_on_insi_match() -> None:
    validated = with_status(patient(), VALI, document="CN", checked_on=date(2026, 1, 5))
    [extension] = validated["extension"]
    assert extension["url"] == RELIABILITY_URL
    assert [part["url"] for part in extension["extension"]] == [
        "identityStatus",
        "validationDate",
        "validationMode",
    ]
    qualified = with_status(validated, QUAL)
    assert validation_mode(qualified) == "CN"
    assert qualified["extension"][0]["extension"][1] == {
        "url": "validationDate",
        "valueDate": "2026-01-05",
    }
    doubtful = with_status(qualified, PROV)
    assert identity_status(doubtful) is PROV and validation_mode(doubtful) is None


def test_no_or_unknown_status_reads_provisoire(shared_data: Path) -> None:
    assert identity_status(patient()) is PROV
    odd = patient()
    odd["extension"] = [
        {
            "url": RELIABILITY_URL,
            "extension": [
                {
                    "url": "identityStatus",
                    "valueCoding": {"system": STATUS_SYSTEM, "code": "DOUB"},
                }
            ],
        }
    ]
    assert identity_status(odd) is PROV
    example = json.loads(
        (
            shared_data / "fhir-fr" / "ans-cercle-de-soins" / "Patient-cds-patient-example.json"
        ).read_text()
    )
    assert identity_status(example) is VALI


@pytest.mark.parametrize("status", [PROV, RECUP, VALI])
def test_the_ins_travels_only_once_qualified(status: IdentityStatus) -> None:
    proof = {"document": "CN", "checked_on": date(2026, 1, 5)} if status.document_checked else {}
    held = patient(status, **proof)
    shared = shareable_patient(held)
    assert [i["system"] for i in shared["identifier"]] == ["urn:hygie:demo"]
    assert len(held["identifier"]) == 2  # the record itself keeps it
    qualified = patient(QUAL, document="CN", checked_on=date(2026, 1, 5))
    assert shareable_patient(qualified)["identifier"] == qualified["identifier"]


def test_a_patient_with_only_an_ins_travels_without_identifier() -> None:
    only_ins = patient(RECUP)
    only_ins["identifier"] = only_ins["identifier"][1:]
    assert "identifier" not in shareable_patient(only_ins)
