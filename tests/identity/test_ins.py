"""INS numbers: real-shaped ones accepted, every kind of error refused with its reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hygie.identity.ins import (
    NIA_OID,
    NIR_OID,
    Ins,
    InsError,
    Traits,
    check_ins_traits,
    format_ins,
    ins_key,
    parse_ins,
)
from hygie.identity.patient import birth_place, first_names, ins_identifiers, traits_of
from hygie.identity.status import IdentityStatus, identity_status

# A woman born in May 1984 in Paris (commune code 75056), 89th birth of the month there.
ALICE = "284057505608924"


def nir(number13: str) -> str:
    return number13 + ins_key(number13)


def refusal(value: str, oid: str = NIR_OID) -> str:
    with pytest.raises(InsError) as refused:
        parse_ins(value, oid)
    return str(refused.value)


@pytest.mark.parametrize(
    ("value", "place"),
    [
        ("2 84 05 75 056 089 24", "75056"),  # spaces as printed on the carte Vitale
        ("2.84.05.75.056.089.24", "75056"),
        (nir("1960169383436"), "69383"),  # Lyon 3e arrondissement
        (nir("253072B073004"), "2B073"),  # Corsica: 2B counts as 18 in the key
        (nir("198022A004123"), "2A004"),  # Corsica: 2A counts as 19
        ("295109912611193", "99126"),  # born abroad: 99 + INSEE country code (Greece)
        (nir("1850597101032"), "97101"),  # overseas: Guadeloupe, department 97 + 1
        (nir("2852098765123"), "98765"),  # month 20: civil status gives no month
    ],
)
def test_real_shaped_numbers_are_accepted(value: str, place: str) -> None:
    ins = parse_ins(value, NIR_OID)
    assert len(ins.number) == 15 and " " not in ins.number
    assert ins.birth_place == place
    assert ins.kind == "NIR" and ins.system == "urn:oid:1.2.250.1.213.1.4.8"


def test_corsica_key_uses_19_and_18() -> None:
    # The same digits with 19 in place of 2A give the same key: the rule python-stdnum knows.
    assert ins_key("198022A004123") == ins_key("1980219004123")
    assert ins_key("253072B073004") == ins_key("2530718073004")
    assert "clé" in refusal("198022B004123" + ins_key("198022A004123"))


def test_format_for_display_and_repr_hides_the_number() -> None:
    ins = parse_ins(ALICE, NIR_OID)
    assert format_ins(ins) == "2 84 05 75 056 089 24"
    assert ALICE not in repr(ins) and ALICE[:13] not in str(ins)


@pytest.mark.parametrize(
    ("value", "oid", "why"),
    [
        ("284057505608925", NIR_OID, "la clé 25 ne correspond pas au numéro (clé attendue : 24)"),
        ("28405750560892", NIR_OID, "un INS compte 15 caractères"),
        ("2840575056089245", NIR_OID, "celui-ci en compte 16"),
        ("2840575O5608924", NIR_OID, "le caractère « O » en position 8 n'est pas un chiffre"),
        ("28405X505608924", NIR_OID, "le caractère « X » en position 6"),
        ("253072C07300443", NIR_OID, "seuls 2A et 2B, départements de Corse"),
        ("284137505608924", NIR_OID, "le mois de naissance 13 n'existe pas"),
        ("284457505608924", NIR_OID, "le mois de naissance 45 n'existe pas"),
        (nir("2840500056089"), NIR_OID, "le département de naissance 00 n'existe pas"),
        (nir("2840575056000"), NIR_OID, "le numéro d'ordre 000 n'existe pas"),
        (nir("5840575056089"), NIR_OID, "le premier chiffre d'un NIR est le sexe (1 ou 2), pas 5"),
        (nir("7840599350089"), NIR_OID, "est un numéro d'attente (NIA)"),
        (nir("5840599350089"), NIA_OID, "le premier chiffre d'un NIA est 1, 2, 3, 4, 7 ou 8"),
        (ALICE, "1.2.250.1.71.4.2.1", "l'OID 1.2.250.1.71.4.2.1 n'est pas celui d'un INS"),
    ],
)
def test_every_error_is_refused_with_its_reason(value: str, oid: str, why: str) -> None:
    message = refusal(value, oid)
    assert why in message
    assert value.replace(" ", "") not in message  # the number is not repeated


def test_nia_is_accepted_under_its_own_oid() -> None:
    waiting = nir("7840599350089")  # born in Morocco (99350), number awaiting registration
    ins = parse_ins(waiting, f"urn:oid:{NIA_OID}")
    assert (ins.kind, ins.sex, ins.birth_place) == ("NIA", "M", "99350")


def traits(**changes: Any) -> Traits:
    values: dict[str, Any] = {
        "birth_name": "MARTIN",
        "first_names": ("Alice", "Marie"),
        "birth_date": date(1984, 5, 12),
        "sex": "F",
        "birth_place": "75056",
    }
    values.update(changes)
    return Traits(**values)


def test_traits_that_agree_pass() -> None:
    check_ins_traits(parse_ins(ALICE, NIR_OID), traits())


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        (
            {"sex": "M"},
            "le premier chiffre de l'INS (2) désigne un(e) femme, le sexe déclaré est homme",
        ),
        ({"birth_date": date(1984, 6, 12)}, "le mois de naissance de l'INS (05) ne correspond pas"),
        ({"birth_date": date(1985, 5, 12)}, "l'année de naissance de l'INS (84) ne correspond pas"),
        ({"birth_place": "69383"}, "la commune de naissance de l'INS (code 75056)"),
    ],
)
def test_traits_that_disagree_are_refused(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(InsError, match=r".") as refused:
        check_ins_traits(parse_ins(ALICE, NIR_OID), traits(**changes))
    assert why in str(refused.value)


def test_unknown_month_matches_any_month_but_not_another_year() -> None:
    ins = parse_ins(nir("2843075056089"), NIR_OID)  # month 30: not given by civil status
    check_ins_traits(ins, traits(birth_date=date(1984, 11, 2)))
    with pytest.raises(InsError, match="année"):
        check_ins_traits(ins, traits(birth_date=date(1994, 11, 2)))


def test_corsica_before_1976_is_department_20() -> None:
    ins = parse_ins(nir("1560420004535"), NIR_OID)  # born in Ajaccio in 1956
    check_ins_traits(ins, traits(sex="M", birth_date=date(1956, 4, 26), birth_place="2A004"))
    with pytest.raises(InsError, match="lieu de naissance"):
        check_ins_traits(ins, traits(sex="M", birth_date=date(1956, 4, 26), birth_place="2A041"))


def test_born_abroad_compares_the_country() -> None:
    ins = parse_ins("295109912611193", NIR_OID)
    with pytest.raises(InsError, match="le pays de naissance de l'INS"):
        check_ins_traits(
            ins,
            traits(birth_date=date(1995, 10, 1), birth_place="99109"),  # Germany
        )


def fr_core_patient(shared_data: Path) -> dict[str, Any]:
    path = shared_data / "fhir-fr" / "ans-cercle-de-soins" / "Patient-cds-patient-example.json"
    patient: dict[str, Any] = json.loads(path.read_text())
    return patient


def test_fr_core_example_is_read_and_its_fictitious_ins_refused(shared_data: Path) -> None:
    patient = fr_core_patient(shared_data)
    [(position, oid, value)] = ins_identifiers(patient)
    assert (position, oid) == (0, NIR_OID)
    assert identity_status(patient) is IdentityStatus.VALIDEE
    assert birth_place(patient) == "29064" and first_names(patient) == ("Jacques",)
    # PROVENANCE.md: "the INS number 123456789012244 is a fictitious example value" — and
    # it shows: its month (45) does not exist, and its key is not 44.
    assert "le mois de naissance 45 n'existe pas" in refusal(value, oid)
    assert ins_key(value[:13]) != value[13:]


def test_fr_core_example_with_a_real_shaped_ins_for_its_traits(shared_data: Path) -> None:
    patient = fr_core_patient(shared_data)
    found = traits_of(patient)
    assert found == Traits("Thobois", ("Jacques",), date(1984, 10, 2), "M", "29064")
    number = nir("1841029064017")  # man, October 1984, Goulven (29064), 17th birth
    check_ins_traits(parse_ins(number, NIR_OID), found)
    assert isinstance(parse_ins(number, NIR_OID), Ins)
