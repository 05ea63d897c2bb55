"""Which pairs of Patients the identity office is asked to look at, and why."""

from __future__ import annotations

from typing import Any

import pytest

from hygie.identity.ins import NIR_SYSTEM
from hygie.identity.names import phonetic_key, plain
from hygie.identity.vigilance import duplicate_reasons


def person(
    family: str, *given: str, born: str = "1998-01-21", gender: str = "female", **more: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": family.lower(),
        "name": [{"use": "official", "family": family, "given": list(given)}],
        "gender": gender,
        "birthDate": born,
        **more,
    }


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Lefèvre", "LEFEBVRE"),
        ("Dupont", "Dupond"),
        ("Thomas", "Tomas"),
        ("Moreau", "Moreaux"),
        ("Philippe", "Filippe"),
        ("Chloé", "Kloe"),
        ("Laurent", "Lorant"),
        ("Mathieu", "Matthieu"),
    ],
)
def test_french_variants_share_a_phonetic_key(a: str, b: str) -> None:
    assert phonetic_key(a) == phonetic_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("Martin", "Bernard"), ("Robert", "Richard"), ("Petit", "Leroy")]
)
def test_different_names_do_not(a: str, b: str) -> None:
    assert phonetic_key(a) != phonetic_key(b)


def test_plain_drops_accents_case_and_hyphens() -> None:
    assert plain("Jean-Éric d'Arcy") == "JEAN ERIC D ARCY"


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        (person("Lefèvre", "Isabelle"), person("Lefèvre", "Isabelle"), "même nom de naissance"),
        (person("Lefèvre", "Élodie"), person("LEFEVRE", "ELODIE"), "mêmes prénoms"),
        (
            person("Lefèvre", "Isabelle"),
            person("LEFEBVRE", "ISABELLE"),
            "noms de naissance proches",
        ),
        (person("Martin", "Marie", "Anne"), person("Martin", "Anne", "Marie"), "prénoms inversés"),
        (person("Martin", "Mathilde"), person("Martin", "Matilde"), "prénoms proches"),
        (person("Martin", "Marie", "Anne"), person("Martin", "Anne"), "un prénom en commun"),
    ],
)
def test_likely_duplicates(a: dict[str, Any], b: dict[str, Any], reason: str) -> None:
    b = {**b, "id": "other"}
    reasons = duplicate_reasons(a, b)
    assert any(r.startswith(reason) for r in reasons), reasons
    assert "même date de naissance" in reasons


@pytest.mark.parametrize(
    "b",
    [
        person("Lefèvre", "Isabelle", born="1998-01-22"),  # another day
        person("Lefèvre", "Isabelle", gender="male"),
        person("Leroy", "Isabelle"),  # another name
        person("Lefèvre", "Camille"),  # another first name
        person("Lefèvre", "Isabelle", active=False),  # already merged away
    ],
)
def test_not_duplicates(b: dict[str, Any]) -> None:
    assert duplicate_reasons(person("Lefèvre", "Isabelle"), {**b, "id": "other"}) == ()


def test_the_ins_decides_when_both_have_one() -> None:
    ins_a: dict[str, Any] = {"identifier": [{"system": NIR_SYSTEM, "value": "298013818591737"}]}
    ins_b: dict[str, Any] = {"identifier": [{"system": NIR_SYSTEM, "value": "284057505608924"}]}
    a = person("Lefèvre", "Isabelle", **ins_a)
    twin = {**person("Lefèvre", "Isabelle", **ins_b), "id": "twin"}
    assert duplicate_reasons(a, twin) == ()  # two INS: two persons (a collision, not a duplicate)
    same = {**person("Durand", "Julie", born="1970-01-01", **ins_a), "id": "same"}
    assert duplicate_reasons(a, same) == ("même INS",)


def test_a_pair_already_linked_is_not_flagged_again() -> None:
    a = person("Lefèvre", "Isabelle")
    b = {
        **person("LEFEBVRE", "ISABELLE"),
        "id": "b",
        "link": [{"other": {"reference": "Patient/lefèvre"}, "type": "replaced-by"}],
    }
    assert duplicate_reasons(a, b) == ()
