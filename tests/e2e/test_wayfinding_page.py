"""A patient finds their way in a real browser: Hygie served by uvicorn, Debian's Chromium."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from hygie.app import create_app
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.fhir.store import FhirStore
from hygie.location.venue import load_demo_venue
from hygie.security.context import PrincipalKind
from tests.apptest import demo_settings

CHROMIUM = "/usr/bin/chromium"
PATIENT = "helene.martin"
PASSWORD = "Plan-Hygie-2026!"
TOTP_SECRETS: dict[str, str] = {}  # server base URL -> its patient's TOTP secret
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A migrated Hygie with the demo venue, served on a free port; stopped afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = demo_settings(tmp_path / "data", base_url=base)
    database = Database(make_engine(settings.sqlalchemy_url))
    upgrade(database.engine)
    load_demo_venue(database, FhirStore(database))
    app = create_app(settings, database=database)
    accounts = app.state.security.accounts
    patient = accounts.create(PrincipalKind.PATIENT, PATIENT, PASSWORD, display="Hélène Martin")
    secret = accounts.begin_totp(patient.id).secret
    # Enrolled with the previous 30 s step's code, so the current one is still unused.
    accounts.confirm_totp(patient.id, pyotp.TOTP(secret).at(time.time() - 30))
    TOTP_SECRETS[base] = secret
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    uv_server = uvicorn.Server(config)
    thread = threading.Thread(target=uv_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv_server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield base
    finally:
        uv_server.should_exit = True
        thread.join(timeout=10)
        database.dispose()
    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health", timeout=1)


@pytest.fixture
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 1000}, locale="fr-FR")
        finally:
            browser.close()


def sign_in(page: Page, server: str, target: str) -> None:
    """The patient opens ``target``, is sent to sign in, and comes back after two factors."""
    page.goto(f"{server}{target}")
    page.wait_for_url(re.compile(r"/connexion\?next="))
    page.get_by_label("Identifiant").fill(PATIENT)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/connexion/second-facteur"))
    code = pyotp.TOTP(TOTP_SECRETS[server]).now()
    page.get_by_label("Code à 6 chiffres de votre application d'authentification").fill(code)
    page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(f"{server}{target}")


def test_a_patient_gets_a_drawn_route_to_cardiology(
    server: str, page: Page, tmp_path: Path
) -> None:
    sign_in(page, server, "/plan")
    assert page.title().startswith("Plan et itinéraires — CHU Hygie")
    page.get_by_label("Point de départ").select_option(label="Accueil principal")
    page.get_by_label("Destination").select_option(label="Consultations de cardiologie")
    # The accessible variant, chosen with the keyboard only.
    page.get_by_label("Itinéraire accessible").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/plan?*destination=*")

    assert page.get_by_label("Itinéraire accessible").is_checked()
    heading = page.get_by_role("heading", level=2)
    assert heading.inner_text() == "Itinéraire vers Consultations de cardiologie (A-112)"
    steps = page.locator("ol.etapes li").all_inner_texts()
    assert steps[0] == "Depuis Accueil principal, avancez sur 15 m."
    assert "Prenez l'ascenseur jusqu'au niveau 1." in steps
    assert steps[-1] == "Votre destination, Consultations de cardiologie (A-112), est à gauche."
    # Two maps (ground floor and level 1), the route drawn on both, the room highlighted.
    assert page.locator("figure.carte figcaption").all_inner_texts() == [
        "Rez-de-chaussée (niveau 0)",
        "Niveau 1",
    ]
    assert page.locator("svg.plan path.route").count() == 2
    box = page.locator("svg.plan path.route").first.bounding_box()
    assert box is not None and box["width"] > 10 and box["height"] > 10
    assert page.locator("svg.plan .unit-destination").count() == 1
    shot = tmp_path / "plan-cardiologie.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_an_unknown_destination_shows_a_french_message(server: str, page: Page) -> None:
    sign_in(page, server, "/plan")
    response = page.goto(f"{server}/plan?depart=Accueil+principal&destination=Maternit%C3%A9")
    assert response is not None and response.status == 404
    assert page.get_by_role("alert").inner_text().endswith("Lieu inconnu : « Maternité ».")
