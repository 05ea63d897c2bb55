"""Consent effects from FHIR R4 Consent resources shaped as the specification's examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from hygie.security.policy import ConsentEffects, ConsentError, consent_effects

ACTREASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"


def privacy_consent(provision: dict[str, Any]) -> dict[str, Any]:
    """The R4 'notThem' example's frame (patient-privacy, opt-out) with a given provision."""
    return {
        "resourceType": "Consent",
        "id": "consent-example-notThem",
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
        "patient": {"reference": "Patient/f001", "display": "P. van de Heuvel"},
        "dateTime": "2015-11-18",
        "organization": [{"reference": "Organization/f001"}],
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}
            ]
        },
        "provision": provision,
    }


NOT_THEM = privacy_consent(
    {
        "type": "deny",
        "actor": [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "PRCP",
                        }
                    ]
                },
                "reference": {"reference": "Practitioner/f204", "display": "Fictive Nurse"},
            }
        ],
        "action": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                        "code": "access",
                    }
                ]
            }
        ],
    }
)


def test_official_examples_have_no_effect(shared_data: Path) -> None:
    folder = shared_data / "fhir" / "r4-spec-examples"
    for name in ("consent-example.json", "consent-example-smartonfhir.json"):
        consent = json.loads((folder / name).read_text())
        effects = consent_effects(consent)
        assert effects == ConsentEffects(consent["patient"]["reference"]), name


def test_deny_to_a_practitioner_blocks_them() -> None:
    effects = consent_effects(NOT_THEM)
    assert effects == ConsentEffects(
        "Patient/f001", blocked_actors=frozenset({"Practitioner/f204"})
    )


def test_nested_deny_provisions_block_mask_and_refuse_emergency() -> None:
    consent = privacy_consent(
        {
            "type": "permit",
            "provision": [
                {"type": "deny", "actor": [{"reference": {"reference": "Organization/f002"}}]},
                {
                    "type": "deny",
                    "data": [
                        {
                            "meaning": "instance",
                            "reference": {"reference": "DocumentReference/example"},
                        }
                    ],
                },
                {"type": "deny", "purpose": [{"system": ACTREASON, "code": "ETREAT"}]},
                {"type": "permit", "actor": [{"reference": {"reference": "RelatedPerson/r1"}}]},
            ],
        }
    )
    assert consent_effects(consent) == ConsentEffects(
        "Patient/f001",
        blocked_actors=frozenset({"Organization/f002"}),
        masked_documents=frozenset({"DocumentReference/example"}),
        emergency_forbidden=True,
    )


def test_withdrawn_or_non_privacy_consents_have_no_effect() -> None:
    for status in ("inactive", "draft", "rejected", "entered-in-error"):
        assert consent_effects({**NOT_THEM, "status": status}) == ConsentEffects("Patient/f001")
    research = copy.deepcopy(NOT_THEM)
    research["scope"]["coding"][0]["code"] = "research"
    assert consent_effects(research) == ConsentEffects("Patient/f001")


def provision_with(**changes: Any) -> dict[str, Any]:
    return privacy_consent({"type": "deny", **changes})


@pytest.mark.parametrize(
    ("consent", "message"),
    [
        ({"resourceType": "Patient"}, "not a FHIR Consent"),
        ({**NOT_THEM, "status": "activ"}, "Consent.status must be one of"),
        ({**NOT_THEM, "patient": {"display": "x"}}, "Consent.patient must be a Reference"),
        ({**NOT_THEM, "patient": {"reference": "Group/g1"}}, "must reference a Patient"),
        ({**NOT_THEM, "scope": "patient-privacy"}, "Consent.scope must be a CodeableConcept"),
        ({**NOT_THEM, "provision": []}, "Consent.provision must be an object"),
        (privacy_consent({"type": "refuse"}), r"Consent\.provision\.type must be permit or deny"),
        (provision_with(), "needs exactly one of actor"),
        (
            provision_with(actor=[{"reference": {"reference": "RelatedPerson/r1"}}]),
            r"Consent\.provision\.actor: Hygie can only block a Practitioner or an Organization",
        ),
        (
            provision_with(actor=[{"role": {}}]),
            r"Consent\.provision\.actor\[0\]\.reference must be a Reference",
        ),
        (
            provision_with(data=[{"meaning": "related", "reference": {"reference": "Task/t3"}}]),
            "can only mask a DocumentReference, got 'Task/t3'",
        ),
        (
            provision_with(purpose=[{"system": ACTREASON, "code": "HMARKT"}]),
            "only deny the purposes ETREAT and BTG, got HMARKT",
        ),
        (
            provision_with(
                actor=[{"reference": {"reference": "Practitioner/f204"}}],
                data=[{"reference": {"reference": "DocumentReference/d1"}}],
            ),
            "needs exactly one of actor",
        ),
        (privacy_consent({"provision": {"type": "deny"}}), r"provision\.provision must be a list"),
        (provision_with(actor={"reference": {}}), r"Consent\.provision\.actor must be a list"),
    ],
)
def test_malformed_or_unenforceable_consents_are_refused(
    consent: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConsentError, match=message):
        consent_effects(consent)
