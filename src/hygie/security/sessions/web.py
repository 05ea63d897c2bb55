"""What every sign-in and account page shares: templates, headers, cookies, redirects.

Pages answer ``Cache-Control: no-store`` (they show codes, secrets and session lists), a
strict CSP (scripts and styles from this origin only) and ``Referrer-Policy: same-origin``:
no address leaks to other sites (the OIDC callback URL carries a code), while our own forms
keep their ``Origin`` (with ``no-referrer`` browsers send ``Origin: null``). ``local_path``
is the only way a ``next`` parameter becomes a redirect target: no open redirect.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hygie.security.sessions.service import SESSION_COOKIE

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send Origin: null
    "X-Content-Type-Options": "nosniff",
}
OIDC_COOKIE = "__Host-hygie_oidc"


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site (``/x?y``), else ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x21 or c == "\\" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def with_next(path: str, next_path: str) -> str:
    return path if next_path == "/" else f"{path}?next={quote(next_path, safe='/')}"


def _paris() -> tzinfo:
    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:  # no tz database on this host: say UTC rather than guess
        return UTC


def datetime_fr(epoch: int) -> str:
    moment = datetime.fromtimestamp(epoch, _paris())
    return moment.strftime("%d/%m/%Y à %H:%M ") + (moment.tzname() or "UTC")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


class Pages:
    def __init__(self) -> None:
        self._templates = Environment(
            loader=PackageLoader("hygie.security.sessions", "templates"),
            autoescape=select_autoescape(["html"]),
        )
        self._templates.filters["datetime_fr"] = datetime_fr

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self._templates.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def message(self, status: int, title: str, text: str) -> HTMLResponse:
        return self.render("message.html", status, title=title, text=text)

    def forbidden(self) -> HTMLResponse:
        return self.message(
            403,
            "Requête refusée",
            "Le jeton de sécurité du formulaire est absent ou invalide. "
            "Rechargez la page puis recommencez.",
        )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    # __Host- cookies: Secure, Path=/, no Domain, so no subdomain can set or read them.
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, name: str = SESSION_COOKIE) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="lax")
