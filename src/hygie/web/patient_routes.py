"""The patient's space under /espace: timeline, documents, profile, access history, privacy,
archive. Every piece of data is read or written as the patient, through the enforcement point.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hygie.fhir.router import FhirRouter
from hygie.http.caller_fhir import FhirClient
from hygie.record.access_history import AccessHistoryRefused, access_history
from hygie.record.directory import Directory, DirectoryAccess, Person
from hygie.record.documents import (
    DOCUMENT_TYPES,
    DocumentError,
    DocumentSummary,
    document_content,
    find_documents,
    provide_document,
)
from hygie.record.export import ExportTooLarge, export_archive
from hygie.record.privacy import (
    block_actor,
    hide_document,
    read_privacy,
    set_emergency_forbidden,
    show_document,
    unblock_actor,
)
from hygie.record.profile import ProfileError, add_to_profile, read_profile
from hygie.record.timeline import TIMELINE_KINDS, build_timeline
from hygie.web.caller import Caller
from hygie.web.document_forms import (
    DocumentForm,
    accepted_label,
    content_type_of,
    file_response,
    receive_document_form,
)
from hygie.web.notices import notice_of
from hygie.web.patients import FHIR_ID
from hygie.web.portal import Portal, as_caller
from hygie.web.profile_forms import profile_form_errors, profile_sections_view
from hygie.web.render import see_other
from hygie.web.timeline_filters import read_filter

SPACE = "espace"
HISTORY_PAGE = 50
Csrf = Annotated[str, Form(alias="csrf")]


def add_patient_routes(router: APIRouter, portal: Portal) -> None:
    pages, gate = portal.pages, portal.gate

    def admit(request: Request) -> Caller | Response:
        return gate.admit(request, SPACE)

    @router.get("/espace")
    async def home(request: Request) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        chosen = read_filter(request.query_params)
        items = await as_caller(
            request,
            build_timeline,
            caller.fhir_id,
            kinds=chosen.kinds_or_none,
            since=chosen.since,
            until=chosen.until,
        )
        return pages.render(
            "espace_accueil.html",
            400 if chosen.errors else 200,
            nav=caller.nav(SPACE, "/espace"),
            items=items,
            kinds=TIMELINE_KINDS,
            chosen=chosen,
            errors=chosen.errors,
            base="/espace",
        )

    # Documents ------------------------------------------------------------------------

    def documents_page(
        caller: Caller,
        documents: list[DocumentSummary],
        hidden: frozenset[str],
        form: DocumentForm | None = None,
        notice: str = "",
    ) -> Response:
        form = form or DocumentForm()
        return pages.render(
            "espace_documents.html",
            form.status,
            nav=caller.nav(SPACE, "/espace/documents"),
            documents=documents,
            hidden=hidden,
            types=DOCUMENT_TYPES,
            form=form,
            errors=form.errors,
            accepted=accepted_label(),
            notice=notice,
            csrf=caller.csrf,
        )

    def documents_and_hidden(
        fhir: FhirClient, patient_id: str
    ) -> tuple[list[DocumentSummary], frozenset[str]]:
        documents = find_documents(fhir, patient_id)
        return documents, read_privacy(fhir, patient_id).hidden_documents

    @router.get("/espace/documents")
    async def documents(request: Request) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        listed, hidden = await as_caller(request, documents_and_hidden, caller.fhir_id)
        return documents_page(caller, listed, hidden, notice=notice_of(request))

    @router.post("/espace/documents")
    async def upload(request: Request) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        form = await receive_document_form(request)
        if form.status != 413 and not gate.form_ok(request, caller, form.csrf):
            return gate.bad_form(caller, SPACE)
        if not form.errors and form.file is not None:
            upload_file = form.file
            try:
                await as_caller(
                    request,
                    provide_document,
                    patient_id=caller.fhir_id,
                    author_ref=caller.ref,
                    title=form.title,
                    type_code=form.type_code,
                    content=upload_file.content,
                    content_type=content_type_of(upload_file),
                    file_name=upload_file.name,
                )
            except DocumentError as refused:
                form.errors.add("fichier", str(refused))
                form.status = 400
            else:
                return see_other("/espace/documents?fait=ajoute")
        listed, hidden = await as_caller(request, documents_and_hidden, caller.fhir_id)
        return documents_page(caller, listed, hidden, form)

    @router.get("/espace/documents/{document_id}/fichier")
    async def document_file(request: Request, document_id: str, telecharger: str = "") -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        if not FHIR_ID.fullmatch(document_id):
            return pages.explain(
                404, "Document introuvable", "Ce document n'existe pas.", nav=caller.nav(SPACE)
            )
        content, content_type, name = await as_caller(request, document_content, document_id)
        return file_response(content, content_type, name, download=bool(telecharger))

    async def change_visibility(
        request: Request, document_id: str, token: str, hide: bool
    ) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        if not gate.form_ok(request, caller, token):
            return gate.bad_form(caller, SPACE)
        if not FHIR_ID.fullmatch(document_id):
            return pages.explain(
                404, "Document introuvable", "Ce document n'existe pas.", nav=caller.nav(SPACE)
            )
        change = hide_document if hide else show_document
        await as_caller(request, change, caller.fhir_id, document_id)
        return see_other(f"/espace/documents?fait={'masque' if hide else 'affiche'}")

    @router.post("/espace/documents/{document_id}/masquer")
    async def hide(request: Request, document_id: str, csrf: Csrf = "") -> Response:
        return await change_visibility(request, document_id, csrf, hide=True)

    @router.post("/espace/documents/{document_id}/afficher")
    async def show(request: Request, document_id: str, csrf: Csrf = "") -> Response:
        return await change_visibility(request, document_id, csrf, hide=False)

    # Profile --------------------------------------------------------------------------

    @router.get("/espace/profil")
    async def profile(request: Request) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        sections = await as_caller(request, read_profile, caller.fhir_id)
        return pages.render(
            "profil.html",
            nav=caller.nav(SPACE, "/espace/profil"),
            sections=profile_sections_view(sections),
            base="/espace",
            csrf=caller.csrf,
            notice=notice_of(request),
            open_section="",
            values={},
            patient=None,
        )

    @router.post("/espace/profil/{section_key}")
    async def add_profile(request: Request, section_key: str) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not gate.form_ok(request, caller, form.pop("csrf", "")):
            return gate.bad_form(caller, SPACE)
        try:
            await as_caller(request, add_to_profile, caller.fhir_id, caller.ref, section_key, form)
        except ProfileError as refused:
            sections = await as_caller(request, read_profile, caller.fhir_id)
            return pages.render(
                "profil.html",
                400,
                nav=caller.nav(SPACE, "/espace/profil"),
                sections=profile_sections_view(sections),
                base="/espace",
                csrf=caller.csrf,
                notice="",
                open_section=section_key,
                values=form,
                errors=profile_form_errors(section_key, refused, form),
                patient=None,
            )
        return see_other("/espace/profil?fait=profil")

    # Access history -------------------------------------------------------------------

    @router.get("/espace/acces")
    async def accesses(request: Request, avant: str = "") -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        before = int(avant) if avant.isdigit() else None
        security = portal.security
        try:
            history = await run_in_threadpool(
                access_history,
                security.audit_log,
                security.pdp,
                Directory(request.app.state.fhir_router),
                caller.ctx,
                limit=HISTORY_PAGE,
                before=before,
            )
        except AccessHistoryRefused as refused:
            return pages.explain(
                403, "Historique indisponible", str(refused), nav=caller.nav(SPACE)
            )
        return pages.render(
            "espace_acces.html",
            nav=caller.nav(SPACE, "/espace/acces"),
            history=history,
            csrf=caller.csrf,
            first_page=before is None,
        )

    # Privacy --------------------------------------------------------------------------

    @router.get("/espace/confidentialite")
    async def privacy(request: Request, recherche: str = "") -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        wanted = recherche.strip()[:100]
        settings = await as_caller(request, read_privacy, caller.fhir_id)
        found = []
        if wanted:
            found = await run_in_threadpool(
                find_professionals, request.app.state.fhir_router, wanted
            )
        return pages.render(
            "espace_confidentialite.html",
            nav=caller.nav(SPACE, "/espace/confidentialite"),
            settings=settings,
            search=wanted,
            found=found,
            csrf=caller.csrf,
            notice=notice_of(request),
        )

    @router.post("/espace/confidentialite/bloquer")
    async def block(
        request: Request,
        acteur: Annotated[str, Form()] = "",
        nom: Annotated[str, Form()] = "",
        csrf: Csrf = "",
    ) -> Response:
        return await change_actor(request, acteur, csrf, block=True, name=nom)

    @router.post("/espace/confidentialite/debloquer")
    async def unblock(
        request: Request, acteur: Annotated[str, Form()] = "", csrf: Csrf = ""
    ) -> Response:
        return await change_actor(request, acteur, csrf, block=False)

    async def change_actor(
        request: Request, actor: str, token: str, *, block: bool, name: str = ""
    ) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        if not gate.form_ok(request, caller, token):
            return gate.bad_form(caller, SPACE)
        kind, _, actor_id = actor.partition("/")
        if kind not in ("Practitioner", "Organization") or not FHIR_ID.fullmatch(actor_id):
            return pages.explain(
                400,
                "Professionnel inconnu",
                "Choisissez le professionnel dans la liste proposée.",
                nav=caller.nav(SPACE),
                actions=[("/espace/confidentialite", "Retour à la confidentialité")],
            )
        if block:
            await as_caller(request, block_actor, caller.fhir_id, actor, name=name)
        else:
            await as_caller(request, unblock_actor, caller.fhir_id, actor)
        return see_other(f"/espace/confidentialite?fait={'bloque' if block else 'debloque'}")

    @router.post("/espace/confidentialite/urgence")
    async def emergency(
        request: Request, interdire: Annotated[str, Form()] = "", csrf: Csrf = ""
    ) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        if not gate.form_ok(request, caller, csrf):
            return gate.bad_form(caller, SPACE)
        forbidden = interdire == "oui"
        await as_caller(request, set_emergency_forbidden, caller.fhir_id, forbidden)
        done = "urgence-interdite" if forbidden else "urgence-autorisee"
        return see_other(f"/espace/confidentialite?fait={done}")

    # Archive --------------------------------------------------------------------------

    @router.get("/espace/archive")
    async def archive(request: Request) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        try:
            content = await as_caller(request, export_archive, caller.fhir_id)
        except ExportTooLarge as too_large:
            return pages.explain(
                413, "Dossier trop volumineux", str(too_large), nav=caller.nav(SPACE)
            )
        return file_response(content, "application/zip", "dossier-hygie.zip", download=True)


def find_professionals(router: FhirRouter, search: str) -> list[Person]:
    """Professionals whose name matches, to block: a directory look-up (names, professions,
    organisations, no health data), which a patient's own guard does not allow."""
    fhir = FhirClient(router, DirectoryAccess())
    directory = Directory(router)
    found = fhir.search_resources("Practitioner", [("name", search), ("_count", "20")])
    return [directory.person(f"Practitioner/{p['id']}") for p in found]
