"""The issue's journey in a real browser (uvicorn + Debian's headless Chromium): a doctor
signs in with TOTP, finds the patient and uploads a discharge summary; the patient signs
in with TOTP, reads it and hides it; another doctor of the hospital, who saw it, no longer
finds it (its author still does: a hidden document stays visible to its author); the
patient's access history shows the doctor's earlier access. Every page visited is checked for the
accessibility basics a browser can tell: lang="fr", one h1, a label on every field."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import uvicorn
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from hygie.app import create_app
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.demo import demo_rpps, load_demo
from hygie.security.context import PrincipalKind
from tests.apptest import demo_settings
from tests.web.conftest import demo_id, demo_resource, pdf_bytes

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Portail-Hygie-2026!"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
TITLE = "Lettre de liaison — hospitalisation en cardiologie"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    def __init__(self, base: str, secrets: dict[str, str], patient_family: str) -> None:
        self.base = base
        self.secrets = secrets
        self.patient_family = patient_family


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = demo_settings(tmp_path / "data", base_url=base)
    database = Database(make_engine(settings.sqlalchemy_url))
    upgrade(database.engine)
    app = create_app(settings, database=database)
    store = app.state.store
    load_demo(store)
    patient = demo_resource(store, "Patient", "patient-0")
    patient_id = patient["id"]
    accounts = app.state.security.accounts
    secrets = {}
    for username, kind, display, extra in (
        (
            "dr.rousseau",
            PrincipalKind.PRACTITIONER,
            "Dr Claire Rousseau",
            {
                "fhir_ref": "Practitioner/" + demo_id(store, "Practitioner", "pract-0"),
                "organization_ref": "Organization/" + demo_id(store, "Organization", "org-chu"),
                "roles": frozenset({"physician"}),
                "rpps": demo_rpps(0),
            },
        ),
        (
            "dr.benali",
            PrincipalKind.PRACTITIONER,
            "Dr Karim Benali",
            {
                "fhir_ref": "Practitioner/" + demo_id(store, "Practitioner", "pract-3"),
                "organization_ref": "Organization/" + demo_id(store, "Organization", "org-chu"),
                "roles": frozenset({"physician"}),
                "rpps": demo_rpps(3),
            },
        ),
        (
            "la.patiente",
            PrincipalKind.PATIENT,
            "La patiente",
            {"fhir_ref": f"Patient/{patient_id}"},
        ),
    ):
        account = accounts.create(kind, username, PASSWORD, display=display, **extra)
        secret = accounts.begin_totp(account.id).secret
        # Enrolled with the previous 30 s step's code, so the current one is still unused.
        accounts.confirm_totp(account.id, pyotp.TOTP(secret).at(time.time() - 30))
        secrets[username] = secret
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield Site(base, secrets, patient["name"][0]["family"])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        database.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(page: Page, site: Site, username: str, target: str) -> None:
    page.goto(f"{site.base}{target}")
    page.wait_for_url(re.compile(r"/connexion\?next="))
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/connexion/second-facteur"))
    code = pyotp.TOTP(site.secrets[username]).now()
    page.get_by_label("Code à 6 chiffres de votre application d'authentification").fill(code)
    page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(f"{site.base}{target}")


ACCESSIBILITY = """() => {
  const fields = [...document.querySelectorAll('input, select, textarea')]
    .filter(f => f.type !== 'hidden');
  const unlabelled = fields.filter(f => f.labels.length === 0 && !f.getAttribute('aria-label'))
    .map(f => f.name || f.id);
  const tables = [...document.querySelectorAll('table')];
  return {
    lang: document.documentElement.lang,
    h1: document.querySelectorAll('h1').length,
    unlabelled,
    skip: !!document.querySelector('a.skip[href="#contenu"]'),
    headerless: tables.filter(t => !t.querySelector('th[scope]')).length,
  };
}"""


def follow(page: Page, target: Locator) -> None:
    """Click a link or a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        target.click()


def assert_accessible(page: Page) -> None:
    page.wait_for_load_state()
    found = page.evaluate(ACCESSIBILITY)
    assert found == {"lang": "fr", "h1": 1, "unlabelled": [], "skip": True, "headerless": 0}, (
        page.url,
        found,
    )


def test_the_skip_link_comes_first_and_shows_its_focus(site: Site, browser: Browser) -> None:
    page = browser.new_context(locale="fr-FR").new_page()
    sign_in(page, site, "la.patiente", "/espace")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.textContent, getComputedStyle(document.activeElement)"
        ".outlineStyle, document.activeElement.getBoundingClientRect().left]"
    )
    assert focused[0] == "Aller au contenu"
    assert focused[1] == "solid" and focused[2] >= 0  # visible outline, moved on screen
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"


def test_discharge_summary_journey(site: Site, browser: Browser, tmp_path: Path) -> None:
    pdf = tmp_path / "lettre-de-liaison.pdf"
    pdf.write_bytes(pdf_bytes("Lettre de liaison de sortie"))

    # The cardiologist finds the patient by her traits and uploads the discharge summary.
    doctor = browser.new_context(locale="fr-FR").new_page()
    sign_in(doctor, site, "dr.rousseau", "/pro")
    assert_accessible(doctor)
    doctor.get_by_label("Nom de naissance").fill(site.patient_family)
    follow(doctor, doctor.get_by_role("button", name="Rechercher"))
    assert_accessible(doctor)
    found = doctor.get_by_role("row").filter(has_text=site.patient_family.upper())
    follow(doctor, found.first.get_by_role("link"))
    assert_accessible(doctor)
    follow(doctor, doctor.get_by_role("link", name="Documents"))
    assert_accessible(doctor)
    doctor.get_by_label("Titre du document").fill(TITLE)
    doctor.get_by_label("Type de document").select_option(value="18842-5")
    doctor.get_by_label("Fichier").set_input_files(str(pdf))
    follow(doctor, doctor.get_by_role("button", name="Envoyer le document"))
    doctor.get_by_text("Le document a été ajouté au dossier du patient.").wait_for()
    assert doctor.get_by_role("link", name=TITLE, exact=True).count() == 1
    documents_url = doctor.url.split("?")[0]

    # An emergency physician of the same hospital sees it too, for now.
    colleague = browser.new_context(locale="fr-FR").new_page()
    sign_in(colleague, site, "dr.benali", documents_url.removeprefix(site.base))
    assert colleague.get_by_role("link", name=TITLE, exact=True).count() == 1

    # The patient signs in with TOTP, opens the PDF, hides it.
    patient = browser.new_context(locale="fr-FR").new_page()
    sign_in(patient, site, "la.patiente", "/espace")
    assert_accessible(patient)
    follow(patient, patient.get_by_role("link", name="Documents", exact=True))
    assert_accessible(patient)
    link = patient.get_by_role("link", name=TITLE, exact=True)
    opened = patient.request.get(site.base + str(link.get_attribute("href")))
    assert opened.status == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"].startswith("inline")
    assert opened.body() == pdf.read_bytes()
    follow(patient, patient.get_by_role("button", name=f"Masquer {TITLE}"))
    patient.get_by_text("Le document est maintenant masqué").wait_for()
    row = patient.get_by_role("row").filter(has_text=TITLE)
    assert row.get_by_text("Masqué aux professionnels", exact=True).count() == 1

    # The other doctor no longer finds it; its author still does (the rule: hidden
    # from every professional but its author).
    colleague.goto(documents_url)
    assert_accessible(colleague)
    assert colleague.get_by_role("link", name=TITLE, exact=True).count() == 0
    assert colleague.get_by_text(TITLE).count() == 0
    doctor.goto(documents_url)
    assert doctor.get_by_role("link", name=TITLE, exact=True).count() == 1

    # The patient's access history shows the doctor's earlier access.
    follow(patient, patient.get_by_role("link", name="Historique des accès"))
    assert_accessible(patient)
    rows = patient.get_by_role("row").filter(has_text="Dr Claire Rousseau")
    assert rows.count() >= 1
    assert rows.filter(has_text="Cardiologue").filter(has_text="vérifiée").count() >= 1
