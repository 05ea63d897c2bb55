"""Loading the policy directory: the shipped one is valid, any broken copy stops Hygie."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hygie.security.policy import DEFAULT_POLICY_DIR, FHIR_ACTIONS, CedarDecisionPoint, PolicyError
from hygie.security.policy.loader import SCHEMA_FILE


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "cedar"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def test_shipped_policies_load_with_every_fhir_action() -> None:
    pdp = CedarDecisionPoint.load()
    assert {action for action, letter in pdp.actions.items() if letter} == FHIR_ACTIONS
    assert pdp.actions["fhir.search"] == "s"
    assert pdp.actions["admin.users"] is None
    assert "health-data" not in pdp.actions  # groups cannot be asked


def test_a_policy_that_does_not_parse(copy: Path) -> None:
    (copy / "extra.cedar").write_text('@id("broken") @reason("x") permit (principal, action')
    with pytest.raises(PolicyError, match=r"extra\.cedar: not valid Cedar"):
        CedarDecisionPoint.load(copy)


def test_a_policy_that_does_not_match_the_schema(copy: Path) -> None:
    (copy / "extra.cedar").write_text(
        '@id("typo") @reason("x")\n'
        "permit (principal, action, resource) when { context.care_relation };"
    )
    with pytest.raises(PolicyError, match=r"do not match the schema: \[typo\].*care_relation"):
        CedarDecisionPoint.load(copy)


def test_a_policy_on_an_unknown_action(copy: Path) -> None:
    (copy / "extra.cedar").write_text(
        '@id("unknown") @reason("x")\n'
        'permit (principal, action == Hygie::Action::"fhir.patch", resource);'
    )
    with pytest.raises(PolicyError, match=r"\[unknown\]"):
        CedarDecisionPoint.load(copy)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("permit (principal, action, resource);", "needs an @id"),
        ('@id("Bad Id") @reason("x") permit (principal, action, resource);', "needs an @id"),
        ('@id("no-reason") permit (principal, action, resource);', "needs a @reason"),
        (
            '@id("patient-own-record") @reason("x") permit (principal, action, resource);',
            "used twice",
        ),
        (
            '@id("named") @reason("x")\n'
            'permit (principal == Hygie::Practitioner::"d1", action, resource);',
            "names a specific entity",
        ),
        (
            '@id("tpl") @reason("x") permit (principal == ?principal, action, resource);',
            "templates are not allowed",
        ),
    ],
)
def test_policies_need_ids_reasons_and_attributes_only(copy: Path, text: str, message: str) -> None:
    (copy / "zz.cedar").write_text(text)
    with pytest.raises(PolicyError, match=message):
        CedarDecisionPoint.load(copy)


def test_an_invalid_schema(copy: Path) -> None:
    schema = json.loads((copy / SCHEMA_FILE).read_text())
    schema["Hygie"]["entityTypes"]["FhirResource"]["shape"]["attributes"]["type"] = {
        "type": "Strng"
    }
    (copy / SCHEMA_FILE).write_text(json.dumps(schema))
    with pytest.raises(PolicyError, match=r"invalid Cedar schema: .*Strng"):
        CedarDecisionPoint.load(copy)


def test_a_schema_that_is_not_json_or_missing(copy: Path) -> None:
    (copy / SCHEMA_FILE).write_text("namespace Hygie {}")
    with pytest.raises(PolicyError, match="not JSON"):
        CedarDecisionPoint.load(copy)
    (copy / SCHEMA_FILE).unlink()
    with pytest.raises(PolicyError, match="the Cedar schema is missing"):
        CedarDecisionPoint.load(copy)


def test_a_schema_without_the_smart_letter_of_a_fhir_action(copy: Path) -> None:
    schema = json.loads((copy / SCHEMA_FILE).read_text())
    del schema["Hygie"]["actions"]["fhir.delete"]["annotations"]["smart"]
    (copy / SCHEMA_FILE).write_text(json.dumps(schema))
    with pytest.raises(PolicyError, match=r"fhir\.delete must be declared with a @smart"):
        CedarDecisionPoint.load(copy)


def test_no_policies_or_no_directory(copy: Path, tmp_path: Path) -> None:
    for path in copy.glob("*.cedar"):
        path.unlink()
    with pytest.raises(PolicyError, match=r"no \.cedar policy file"):
        CedarDecisionPoint.load(copy)
    with pytest.raises(PolicyError, match="no such policy directory"):
        CedarDecisionPoint.load(tmp_path / "absent")
