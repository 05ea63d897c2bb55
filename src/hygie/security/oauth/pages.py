"""The two pages of the authorization endpoint, in French: the consent screen and the error page.

Everything shown is escaped; the pages forbid framing (a consent button must never be
clickjacked) and are never cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from hygie.security.scopes import Scope

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send Origin: null
    "X-Content-Type-Options": "nosniff",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}"
    "li{margin:.3rem 0}"
)
_VERBS = {"c": "créer", "r": "lire", "u": "modifier", "d": "supprimer", "s": "rechercher"}
_OTHER = {
    "openid": "Confirmer votre identité auprès de l'application",
    "fhirUser": "Connaître votre fiche (patient ou professionnel)",
    "profile": "Connaître votre nom",
    "launch/patient": "Savoir quel dossier patient est ouvert",
    "launch": "Recevoir le contexte de lancement",
    "launch/encounter": "Savoir quelle venue est concernée",
    "offline_access": "Garder l'accès même quand vous n'utilisez pas l'application",
    "online_access": "Garder l'accès pendant que vous utilisez l'application",
}


def describe(scope: Scope) -> str:
    if not scope.clinical:
        return _OTHER.get(scope.raw, scope.raw)
    verbs = [word for letter, word in _VERBS.items() if letter in scope.permissions]
    what = "toutes les données" if scope.resource_type == "*" else f"les {scope.resource_type}"
    where = {
        "patient": "du dossier patient concerné",
        "user": "auxquelles vous avez accès",
        "system": "de tout le système",
    }[scope.context or "user"]
    action = ", ".join(verbs[:-1]) + (" et " if len(verbs) > 1 else "") + verbs[-1]
    return f"{action.capitalize()} {what} {where}"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · Hygie</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def error_page(message: str) -> str:
    return _page(
        "Demande d'autorisation refusée",
        f"<p>{escape(message)}</p><p>Vous pouvez fermer cette page et revenir à l'application.</p>",
    )


def consent_page(
    *, client_name: str, user_display: str, scopes: Iterable[Scope], form_token: str, action: str
) -> str:
    items = "".join(
        f"<li>{escape(describe(scope))} <small>(<code>{escape(scope.raw)}</code>)</small></li>"
        for scope in sorted(scopes, key=lambda scope: scope.raw)
    )
    body = (
        f"<p>Bonjour {escape(user_display)}. L'application <strong>{escape(client_name)}</strong>"
        " demande à :</p>"
        f"<ul>{items}</ul>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="form_token" value="{escape(form_token)}">'
        '<button type="submit" name="decision" value="approve">Autoriser</button>'
        '<button type="submit" name="decision" value="deny">Refuser</button>'
        "</form><p><small>Vous pourrez retirer cet accès à tout moment.</small></p>"
    )
    return _page("Autoriser l'application ?", body)
