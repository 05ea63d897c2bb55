"""The professional portal under /pro: find a patient, open their record (as far as consent
and care relationship allow), add a document or a profile entry, break the glass."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hygie.http.caller_fhir import FhirClient
from hygie.record.documents import (
    DOCUMENT_TYPES,
    DocumentError,
    DocumentSummary,
    document_content,
    find_documents,
    provide_document,
)
from hygie.record.profile import ProfileError, ProfileSection, add_to_profile, read_profile
from hygie.record.timeline import TIMELINE_KINDS, TimelineItem, build_timeline
from hygie.web.breakglass import Opened, needs_fresh_factor, open_record, reason_errors
from hygie.web.caller import Caller
from hygie.web.document_forms import (
    DocumentForm,
    accepted_label,
    content_type_of,
    file_response,
    receive_document_form,
)
from hygie.web.notices import notice_of
from hygie.web.patients import (
    FHIR_ID,
    PatientCard,
    PatientQuery,
    find_patients,
    read_patient,
    search_params,
)
from hygie.web.portal import Portal, as_caller
from hygie.web.profile_forms import profile_form_errors, profile_sections_view
from hygie.web.render import FormErrors, see_other
from hygie.web.timeline_filters import TimelineFilter, read_filter

SPACE = "pro"
Csrf = Annotated[str, Form(alias="csrf")]


def add_pro_routes(router: APIRouter, portal: Portal) -> None:
    pages, gate = portal.pages, portal.gate

    def admit(request: Request, patient_id: str | None = None) -> Caller | Response:
        caller = gate.admit(request, SPACE)
        if (
            isinstance(caller, Caller)
            and patient_id is not None
            and not FHIR_ID.fullmatch(patient_id)
        ):
            return pages.explain(
                404, "Dossier introuvable", "Ce dossier n'existe pas.", nav=caller.nav(SPACE)
            )
        return caller

    @router.get("/pro")
    async def search(
        request: Request, ins: str = "", nom: str = "", prenom: str = "", naissance: str = ""
    ) -> Response:
        caller = admit(request)
        if not isinstance(caller, Caller):
            return caller
        query = PatientQuery(
            ins.strip()[:40], nom.strip()[:100], prenom.strip()[:100], naissance.strip()[:20]
        )
        errors = FormErrors()
        found: list[PatientCard] | None = None
        if not query.empty:
            params = search_params(query, errors)
            if params:
                found = await as_caller(request, find_patients, params)
        return pages.render(
            "pro_recherche.html",
            400 if errors else 200,
            nav=caller.nav(SPACE, "/pro"),
            query=query,
            found=found,
            errors=errors,
        )

    async def record_page(
        template: str,
        caller: Caller,
        patient: PatientCard,
        tab: str,
        status: int = 200,
        **context: object,
    ) -> Response:
        # Under break-the-glass the page says so, and until when.
        grant = await run_in_threadpool(
            portal.security.break_glass.active, caller.ref, f"Patient/{patient.id}"
        )
        return pages.render(
            template,
            status,
            nav=caller.nav(SPACE),
            patient=patient,
            tab=tab,
            base=f"/pro/patients/{patient.id}",
            csrf=caller.csrf,
            emergency_until=(
                datetime.fromtimestamp(grant.expires_at, UTC) if grant is not None else None
            ),
            **context,
        )

    @router.get("/pro/patients/{patient_id}")
    async def record(request: Request, patient_id: str) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        chosen = read_filter(request.query_params)
        patient, items = await as_caller(request, timeline_view, patient_id, chosen)
        return await record_page(
            "pro_dossier.html",
            caller,
            patient,
            "chronologie",
            400 if chosen.errors else 200,
            items=items,
            kinds=TIMELINE_KINDS,
            chosen=chosen,
            errors=chosen.errors,
            notice=notice_of(request),
        )

    async def documents_page(
        request: Request, caller: Caller, patient_id: str, form: DocumentForm | None = None
    ) -> Response:
        form = form or DocumentForm()
        patient, documents = await as_caller(request, documents_view, patient_id)
        return await record_page(
            "pro_documents.html",
            caller,
            patient,
            "documents",
            form.status,
            documents=documents,
            types=DOCUMENT_TYPES,
            form=form,
            errors=form.errors,
            accepted=accepted_label(pdf_only=True),
            notice=notice_of(request),
        )

    @router.get("/pro/patients/{patient_id}/documents")
    async def documents(request: Request, patient_id: str) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        return await documents_page(request, caller, patient_id)

    @router.post("/pro/patients/{patient_id}/documents")
    async def upload(request: Request, patient_id: str) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        form = await receive_document_form(request, pdf_only=True)
        if form.status != 413 and not gate.form_ok(request, caller, form.csrf):
            return gate.bad_form(caller, SPACE)
        if not form.errors and form.file is not None:
            try:
                await as_caller(
                    request,
                    provide_document,
                    patient_id=patient_id,
                    author_ref=caller.ref,
                    title=form.title,
                    type_code=form.type_code,
                    content=form.file.content,
                    content_type=content_type_of(form.file),
                    file_name=form.file.name,
                )
            except DocumentError as refused:
                form.errors.add("fichier", str(refused))
                form.status = 400
            else:
                return see_other(f"/pro/patients/{patient_id}/documents?fait=ajoute-pro")
        return await documents_page(request, caller, patient_id, form)

    @router.get("/pro/patients/{patient_id}/documents/{document_id}/fichier")
    async def document_file(
        request: Request, patient_id: str, document_id: str, telecharger: str = ""
    ) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        if not FHIR_ID.fullmatch(document_id):
            return pages.explain(
                404, "Document introuvable", "Ce document n'existe pas.", nav=caller.nav(SPACE)
            )
        content, content_type, name = await as_caller(request, document_content, document_id)
        return file_response(content, content_type, name, download=bool(telecharger))

    @router.get("/pro/patients/{patient_id}/profil")
    async def profile(request: Request, patient_id: str) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        patient, sections = await as_caller(request, profile_view, patient_id)
        return await record_page(
            "profil.html",
            caller,
            patient,
            "profil",
            sections=profile_sections_view(sections),
            notice=notice_of(request),
            open_section="",
            values={},
        )

    @router.post("/pro/patients/{patient_id}/profil/{section_key}")
    async def add_profile(request: Request, patient_id: str, section_key: str) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not gate.form_ok(request, caller, form.pop("csrf", "")):
            return gate.bad_form(caller, SPACE)
        try:
            await as_caller(request, add_to_profile, patient_id, caller.ref, section_key, form)
        except ProfileError as refused:
            patient, sections = await as_caller(request, profile_view, patient_id)
            return await record_page(
                "profil.html",
                caller,
                patient,
                "profil",
                400,
                sections=profile_sections_view(sections),
                notice="",
                open_section=section_key,
                values=form,
                errors=profile_form_errors(section_key, refused, form),
            )
        return see_other(f"/pro/patients/{patient_id}/profil?fait=profil")

    # Break-the-glass ------------------------------------------------------------------

    def breakglass_page(
        caller: Caller, patient_id: str, status: int = 200, **context: object
    ) -> Response:
        context.setdefault("errors", FormErrors())
        context.setdefault("reason", "")
        context.setdefault("refusal", "")
        return pages.render(
            "pro_bris_de_glace.html",
            status,
            nav=caller.nav(SPACE),
            patient_id=patient_id,
            csrf=caller.csrf,
            **context,
        )

    @router.get("/pro/patients/{patient_id}/bris-de-glace")
    async def breakglass_form(request: Request, patient_id: str) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        return breakglass_page(caller, patient_id, fresh=not needs_fresh_factor(caller.ctx))

    @router.post("/pro/patients/{patient_id}/bris-de-glace")
    async def breakglass(
        request: Request,
        patient_id: str,
        motif: Annotated[str, Form()] = "",
        csrf: Csrf = "",
    ) -> Response:
        caller = admit(request, patient_id)
        if not isinstance(caller, Caller):
            return caller
        if not gate.form_ok(request, caller, csrf):
            return gate.bad_form(caller, SPACE)
        here = f"/pro/patients/{patient_id}/bris-de-glace"
        if needs_fresh_factor(caller.ctx):
            # The grant needs a second factor of the last minutes: prove it, then come back.
            return see_other(f"/connexion/second-facteur?next={quote(here, safe='/')}")
        errors = reason_errors(motif)
        if errors:
            return breakglass_page(caller, patient_id, 400, errors=errors, reason=motif, fresh=True)
        opened = await run_in_threadpool(
            open_record, portal.security, portal.db, caller.ctx, patient_id, motif
        )
        if not isinstance(opened, Opened):
            return breakglass_page(
                caller, patient_id, 403, refusal=opened, reason=motif, fresh=True
            )
        return see_other(f"/pro/patients/{patient_id}?fait=urgence")


def timeline_view(
    fhir: FhirClient, patient_id: str, chosen: TimelineFilter
) -> tuple[PatientCard, list[TimelineItem]]:
    patient = read_patient(fhir, patient_id)  # refused first: nothing else is asked
    items = build_timeline(
        fhir, patient_id, kinds=chosen.kinds_or_none, since=chosen.since, until=chosen.until
    )
    return patient, items


def documents_view(fhir: FhirClient, patient_id: str) -> tuple[PatientCard, list[DocumentSummary]]:
    return read_patient(fhir, patient_id), find_documents(fhir, patient_id)


def profile_view(fhir: FhirClient, patient_id: str) -> tuple[PatientCard, list[ProfileSection]]:
    return read_patient(fhir, patient_id), read_profile(fhir, patient_id)
