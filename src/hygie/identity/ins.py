"""The INS (Identifiant national de santé): a NIR or a NIA, and its five reference traits.

An INS is 13 characters and a 2-digit key::

    2 84 05 75 056 089 24
    | |  |  |  |   |   key = 97 - (the 13 first characters as a number, mod 97)
    | |  |  |  |   order number of the birth in the month and commune (001-999)
    | |  |  birth place: department (2A/2B in Corsica, 97/98 overseas, 99 abroad)
    | |  |     and commune, or 99 and the INSEE country code for a birth abroad
    | |  month of birth (01-12; 20-42 or 50-99 when civil status does not give it)
    | year of birth (2 digits)
    sex: 1 man, 2 woman (a NIA may also start with 3/4 or 7/8: odd man, even woman)

The number alone is checked by :func:`parse_ins`; :func:`check_ins_traits` checks that
it agrees with the traits (sex, year and month of birth, birth place). Both raise
:class:`InsError` with a French message saying what is wrong, without repeating the
number (patient identifiers stay out of messages and logs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from stdnum.fr import nir as stdnum_nir

NIR_OID = "1.2.250.1.213.1.4.8"
NIA_OID = "1.2.250.1.213.1.4.9"
NIR_SYSTEM = f"urn:oid:{NIR_OID}"
NIA_SYSTEM = f"urn:oid:{NIA_OID}"
INS_SYSTEMS = {NIR_SYSTEM: NIR_OID, NIA_SYSTEM: NIA_OID}

Sex = Literal["M", "F"]
_SEX_WORD = {"M": "homme", "F": "femme"}
# First character: the sex. A NIR proper is 1 or 2; 3/4 (old provisional numbers) and 7/8
# (temporary numbers) are waiting numbers, valid as a NIA only.
_NIR_SEX_DIGITS = {"1": "M", "2": "F"}
_NIA_SEX_DIGITS = {"1": "M", "2": "F", "3": "M", "4": "F", "7": "M", "8": "F"}
_SHAPE = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}$")
_CORSICA = ("2A", "2B")


class InsError(ValueError):
    """An INS refused: the message (French) says why."""


@dataclass(frozen=True)
class Traits:
    """The five INS reference traits, as the INSi teleservice returns them."""

    birth_name: str
    first_names: tuple[str, ...]
    birth_date: date
    sex: Sex
    birth_place: str  # INSEE code: commune (5 characters) or 99 + country code


@dataclass(frozen=True)
class Ins:
    """A checked INS (15 characters, no spaces). Its repr hides the number."""

    number: str = field(repr=False)
    oid: str

    @property
    def kind(self) -> Literal["NIR", "NIA"]:
        return "NIR" if self.oid == NIR_OID else "NIA"

    @property
    def system(self) -> str:
        return f"urn:oid:{self.oid}"

    @property
    def sex(self) -> Sex:
        return _NIA_SEX_DIGITS[self.number[0]]  # type: ignore[return-value]

    @property
    def birth_year(self) -> int:
        """The year of birth, modulo 100."""
        return int(self.number[1:3])

    @property
    def birth_month(self) -> int | None:
        """1-12, or None when the number says the month is not known."""
        month = int(self.number[3:5])
        return month if 1 <= month <= 12 else None

    @property
    def birth_place(self) -> str:
        """The INSEE code of the birth place (commune, or 99 and the country code)."""
        return self.number[5:10]


def parse_ins(value: str, oid: str) -> Ins:
    """The INS ``value`` under identifier system ``oid`` (with or without ``urn:oid:``),
    checked; spaces and dots between groups are allowed. Raises :class:`InsError`."""
    oid = oid.removeprefix("urn:oid:")
    if oid not in (NIR_OID, NIA_OID):
        raise InsError(
            f"l'OID {oid} n'est pas celui d'un INS : un NIR s'identifie par l'OID {NIR_OID}, "
            f"un NIA par l'OID {NIA_OID}"
        )
    number = stdnum_nir.compact(value)
    if len(number) != 15:
        raise InsError(
            f"un INS compte 15 caractères (13 pour le numéro, 2 pour la clé), "
            f"celui-ci en compte {len(number)}"
        )
    if not _SHAPE.match(number):
        raise InsError(_misplaced_character(number))
    _check_sex_digit(number[0], oid)
    month = int(number[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or month >= 50):
        raise InsError(
            f"le mois de naissance {number[3:5]} n'existe pas (01 à 12, ou 20 à 42 et 50 à 99 "
            "quand l'état civil ne donne pas le mois)"
        )
    if number[5:7] == "00":
        raise InsError("le département de naissance 00 n'existe pas")
    if number[10:13] == "000":
        raise InsError("le numéro d'ordre 000 n'existe pas (001 à 999)")
    expected = stdnum_nir.calc_check_digits(number)  # Corsica: 2A/2B count as 19/18
    if number[13:] != expected:
        raise InsError(
            f"la clé {number[13:]} ne correspond pas au numéro (clé attendue : {expected}) : "
            "un caractère a sans doute été mal saisi"
        )
    return Ins(number, oid)


def check_ins_traits(ins: Ins, traits: Traits) -> None:
    """Raise :class:`InsError` unless the INS agrees with the traits."""
    check_sex(ins, traits.sex)
    check_birth_date(ins, traits.birth_date.year, traits.birth_date.month)
    check_birth_place(ins, traits.birth_place)


def check_sex(ins: Ins, sex: Sex) -> None:
    if ins.sex != sex:
        raise InsError(
            f"le premier chiffre de l'INS ({ins.number[0]}) désigne un(e) {_SEX_WORD[ins.sex]}, "
            f"le sexe déclaré est {_SEX_WORD[sex]}"
        )


def check_birth_date(ins: Ins, year: int, month: int | None = None) -> None:
    """``month`` None: only the year is known."""
    if ins.birth_year != year % 100:
        raise InsError(
            f"l'année de naissance de l'INS ({ins.number[1:3]}) ne correspond pas à "
            f"l'année de naissance déclarée ({year})"
        )
    if month is not None and ins.birth_month is not None and ins.birth_month != month:
        raise InsError(
            f"le mois de naissance de l'INS ({ins.number[3:5]}) ne correspond pas au mois "
            f"de naissance déclaré ({month:02d})"
        )


def check_birth_place(ins: Ins, insee_code: str) -> None:
    place = insee_code.strip().upper()
    if ins.birth_place == place:
        return
    # Before 1976 Corsica was one department, 20: older numbers keep it, while the INSEE
    # code of the commune now reads 2A or 2B.
    if ins.birth_place[:2] == "20" and place[:2] in _CORSICA and ins.birth_place[2:] == place[2:]:
        return
    where = "le pays" if ins.birth_place.startswith("99") else "la commune"
    raise InsError(
        f"{where} de naissance de l'INS (code {ins.birth_place}) ne correspond pas au lieu "
        f"de naissance déclaré (code INSEE {place})"
    )


def ins_key(number13: str) -> str:
    """The 2-digit key of the 13 first characters (2A/2B count as 19/18)."""
    return str(stdnum_nir.calc_check_digits(number13))


def format_ins(ins: Ins) -> str:
    """For display: ``2 84 05 75 056 089 24``."""
    return str(stdnum_nir.format(ins.number))


def _misplaced_character(number: str) -> str:
    for position, character in enumerate(number, start=1):
        if position in (6, 7) and number[5:7] in _CORSICA:
            continue
        if not character.isdigit():
            where = (
                " (seuls 2A et 2B, départements de Corse, admettent une lettre en 6e et 7e "
                "positions)"
                if character.isalpha() and position in (6, 7)
                else ""
            )
            return (
                f"le caractère « {character} » en position {position} n'est pas un chiffre{where}"
            )
    return "un INS ne contient que des chiffres, sauf 2A ou 2B en 6e et 7e positions"


def _check_sex_digit(digit: str, oid: str) -> None:
    if oid == NIR_OID and digit not in _NIR_SEX_DIGITS:
        if digit in _NIA_SEX_DIGITS:
            raise InsError(
                f"un numéro commençant par {digit} est un numéro d'attente (NIA) : il s'emploie "
                f"avec l'OID du NIA ({NIA_OID}), pas celui du NIR"
            )
        raise InsError(f"le premier chiffre d'un NIR est le sexe (1 ou 2), pas {digit}")
    if oid == NIA_OID and digit not in _NIA_SEX_DIGITS:
        raise InsError(f"le premier chiffre d'un NIA est 1, 2, 3, 4, 7 ou 8, pas {digit}")
