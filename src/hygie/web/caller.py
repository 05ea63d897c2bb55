"""Who is on a portal page, what they may submit, and the pages that turn them away.

The edge has authenticated the request (a page session) and put its context in the scope;
here the patient space keeps patients and the portal professionals. Whether they may see
a given piece of health data is never decided here: the enforcement point does it on
every FHIR call the page makes.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from hygie.security.context import Aal, PrincipalKind, RequestContext
from hygie.security.edge import context_of
from hygie.security.sessions.csrf import CsrfGuard
from hygie.web.render import Pages, see_other


@dataclass(frozen=True)
class Nav:
    """What the page header shows: whose space it is, their links, the sign-out form."""

    space: str  # "espace" or "pro"
    name: str
    csrf: str
    current: str = ""  # the path of the active menu entry


@dataclass(frozen=True)
class Caller:
    ctx: RequestContext
    fhir_id: str  # the Patient or Practitioner id the account is
    csrf: str

    @property
    def ref(self) -> str:
        ref = self.ctx.principal.fhir_ref
        assert ref is not None  # checked when the Caller is built
        return ref

    def nav(self, space: str, current: str = "") -> Nav:
        return Nav(space, self.ctx.principal.display, self.csrf, current)


SPACE_OF = {PrincipalKind.PATIENT: "espace", PrincipalKind.PRACTITIONER: "pro"}
WRONG_SPACE = {
    "espace": (
        "Espace réservé aux patients",
        "Cet espace est celui des patients, pour leur propre dossier. En tant que "
        "professionnel, utilisez le portail professionnel.",
        ("/pro", "Aller au portail professionnel"),
    ),
    "pro": (
        "Portail réservé aux professionnels de santé",
        "Ce portail sert aux professionnels de santé. Votre dossier est dans votre espace santé.",
        ("/espace", "Aller à mon espace santé"),
    ),
}


class Gate:
    """Admits the right kind of person to each space, and checks their forms' CSRF tokens."""

    def __init__(self, pages: Pages, csrf: CsrfGuard) -> None:
        self.pages = pages
        self.csrf = csrf

    def admit(self, request: Request, space: str) -> Caller | Response:
        ctx = context_of(request.scope)
        if ctx is None or ctx.session_id is None:  # the edge lets no one else reach here
            return see_other("/connexion")
        principal = ctx.principal
        ref = principal.fhir_ref or ""
        expected = "Patient/" if space == "espace" else "Practitioner/"
        if SPACE_OF.get(principal.kind) != space:
            title, text, action = WRONG_SPACE[space]
            known = principal.kind in SPACE_OF
            return self.pages.explain(403, title, text, actions=[action] if known else [])
        if not ref.startswith(expected):
            return self.pages.explain(
                403,
                "Compte non relié à un dossier",
                "Votre compte n'est relié à aucune fiche du système de santé. "
                "Contactez l'accueil ou le service informatique pour le faire relier.",
            )
        return Caller(ctx, ref.split("/", 1)[1], self.csrf.token(ctx.session_id))

    def nav_for(self, request: Request, space: str) -> Nav | None:
        """The header of a page shown outside a handler (error pages)."""
        ctx = context_of(request.scope)
        if ctx is None or ctx.session_id is None:
            return None
        return Nav(space, ctx.principal.display, self.csrf.token(ctx.session_id))

    def form_ok(self, request: Request, caller: Caller, token: str | None) -> bool:
        assert caller.ctx.session_id is not None
        return self.csrf.check(caller.ctx.session_id, token, request.headers.get("origin"))

    def bad_form(self, caller: Caller, space: str) -> Response:
        return self.pages.explain(
            403,
            "Formulaire refusé",
            "Le jeton de sécurité du formulaire est absent ou invalide. "
            "Rechargez la page puis recommencez.",
            nav=caller.nav(space),
        )


def space_of(request: Request) -> str:
    return "pro" if request.url.path.startswith("/pro") else "espace"


def needs_second_factor(ctx: RequestContext) -> bool:
    return ctx.aal < Aal.TWO
