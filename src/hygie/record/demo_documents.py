"""The demo hospital's documents: real PDFs in French, shared as IHE MHD submissions.

The demo patient (``patient-0``, the account ``demo.patiente``) was hospitalised in
cardiology: she gets her discharge letter and prescription from Dr Claire Rousseau (the
cardiologist, ``pract-0``), her laboratory results from the CHU's laboratory and her chest
X-ray report from Dr Aurélie Fontaine (``pract-2``). Two other patients get a consultation
report. The PDFs are drawn with fpdf2 from the patient's own demo record (name, birth
date; not the INS, which travels only once the identity is qualified), so they match what
the portals show. Loading twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from hygie.demo import DEMO_SYSTEM
from hygie.fhir.access import SystemAccess, SystemAudit
from hygie.fhir.router import FhirRouter
from hygie.fhir.store import FhirStore
from hygie.http.caller_fhir import FhirClient
from hygie.record.documents import provide_document
from hygie.record.mhd import LOINC, PROVIDE_BUNDLE_CHECKS

HOSPITAL = "CHU Hygie - Boulevard de la Chantourne, 38700 La Tronche"
LABORATORY = "Laboratoire de biologie médicale du CHU Hygie"


@dataclass(frozen=True)
class _Patient:
    id: str
    name: str
    birth: str


@dataclass(frozen=True)
class _Report:
    """One demo document: who writes it, its LOINC type and what the PDF says."""

    patient_key: str
    author_key: str  # demo key of a Practitioner, or "org-chu"
    type_code: str
    title: str
    days_ago: int
    signed_by: str
    sections: tuple[tuple[str, str], ...]  # (heading, text)
    table: tuple[tuple[str, ...], ...] = ()  # header row first


def add_demo_documents(
    store: FhirStore,
    fhir_base: str = "http://127.0.0.1:8000/fhir",
    *,
    audit: SystemAudit | None = None,
    today: datetime | None = None,
) -> str:
    """Add the demo documents through the FHIR router as Hygie itself (``SystemAccess``,
    audited when ``audit``); the demo hospital must be loaded first."""
    router = FhirRouter(store, fhir_base=fhir_base)
    router.bundles.add_profile_checks(PROVIDE_BUNDLE_CHECKS)
    fhir = FhirClient(router, SystemAccess(reason="demo documents load", audit=audit))
    now = (today or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    added = 0
    for report in REPORTS:
        patient = _patient(fhir, report.patient_key)
        already = fhir.search_resources(
            "DocumentReference",
            [("patient", f"Patient/{patient.id}"), ("type", f"{LOINC}|{report.type_code}")],
        )
        if already:
            continue
        when = now - timedelta(days=report.days_ago)
        provide_document(
            fhir,
            patient_id=patient.id,
            author_ref=_demo_ref(fhir, report.author_key),
            title=report.title,
            type_code=report.type_code,
            content=render_pdf(report, patient, when),
            content_type="application/pdf",
            file_name=f"{report.title}.pdf",
        )
        added += 1
    return f"demo documents: {added} PDF added, {len(REPORTS) - added} already present"


def render_pdf(report: _Report, patient: _Patient, when: datetime) -> bytes:
    """The report as a one- or two-page A4 PDF."""
    pdf = FPDF(format="A4")
    pdf.set_title(report.title)
    pdf.set_author(report.signed_by)
    pdf.set_lang("fr")
    pdf.set_creation_date(when)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(0, 7, "CHU Hygie", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 9)
    pdf.cell(0, 5, HOSPITAL, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font("helvetica", "B", 15)
    pdf.multi_cell(0, 8, report.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("helvetica", "", 10)
    for line in (
        f"Patient(e) : {patient.name}, né(e) le {patient.birth}",
        f"Date : {when:%d/%m/%Y}",
    ):
        pdf.cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    for heading, text in report.sections:
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(0, 6, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("helvetica", "", 10)
        pdf.multi_cell(0, 5, _dated(text, when), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    if report.table:
        _table(pdf, report.table)
    pdf.ln(6)
    pdf.set_font("helvetica", "I", 10)
    pdf.cell(0, 5, f"{report.signed_by}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, "Document signé électroniquement", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _table(pdf: FPDF, rows: Sequence[tuple[str, ...]]) -> None:
    pdf.set_font("helvetica", "", 9)
    with pdf.table(first_row_as_headings=True, line_height=5) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.ln(2)


def _dated(text: str, when: datetime) -> str:
    """Dates written relative to the report's own: {d-3} is three days before it."""
    for days in range(0, 15):
        text = text.replace(f"{{d-{days}}}", f"{when - timedelta(days=days):%d/%m/%Y}")
    return text


def _patient(fhir: FhirClient, key: str) -> _Patient:
    resource = _demo_resource(fhir, "Patient", key)
    name = resource["name"][0]
    birth = datetime.fromisoformat(resource["birthDate"])
    return _Patient(
        resource["id"],
        f"{' '.join(name['given'])} {name['family'].upper()}",
        f"{birth:%d/%m/%Y}",
    )


def _demo_ref(fhir: FhirClient, key: str) -> str:
    rtype = "Organization" if key.startswith("org-") else "Practitioner"
    return f"{rtype}/{_demo_resource(fhir, rtype, key)['id']}"


def _demo_resource(fhir: FhirClient, rtype: str, key: str) -> dict[str, Any]:
    found = fhir.search_resources(rtype, [("identifier", f"{DEMO_SYSTEM}|{key}")])
    if not found:
        raise LookupError(f"the demo {rtype} {key} is missing: load the demo hospital first")
    return found[0]


REPORTS: tuple[_Report, ...] = (
    _Report(
        patient_key="patient-0",
        author_key="pract-0",
        type_code="18842-5",
        title="Lettre de liaison de sortie - Cardiologie",
        days_ago=12,
        signed_by="Dr Claire Rousseau, cardiologue",
        sections=(
            (
                "Motif d'hospitalisation",
                "Hospitalisation dans le service de cardiologie du {d-4} au {d-0} pour douleur "
                "thoracique constrictive survenue au repos, avec sus-décalage du segment ST en "
                "territoire inférieur à l'ECG initial.",
            ),
            (
                "Évolution",
                "Coronarographie en urgence par voie radiale droite : occlusion de la coronaire "
                "droite moyenne, traitée par angioplastie avec pose d'un stent actif. Pic de "
                "troponine à 4 850 ng/L. Échocardiographie : FEVG conservée à 55 %, hypokinésie "
                "inférieure. Pas de complication rythmique sous surveillance scopée. Sevrage "
                "tabagique débuté avec substituts nicotiniques.",
            ),
            (
                "Traitement de sortie",
                "Aspirine 75 mg 1 cp/j ; ticagrelor 90 mg 1 cp matin et soir pendant 12 mois ; "
                "atorvastatine 80 mg 1 cp le soir ; bisoprolol 2,5 mg 1 cp le matin ; ramipril "
                "2,5 mg 1 cp le matin ; patchs nicotiniques 21 mg/24 h.",
            ),
            (
                "Suites",
                "Réadaptation cardiaque en hôpital de jour à programmer. Consultation de "
                "cardiologie dans 6 semaines avec bilan lipidique (objectif LDL < 0,55 g/L). "
                "Consulter en urgence (15) en cas de récidive de douleur thoracique.",
            ),
        ),
    ),
    _Report(
        patient_key="patient-0",
        author_key="pract-0",
        type_code="57833-6",
        title="Ordonnance de sortie",
        days_ago=12,
        signed_by="Dr Claire Rousseau, cardiologue",
        sections=(
            (
                "Prescriptions",
                "1. Aspirine 75 mg : 1 comprimé par jour, au cours du repas.\n"
                "2. Ticagrelor 90 mg : 1 comprimé matin et soir, pendant 12 mois.\n"
                "3. Atorvastatine 80 mg : 1 comprimé le soir.\n"
                "4. Bisoprolol 2,5 mg : 1 comprimé le matin.\n"
                "5. Ramipril 2,5 mg : 1 comprimé le matin.\n"
                "6. Nicotine 21 mg/24 h, dispositif transdermique : 1 patch par jour.\n"
                "Traitement pour 3 mois, à renouveler.",
            ),
            (
                "Biologie à réaliser dans 6 semaines",
                "Bilan lipidique (cholestérol total, HDL, LDL, triglycérides), ASAT, ALAT, CPK, "
                "créatinine avec DFG, kaliémie.",
            ),
        ),
    ),
    _Report(
        patient_key="patient-0",
        author_key="org-chu",
        type_code="11502-2",
        title="Compte rendu d'examens biologiques",
        days_ago=15,
        signed_by=f"Dr Hervé Masson, biologiste - {LABORATORY}",
        sections=(
            (
                "Prélèvement",
                "Prélèvement veineux du {d-0} à 07 h 40, à jeun, service de cardiologie. "
                "Résultats validés biologiquement.",
            ),
        ),
        table=(
            ("Analyse", "Résultat", "Unité", "Valeurs de référence"),
            ("Hémoglobine", "13,4", "g/dL", "12,0 - 16,0"),
            ("Leucocytes", "8,9", "G/L", "4,0 - 10,0"),
            ("Plaquettes", "241", "G/L", "150 - 400"),
            ("Troponine I hs", "4 850", "ng/L", "< 16"),
            ("Créatinine", "71", "µmol/L", "45 - 84"),
            ("DFG (CKD-EPI)", "84", "mL/min/1,73 m²", "> 60"),
            ("Potassium", "4,1", "mmol/L", "3,5 - 5,0"),
            ("Cholestérol total", "2,41", "g/L", "< 2,00"),
            ("HDL-cholestérol", "0,42", "g/L", "> 0,40"),
            ("LDL-cholestérol", "1,68", "g/L", "< 0,55 (objectif)"),
            ("Triglycérides", "1,55", "g/L", "< 1,50"),
            ("HbA1c", "5,8", "%", "4,0 - 6,0"),
        ),
    ),
    _Report(
        patient_key="patient-0",
        author_key="pract-2",
        type_code="18748-4",
        title="Compte rendu de radiographie thoracique",
        days_ago=14,
        signed_by="Dr Aurélie Fontaine, radiologue",
        sections=(
            ("Indication", "Douleur thoracique, syndrome coronarien aigu. Bilan initial."),
            ("Technique", "Radiographie thoracique de face au lit, en position demi-assise."),
            (
                "Résultats",
                "Silhouette cardiaque de taille normale (index cardio-thoracique 0,48). Pas "
                "d'élargissement du médiastin. Pas d'opacité parenchymateuse focale. Pas "
                "d'épanchement pleural. Pas de signe de surcharge vasculaire pulmonaire. "
                "Cadre osseux sans particularité.",
            ),
            ("Conclusion", "Radiographie thoracique sans anomalie décelable."),
        ),
    ),
    _Report(
        patient_key="patient-1",
        author_key="pract-1",
        type_code="11488-4",
        title="Compte rendu de consultation - Chirurgie digestive",
        days_ago=30,
        signed_by="Dr Marc Lambert, chirurgien viscéral",
        sections=(
            (
                "Motif",
                "Consultation post-opératoire à un mois d'une cholécystectomie par "
                "coelioscopie pour lithiase vésiculaire symptomatique.",
            ),
            (
                "Examen",
                "Cicatrices propres, abdomen souple et indolore. Transit normal. Reprise "
                "d'une alimentation normale sans douleur. Histologie : cholécystite chronique "
                "lithiasique, absence de signe de malignité.",
            ),
            ("Conclusion", "Suites simples. Pas de nouvelle consultation prévue."),
        ),
    ),
    _Report(
        patient_key="patient-2",
        author_key="pract-4",
        type_code="11488-4",
        title="Compte rendu de consultation - Pneumologie",
        days_ago=45,
        signed_by="Dr Sylvie Chevalier, pneumologue",
        sections=(
            (
                "Motif",
                "Suivi d'un asthme persistant modéré. Trois réveils nocturnes par mois, pas "
                "d'exacerbation depuis la dernière consultation.",
            ),
            (
                "Explorations fonctionnelles respiratoires",
                "VEMS 2,61 L (89 % de la théorique), rapport VEMS/CVF 0,74, réversibilité "
                "de 9 % après bronchodilatateur. DEP 420 L/min.",
            ),
            (
                "Conduite à tenir",
                "Maintien de l'association budésonide/formotérol 200/6 µg, 1 inhalation "
                "matin et soir et à la demande. Contrôle de la technique d'inhalation. "
                "Vaccination antigrippale recommandée. Revoir dans 6 mois avec EFR.",
            ),
        ),
    ),
)
