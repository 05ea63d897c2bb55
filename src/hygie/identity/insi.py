"""The INSi teleservice (Assurance maladie): find a person's INS from their traits, or
verify that an INS and traits belong together.

INSi is an external SOAP service reached with the establishment's certificate; Hygie
codes against :class:`InsiClient` only. :class:`LocalInsi` answers from a table of
reference identities held in memory (the demo's, or a test's): it stands in for the
national directory (RNIPP), not for Hygie's own patients, so it lives outside the store.

Matching follows the teleservice: a search is by birth name, first first name, sex and
date of birth (the birth place only narrows), compared without accents or case; it
answers one identity or none (several candidates are no answer, as INSi does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from hygie.identity.ins import Ins, Traits
from hygie.identity.names import plain as _plain


@dataclass(frozen=True)
class InsiIdentity:
    """An identity as INSi returns it: the INS and the reference traits."""

    ins: Ins
    traits: Traits


class InsiClient(Protocol):
    def search(self, traits: Traits) -> InsiIdentity | None:
        """The one identity matching these traits, or None."""
        ...

    def verify(self, ins: Ins, traits: Traits) -> bool:
        """True when the directory knows this INS with these traits."""
        ...


class LocalInsi:
    """INSi answered from a table of reference identities (demo and tests)."""

    def __init__(self, identities: Iterable[InsiIdentity]) -> None:
        self._by_number = {identity.ins.number: identity for identity in identities}

    def __repr__(self) -> str:
        return f"LocalInsi({len(self._by_number)} identities)"

    def search(self, traits: Traits) -> InsiIdentity | None:
        matches = [
            identity
            for identity in self._by_number.values()
            if _search_key(identity.traits) == _search_key(traits)
            and identity.traits.birth_place in (traits.birth_place, "")
        ]
        return matches[0] if len(matches) == 1 else None

    def verify(self, ins: Ins, traits: Traits) -> bool:
        known = self._by_number.get(ins.number)
        return (
            known is not None
            and known.ins.oid == ins.oid
            and _search_key(known.traits) == _search_key(traits)
            and known.traits.birth_place == traits.birth_place
            and [_plain(n) for n in known.traits.first_names]
            == [_plain(n) for n in traits.first_names]
        )


def _search_key(traits: Traits) -> tuple[str, str, str, str]:
    first = traits.first_names[0] if traits.first_names else ""
    return (
        _plain(traits.birth_name),
        _plain(first),
        traits.sex,
        traits.birth_date.isoformat(),
    )
