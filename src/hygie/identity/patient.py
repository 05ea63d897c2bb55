"""Reading the INS and its traits off a FHIR Patient, the way FR Core writes them.

FR Core (profile fr-core-patient-ins): the INS is an identifier of system
``urn:oid:1.2.250.1.213.1.4.8`` (NIR) or ``...4.9`` (NIA), type INS-NIR/INS-NIA; the birth
name is the ``official`` name's family; the list of first names is that name's
``fr-core-patient-birth-list-given-name`` extension (space-separated) or else its
``given``; the birth place is the ``patient-birthPlace`` extension, an Address carrying
the INSEE code in ``fr-core-address-insee-code``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from hygie.identity.ins import INS_SYSTEMS, NIA_OID, Ins, Sex, Traits

BIRTH_PLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune"
BIRTH_LIST_GIVEN_URL = (
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name"
)
IDENTIFIER_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
_SEX_OF_GENDER: dict[str, Sex] = {"male": "M", "female": "F"}


def ins_identifiers(patient: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
    """(position in Patient.identifier, OID, value) of each INS identifier."""
    for position, identifier in enumerate(patient.get("identifier", ())):
        oid = INS_SYSTEMS.get(identifier.get("system", ""))
        if oid is not None:
            yield position, oid, str(identifier.get("value", ""))


def ins_identifier(ins: Ins) -> dict[str, Any]:
    """The FR Core identifier element for ``ins``."""
    code = "INS-NIA" if ins.oid == NIA_OID else "INS-NIR"
    return {
        "use": "official",
        "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": code}]},
        "system": ins.system,
        "value": ins.number,
    }


def official_name(patient: dict[str, Any]) -> dict[str, Any] | None:
    names: list[dict[str, Any]] = list(patient.get("name", ()))
    official = [n for n in names if n.get("use") == "official"]
    chosen = official or names
    return chosen[0] if chosen else None


def birth_name(patient: dict[str, Any]) -> str | None:
    name = official_name(patient)
    return name.get("family") if name else None


def first_names(patient: dict[str, Any]) -> tuple[str, ...]:
    name = official_name(patient)
    if not name:
        return ()
    for extension in name.get("extension", ()):
        if extension.get("url") == BIRTH_LIST_GIVEN_URL and extension.get("valueString"):
            return tuple(str(extension["valueString"]).split())
    return tuple(name.get("given", ()))


def sex_of(patient: dict[str, Any]) -> Sex | None:
    return _SEX_OF_GENDER.get(patient.get("gender", ""))


def birth_date_parts(patient: dict[str, Any]) -> tuple[int, int | None] | None:
    """(year, month or None) of Patient.birthDate, which may be YYYY, YYYY-MM or a date."""
    value = patient.get("birthDate")
    if not isinstance(value, str) or len(value) < 4:
        return None
    return int(value[:4]), int(value[5:7]) if len(value) >= 7 else None


def birth_place(patient: dict[str, Any]) -> str | None:
    """The INSEE code of the birth place, if the Patient gives it."""
    for extension in patient.get("extension", ()):
        if extension.get("url") != BIRTH_PLACE_URL:
            continue
        for part in (extension.get("valueAddress") or {}).get("extension", ()):
            if part.get("url") == INSEE_CODE_URL:
                code = (part.get("valueCoding") or {}).get("code")
                return str(code) if code else None
    return None


def birth_place_extension(insee_code: str, city: str) -> dict[str, Any]:
    return {
        "url": BIRTH_PLACE_URL,
        "valueAddress": {
            "extension": [
                {
                    "url": INSEE_CODE_URL,
                    "valueCoding": {"system": COMMUNE_SYSTEM, "code": insee_code},
                }
            ],
            "city": city,
        },
    }


def traits_of(patient: dict[str, Any]) -> Traits | None:
    """The five traits, or None if the Patient lacks one (a full birth date included)."""
    name, given, sex = birth_name(patient), first_names(patient), sex_of(patient)
    place, born = birth_place(patient), patient.get("birthDate")
    if not (name and given and sex and place and isinstance(born, str) and len(born) == 10):
        return None
    return Traits(name, given, date.fromisoformat(born), sex, place)
