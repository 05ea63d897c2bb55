"""Refusals and failures of the data layer, turned into French pages (never a stack trace).

The enforcement point answers 403 for a type-level refusal and 404 for a resource the
caller may not see (so that existence does not leak); a crypto-shredded content answers
410. Each gets a page that says what it means and what the person can do next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from hygie.http.caller_fhir import FhirCallError
from hygie.record.documents import DocumentError
from hygie.record.privacy import PrivacyError
from hygie.security.audit.sink import AuditNotStored
from hygie.security.edge import context_of
from hygie.web.caller import Gate, needs_second_factor, space_of

log = logging.getLogger(__name__)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def refusal_page(gate: Gate, request: Request, error: FhirCallError) -> Response:
    pages = gate.pages
    ctx = context_of(request.scope)
    space = space_of(request)
    nav = gate.nav_for(request, space)
    here = quote(request.url.path, safe="/")
    if error.status in (401, 403) and ctx is not None and needs_second_factor(ctx):
        return pages.explain(
            403,
            "Connexion renforcée nécessaire",
            "Les données de santé ne sont accessibles qu'après une connexion en deux "
            "étapes (mot de passe puis code de votre application ou clé d'accès).",
            nav=nav,
            actions=[(f"/connexion/second-facteur?next={here}", "Confirmer mon identité")],
        )
    patient_id = request.path_params.get("patient_id")
    if space == "pro" and patient_id and error.status in (403, 404):
        return pages.explain(
            error.status,
            "Accès au dossier refusé",
            "Ce dossier n'est pas accessible avec vos droits actuels : aucune relation de "
            "soins n'est enregistrée entre vous (ou votre établissement) et ce patient, ou "
            "le patient a restreint l'accès à son dossier ou à ce document. "
            "En cas d'urgence vitale, vous pouvez accéder au dossier par « bris de glace » : "
            "l'accès est limité à une heure, tracé, et le patient en est informé.",
            nav=nav,
            actions=[
                (f"/pro/patients/{quote(patient_id)}/bris-de-glace", "Accès en urgence"),
                ("/pro", "Rechercher un autre patient"),
            ],
        )
    if error.status == 410:
        return pages.explain(
            410,
            "Contenu effacé",
            "Ce contenu a été définitivement effacé à la demande du patient.",
            nav=nav,
        )
    if error.status == 404:
        return pages.explain(
            404,
            "Élément introuvable",
            "Cet élément n'existe pas, a été supprimé, ou vous n'y avez pas accès.",
            nav=nav,
            actions=[(f"/{space}", "Retour à l'accueil")],
        )
    if error.status == 403:
        return pages.explain(
            403,
            "Accès refusé",
            "Vos droits ne permettent pas cette action sur ce dossier.",
            nav=nav,
            actions=[(f"/{space}", "Retour à l'accueil")],
        )
    log.warning("portal page %s: FHIR answered %d", request.url.path, error.status)
    return pages.explain(
        502 if error.status >= 500 else 400,
        "Opération impossible",
        "Le dossier n'a pas pu traiter cette demande. Réessayez ; si le problème persiste, "
        "contactez le support.",
        nav=nav,
    )


def back_from(path: str) -> tuple[str, str]:
    """Where a refused privacy change sends the patient back to."""
    if path.startswith("/espace/documents"):
        return ("/espace/documents", "Retour à mes documents")
    return ("/espace/confidentialite", "Retour à la confidentialité")


def portal_route_class(gate: Gate) -> type[APIRoute]:
    """Routes whose data-layer failures answer an explanation page."""

    class PortalRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handle = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handle(request)
                except FhirCallError as error:
                    return refusal_page(gate, request, error)
                except DocumentError as missing:  # raised for a document it cannot find
                    return gate.pages.explain(
                        404,
                        "Document introuvable",
                        str(missing),
                        nav=gate.nav_for(request, space_of(request)),
                    )
                except PrivacyError as refused:
                    return gate.pages.explain(
                        400,
                        "Réglage impossible",
                        str(refused),
                        nav=gate.nav_for(request, space_of(request)),
                        actions=[back_from(request.url.path)],
                    )
                except AuditNotStored:
                    # Nothing may leave before its access is in the audit log.
                    log.error("portal page %s: audit entries not stored", request.url.path)
                    return gate.pages.explain(
                        503,
                        "Service momentanément indisponible",
                        "Le journal des accès ne répond pas ; par sécurité rien n'est "
                        "affiché. Réessayez dans quelques instants.",
                        nav=gate.nav_for(request, space_of(request)),
                    )

            return guarded

    return PortalRoute
