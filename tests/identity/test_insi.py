"""The INSi teleservice as Hygie's local implementation answers it (demo and tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hygie.demo import demo_bundle, demo_insi
from hygie.identity.ins import NIA_OID, NIR_OID, Traits, parse_ins
from hygie.identity.insi import InsiIdentity, LocalInsi
from hygie.identity.patient import traits_of

ALICE = Traits("MARTIN", ("Alice", "Marie"), date(1984, 5, 12), "F", "75056")
ALICE_INS = parse_ins("284057505608924", NIR_OID)


def directory() -> LocalInsi:
    return LocalInsi([InsiIdentity(ALICE_INS, ALICE)])


def test_search_by_traits_ignores_accents_and_case() -> None:
    typed = replace(ALICE, birth_name="Martin", first_names=("alice",))
    found = directory().search(typed)
    assert found is not None and found.ins == ALICE_INS and found.traits == ALICE


def test_search_needs_name_first_name_sex_and_birth_date() -> None:
    for wrong in (
        replace(ALICE, birth_name="MARTINEZ"),
        replace(ALICE, first_names=("Marie",)),
        replace(ALICE, birth_date=date(1984, 5, 13)),
        replace(ALICE, sex="M"),
        replace(ALICE, birth_place="69383"),
    ):
        assert directory().search(wrong) is None


def test_two_candidates_are_no_answer() -> None:
    twin = InsiIdentity(parse_ins("284057505609023", NIR_OID), ALICE)
    assert LocalInsi([InsiIdentity(ALICE_INS, ALICE), twin]).search(ALICE) is None


def test_verify_checks_the_ins_against_all_traits() -> None:
    assert directory().verify(ALICE_INS, ALICE)
    assert not directory().verify(ALICE_INS, replace(ALICE, first_names=("Alice",)))
    assert not directory().verify(parse_ins("284057505608924", NIA_OID), ALICE)
    assert "284057505608924" not in repr(directory())


def test_the_demo_directory_knows_every_demo_patient() -> None:
    insi = demo_insi()
    patients = [
        e["resource"] for e in demo_bundle()["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    found = 0
    for patient in patients:
        traits = traits_of(patient)
        if traits is None:  # the emergency-desk duplicate: no birth place recorded
            continue
        match = insi.search(traits)
        assert match is not None, patient["name"]
        found += 1
    assert found == 24
