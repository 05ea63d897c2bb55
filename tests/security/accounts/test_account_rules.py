"""Account creation: the password rules, the identity rules, and refusals that change nothing."""

from __future__ import annotations

import pytest

from hygie.db.engine import Database
from hygie.security.accounts import (
    AccountExists,
    AccountNotFound,
    AccountService,
    InvalidAccount,
    PasswordRejected,
)
from hygie.security.accounts.identity import rpps_is_valid
from hygie.security.accounts.passwords import MESSAGES, password_problems
from hygie.security.context import Principal, PrincipalKind
from tests.conftest import backends
from tests.security.accounts.helpers import GOOD_PASSWORD, with_luhn

RPPS = with_luhn("1000123456")


@pytest.mark.parametrize(
    ("password", "broken"),
    [
        ("Court1!", ["too_short"]),
        ("tout en minuscules", ["classes"]),
        ("TOUTMAJUSCULE123", ["classes"]),
        ("Aa1!" * 65, ["too_long"]),
        ("Motdepasse2024!", ["common"]),
        ("P@ssw0rd2024!!", ["common"]),
        ("azerty", ["too_short", "classes", "common"]),
        ("Cl.Martin-2026-ok", ["username"]),
    ],
)
def test_each_broken_rule_has_its_own_french_message(password: str, broken: list[str]) -> None:
    assert password_problems(password, "cl.martin") == [MESSAGES[rule] for rule in broken]


@pytest.mark.parametrize(
    "password",
    [GOOD_PASSWORD, "correct horse battery STAPLE", "Élodie-aime-le-thé", "x7#Kq9!pLm2@"],
)
def test_good_passwords_pass(password: str) -> None:
    assert password_problems(password, "cl.martin") == []


def test_rpps_numbers_carry_a_luhn_check_digit() -> None:
    assert rpps_is_valid(RPPS)
    wrong_key = RPPS[:-1] + str((int(RPPS[-1]) + 1) % 10)
    assert not rpps_is_valid(wrong_key)
    assert not rpps_is_valid(RPPS[:-1])  # 10 digits
    assert not rpps_is_valid("1000123456a")


@backends
def test_accounts_of_each_kind_are_created_and_read_back(service: AccountService) -> None:
    doctor = service.create(
        PrincipalKind.PRACTITIONER,
        "  Dr.Martin ",
        GOOD_PASSWORD,
        display="Dr Claire Martin",
        fhir_ref="Practitioner/pr1",
        organization_ref="Organization/chu",
        roles=frozenset({"physician"}),
        rpps=RPPS,
    )
    patient = service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean Dupont")
    admin = service.create(
        PrincipalKind.ADMIN,
        "rssi",
        GOOD_PASSWORD,
        display="RSSI",
        roles=frozenset({"security-officer"}),
    )
    assert doctor.username == "dr.martin"  # normalised
    assert (doctor.rpps, doctor.roles, doctor.disabled) == (RPPS, frozenset({"physician"}), False)
    assert service.by_username("DR.MARTIN") == doctor == service.get(doctor.id)
    assert [a.username for a in service.list()] == ["dr.martin", "jean.dupont", "rssi"]
    assert service.principal(doctor) == Principal(
        kind=PrincipalKind.PRACTITIONER,
        id=doctor.id,
        display="Dr Claire Martin",
        fhir_ref="Practitioner/pr1",
        organization_ref="Organization/chu",
        roles=frozenset({"physician"}),
    )
    assert service.principal(admin).roles == frozenset({"security-officer"})
    assert patient.fhir_ref is None and patient.roles == frozenset()
    assert "password" not in repr(doctor).lower()


@backends
@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("patient", {"username": "ab"}, "entre 3 et 64"),
        ("patient", {"username": "élodie"}, "lettres sans accent"),
        ("patient", {"username": "-dash"}, "commencer par"),
        ("robot", {}, "Type de compte inconnu"),
        ("client", {}, "Type de compte inconnu"),
        ("patient", {"roles": frozenset({"physician"})}, "non permis"),
        ("patient", {"fhir_ref": "Practitioner/x"}, "Patient/<id>"),
        ("patient", {"rpps": RPPS}, "Seul un compte de professionnel"),
        ("practitioner", {"roles": frozenset({"physician"})}, "RPPS de 11 chiffres"),
        ("practitioner", {"rpps": "12345678901", "roles": frozenset({"nurse"})}, "Luhn"),
        ("practitioner", {"rpps": RPPS}, "au moins un rôle"),
        ("practitioner", {"rpps": RPPS, "roles": frozenset({"it-admin"})}, "non permis"),
        (
            "practitioner",
            {"rpps": RPPS, "roles": frozenset({"nurse"}), "organization_ref": "chu"},
            "Organization/<id>",
        ),
        ("admin", {"roles": frozenset({"it-admin"}), "fhir_ref": "Patient/1"}, "pas de référence"),
        ("patient", {"display": "   "}, "nom affiché"),
    ],
)
def test_invalid_accounts_are_refused_and_nothing_is_stored(
    service: AccountService, kind: str, fields: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"username": "someone", "display": "Someone", **fields}
    username = arguments.pop("username")
    with pytest.raises(InvalidAccount, match=message):
        service.create(kind, username, GOOD_PASSWORD, **arguments)  # type: ignore[arg-type]
    assert service.list() == []


@backends
def test_a_weak_password_is_refused_with_every_reason(service: AccountService) -> None:
    with pytest.raises(PasswordRejected) as refused:
        service.create("patient", "jean.dupont", "jean.dupont", display="Jean")
    assert refused.value.reasons == [
        MESSAGES["too_short"],
        MESSAGES["classes"],
        MESSAGES["username"],
    ]
    assert service.list() == []


@backends
def test_usernames_and_rpps_numbers_are_unique(service: AccountService) -> None:
    service.create(
        "practitioner",
        "dr.martin",
        GOOD_PASSWORD,
        display="A",
        roles=frozenset({"nurse"}),
        rpps=RPPS,
    )
    with pytest.raises(AccountExists, match=r"dr\.martin est déjà utilisé"):
        service.create("patient", "DR.MARTIN", GOOD_PASSWORD, display="B")
    with pytest.raises(AccountExists, match="RPPS"):
        service.create(
            "practitioner",
            "dr.other",
            GOOD_PASSWORD,
            display="C",
            roles=frozenset({"nurse"}),
            rpps=RPPS,
        )
    assert [a.display for a in service.list()] == ["A"]


@backends
def test_disable_and_enable_unknown_accounts_fail(
    database: Database, service: AccountService
) -> None:
    with pytest.raises(AccountNotFound):
        service.disable("nope")
    with pytest.raises(AccountNotFound):
        service.enable("nope")
    patient = service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean")
    service.disable(patient.id)
    assert service.get(patient.id).disabled  # type: ignore[union-attr]
    service.enable(patient.id)
    assert not service.get(patient.id).disabled  # type: ignore[union-attr]
