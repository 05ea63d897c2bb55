"""Templates, French formatting and the explanation pages every portal page shares.

Pages answer with the sign-in pages' security headers (no-store, strict CSP, same-origin
referrer): they show health data, which no shared cache may keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse

from hygie.security.sessions.web import SECURITY_HEADERS


def _paris() -> tzinfo:
    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:  # no tz database on this host: say UTC rather than guess
        return UTC


PARIS = _paris()


_DATE_FORMS = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), (0, 1, 2)),
    (re.compile(r"(\d{2})/(\d{2})/(\d{4})"), (2, 1, 0)),
)


def parse_date_fr(text: str) -> date | None:
    """``AAAA-MM-JJ`` (date fields) or ``JJ/MM/AAAA`` (typed by hand); None if neither."""
    for pattern, order in _DATE_FORMS:
        match = pattern.fullmatch(text.strip())
        if match:
            parts = [int(match.group(i + 1)) for i in order]
            try:
                return date(parts[0], parts[1], parts[2])
            except ValueError:
                return None
    return None


def when_fr(value: datetime | date | None) -> str:
    """``12/03/2026 à 14:05`` in Paris time; a date alone as ``12/03/2026``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    return value.strftime("%d/%m/%Y")


def size_fr(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} Ko".replace(".", ",")
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",") + " Mo"


@dataclass
class FormErrors:
    """Validation messages by field id, shown next to the field and in the page's summary."""

    messages: dict[str, str] = field(default_factory=dict)

    def add(self, field_id: str, message: str) -> None:
        self.messages.setdefault(field_id, message)

    def __bool__(self) -> bool:
        return bool(self.messages)


class Pages:
    def __init__(self) -> None:
        self._templates = Environment(
            loader=PackageLoader("hygie.web", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,  # a misspelt variable fails the tests, not the page
        )
        self._templates.filters["when_fr"] = when_fr
        self._templates.filters["size_fr"] = size_fr

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("errors", FormErrors())
        html = self._templates.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def explain(
        self,
        status: int,
        title: str,
        text: str,
        *,
        nav: Any = None,
        actions: list[tuple[str, str]] | None = None,
    ) -> HTMLResponse:
        """A page that says what happened and what the person can do (``(href, label)``)."""
        return self.render(
            "explication.html", status, title=title, text=text, nav=nav, actions=actions or []
        )


def see_other(url: str) -> RedirectResponse:
    """The redirect after a successful form (POST-redirect-GET)."""
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
