"""The timeline's filter form (kinds and period), read from the query string."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from starlette.datastructures import QueryParams

from hygie.record.timeline import TIMELINE_KINDS
from hygie.web.render import FormErrors, parse_date_fr


@dataclass(frozen=True)
class TimelineFilter:
    kinds: frozenset[str] = frozenset()  # resource types; empty means all
    since_text: str = ""
    until_text: str = ""
    since: date | None = None
    until: date | None = None
    errors: FormErrors = field(default_factory=FormErrors)

    @property
    def kinds_or_none(self) -> set[str] | None:
        return set(self.kinds) or None


def read_filter(query: QueryParams) -> TimelineFilter:
    known = set(TIMELINE_KINDS.values())
    kinds = frozenset(k for k in query.getlist("type") if k in known)
    since_text, until_text = query.get("depuis", "").strip(), query.get("jusqua", "").strip()
    errors = FormErrors()
    since = _date(since_text, "depuis", errors)
    until = _date(until_text, "jusqua", errors)
    if since and until and since > until:
        errors.add("jusqua", "La fin de la période doit suivre son début.")
        until = None
    return TimelineFilter(kinds, since_text, until_text, since, until, errors)


def _date(text: str, field_id: str, errors: FormErrors) -> date | None:
    if not text:
        return None
    parsed = parse_date_fr(text)
    if parsed is None:
        errors.add(field_id, "Date invalide : saisissez-la au format JJ/MM/AAAA.")
    return parsed
