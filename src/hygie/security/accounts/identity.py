"""Rules on who an account is: username, kind, roles, RPPS number and FHIR references."""

from __future__ import annotations

import re
import unicodedata

from hygie.security.accounts.model import InvalidAccount
from hygie.security.context import PrincipalKind

USERNAME_MIN = 3
USERNAME_MAX = 64
DISPLAY_MAX = 200
# Lower-case ASCII so that look-alike Unicode letters cannot make a second "same" username;
# it also fits the audit log's actor-id syntax.
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]*")
_RPPS = re.compile(r"[0-9]{11}")
_REFERENCE = re.compile(r"[A-Za-z0-9\-.]{1,64}")

ACCOUNT_KINDS = (PrincipalKind.PATIENT, PrincipalKind.PRACTITIONER, PrincipalKind.ADMIN)
PROFESSIONAL_ROLES = frozenset(
    {"physician", "nurse", "midwife", "pharmacist", "dentist", "physiotherapist", "caregiver"}
)
ADMIN_ROLES = frozenset({"security-officer", "it-admin"})
# The FHIR resource an account's fhir_ref may point to, per kind (admins have none).
_FHIR_TYPE = {PrincipalKind.PATIENT: "Patient", PrincipalKind.PRACTITIONER: "Practitioner"}


def normalize_username(raw: str) -> str:
    """The stored form of a username: NFKC, trimmed, lower case (not yet validated)."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def check_username(raw: str) -> str:
    username = normalize_username(raw)
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        raise InvalidAccount(
            f"L'identifiant doit faire entre {USERNAME_MIN} et {USERNAME_MAX} caractères."
        )
    if not _USERNAME.fullmatch(username):
        raise InvalidAccount(
            "L'identifiant ne peut contenir que des lettres sans accent, des chiffres et . _ @ -, "
            "et doit commencer par une lettre ou un chiffre."
        )
    return username


def check_kind(kind: PrincipalKind | str) -> PrincipalKind:
    message = f"Type de compte inconnu : {kind!r} (patient, practitioner, admin)."
    try:
        value = PrincipalKind(kind)
    except ValueError:
        raise InvalidAccount(message) from None
    if value not in ACCOUNT_KINDS:
        raise InvalidAccount(message)
    return value


def check_display(display: str) -> str:
    value = display.strip()
    if not value or len(value) > DISPLAY_MAX or not value.isprintable():
        raise InvalidAccount(f"Le nom affiché doit faire de 1 à {DISPLAY_MAX} caractères.")
    return value


def check_roles(kind: PrincipalKind, roles: frozenset[str]) -> frozenset[str]:
    allowed = {
        PrincipalKind.PATIENT: frozenset[str](),
        PrincipalKind.PRACTITIONER: PROFESSIONAL_ROLES,
        PrincipalKind.ADMIN: ADMIN_ROLES,
    }[kind]
    unknown = sorted(roles - allowed)
    if unknown:
        names = ", ".join(sorted(allowed)) or "aucun"
        raise InvalidAccount(f"Rôle(s) non permis pour ce compte : {', '.join(unknown)} ({names}).")
    if allowed and not roles:
        raise InvalidAccount(
            f"Ce compte doit avoir au moins un rôle parmi : {', '.join(sorted(allowed))}."
        )
    return frozenset(roles)


def rpps_is_valid(number: str) -> bool:
    """11 digits whose last one is the Luhn check digit, as in the RPPS register."""
    if not _RPPS.fullmatch(number):
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def check_rpps(kind: PrincipalKind, rpps: str | None) -> str | None:
    if kind is not PrincipalKind.PRACTITIONER:
        if rpps is not None:
            raise InvalidAccount("Seul un compte de professionnel a un numéro RPPS.")
        return None
    if rpps is None or not rpps_is_valid(rpps.strip()):
        raise InvalidAccount(
            "Un professionnel doit avoir un numéro RPPS de 11 chiffres (clé de Luhn valide)."
        )
    return rpps.strip()


def check_fhir_ref(kind: PrincipalKind, ref: str | None) -> str | None:
    if ref is None:
        return None
    expected = _FHIR_TYPE.get(kind)
    if expected is None:
        raise InvalidAccount("Un compte d'administration n'a pas de référence FHIR.")
    return _reference(ref, expected)


def check_organization_ref(kind: PrincipalKind, ref: str | None) -> str | None:
    if ref is None:
        return None
    if kind is not PrincipalKind.PRACTITIONER:
        raise InvalidAccount("Seul un compte de professionnel est rattaché à une organisation.")
    return _reference(ref, "Organization")


def _reference(ref: str, resource_type: str) -> str:
    kind, _, ident = ref.strip().partition("/")
    if kind != resource_type or not _REFERENCE.fullmatch(ident):
        raise InvalidAccount(f"Référence attendue de la forme {resource_type}/<id>, reçu {ref!r}.")
    return f"{kind}/{ident}"
