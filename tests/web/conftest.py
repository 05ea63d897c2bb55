"""The whole app with the demo hospital, and browsers (TestClients) signed in as its people.

The demo patient (patient-0) is managed by the CHU, where the demo cardiologist (pract-0)
works: a care relationship. A doctor of another practice ("Cabinet Ailleurs") has none.
Each person gets their own TestClient, so cookies never mix.
"""

from __future__ import annotations

import html
import io
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, make_url, text
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.db.scratch import scratch_database_url
from hygie.demo import DEMO_SYSTEM, load_demo
from hygie.fhir.access import SystemAccess
from hygie.fhir.reads import ReadService
from hygie.record.demo_documents import add_demo_documents
from hygie.security.accounts import Account
from hygie.security.accounts.identity import rpps_is_valid
from hygie.security.context import Aal, PrincipalKind
from hygie.security.sessions import SESSION_COOKIE
from tests.apptest import demo_settings

ORIGIN = "https://hygie.test"
ORACLE = SystemAccess(reason="tests: oracle")


def shown(response: Any) -> str:
    """The page's text as a reader sees it (entities such as &#39; decoded)."""
    return html.unescape(response.text)


def pdf_bytes(text: str = "Compte rendu") -> bytes:
    """A small, well-formed one-page PDF (the documents service checks the magic bytes)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


@dataclass
class DemoHospital:
    app: FastAPI
    patient_id: str
    cardiologist_ref: str
    nurse_ref: str  # a colleague of the cardiologist at the CHU
    organization_ref: str
    outsider_ref: str
    outsider_org_ref: str

    def browser(self) -> TestClient:
        client = TestClient(self.app, base_url=ORIGIN)
        client.headers["origin"] = ORIGIN  # unsafe requests of our own pages carry it
        return client

    def signed_in(
        self, kind: PrincipalKind, username: str, *, aal: Aal = Aal.TWO, **account: Any
    ) -> tuple[TestClient, Account]:
        """A browser with a new session of the account (created the first time: the
        template hospital holds the usual people already, argon2 hashing is slow)."""
        security = self.app.state.security
        existing = security.accounts.by_username(username)
        created: Account = existing or security.accounts.create(
            kind, username, "Tests-Hygie-2026!", display=username, **account
        )
        _, cookie = security.sessions.start(created, aal, source_ip="testclient", user_agent="t")
        browser = self.browser()
        browser.cookies.set(SESSION_COOKIE, cookie)
        return browser, created

    def patient(self, *, aal: Aal = Aal.TWO) -> TestClient:
        return self.signed_in(
            PrincipalKind.PATIENT, "patiente", aal=aal, fhir_ref=f"Patient/{self.patient_id}"
        )[0]

    def doctor(self, username: str = "cardiologue", *, aal: Aal = Aal.TWO) -> TestClient:
        return self.professional(username, self.cardiologist_ref, self.organization_ref, aal=aal)

    def nurse(self) -> TestClient:
        return self.professional("infirmier", self.nurse_ref, self.organization_ref, role="nurse")

    def outsider(self, *, aal: Aal = Aal.TWO) -> TestClient:
        """A doctor of another practice: no care relationship with the demo patient."""
        return self.professional("ailleurs", self.outsider_ref, self.outsider_org_ref, aal=aal)

    def professional(
        self, username: str, ref: str, org: str, *, aal: Aal = Aal.TWO, role: str = "physician"
    ) -> TestClient:
        return self.signed_in(
            PrincipalKind.PRACTITIONER,
            username,
            aal=aal,
            fhir_ref=ref,
            organization_ref=org,
            roles=frozenset({role}),
            rpps=_rpps(ref),
        )[0]

    def stored(self, resource_type: str, *params: tuple[str, str]) -> list[dict[str, Any]]:
        reads = ReadService(self.app.state.store, fhir_base="", default_count=500, max_count=500)
        bundle = reads.search(resource_type, list(params), strict=True, guard=ORACLE)
        return [e["resource"] for e in bundle.get("entry", [])]


def _rpps(fhir_ref: str) -> str:
    """A valid RPPS number (Luhn check digit), one per professional."""
    body = f"1{sum(map(ord, fhir_ref)):09d}"
    return next(body + d for d in "0123456789" if rpps_is_valid(body + d))


def demo_resource(store: Any, resource_type: str, key: str) -> dict[str, Any]:
    """The demo resource named ``key`` (its urn:hygie:demo identifier), read as Hygie."""
    reads = ReadService(store, fhir_base="", default_count=1, max_count=1)
    bundle = reads.search(
        resource_type, [("identifier", f"{DEMO_SYSTEM}|{key}")], strict=True, guard=ORACLE
    )
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def demo_id(store: Any, resource_type: str, key: str) -> str:
    return str(demo_resource(store, resource_type, key)["id"])


def build_hospital(database: Database, data_dir: Path) -> tuple[FastAPI, DemoHospital]:
    """The app on ``database`` with the demo hospital and its documents, and its people."""
    app = create_app(demo_settings(data_dir, base_url=ORIGIN), database=database)
    store = app.state.store
    load_demo(store)
    add_demo_documents(store)
    outsider_org = store.create(
        {"resourceType": "Organization", "name": "Cabinet Ailleurs"}, guard=ORACLE
    )
    outsider = store.create(
        {"resourceType": "Practitioner", "name": [{"family": "Ailleurs", "given": ["Inès"]}]},
        guard=ORACLE,
    )
    hospital = DemoHospital(
        app=app,
        patient_id=demo_id(store, "Patient", "patient-0"),
        cardiologist_ref="Practitioner/" + demo_id(store, "Practitioner", "pract-0"),
        nurse_ref="Practitioner/" + demo_id(store, "Practitioner", "pract-5"),
        organization_ref="Organization/" + demo_id(store, "Organization", "org-chu"),
        outsider_ref=f"Practitioner/{outsider.stored.id}",
        outsider_org_ref=f"Organization/{outsider_org.stored.id}",
    )
    hospital.patient(), hospital.doctor(), hospital.nurse(), hospital.outsider()
    return app, hospital


@dataclass(frozen=True)
class Template:
    """A database with the demo hospital loaded once per test session, and its keys."""

    url: str
    data_dir: Path
    hospital: DemoHospital


class Templates:
    """Loading the demo (documents drawn as PDFs) takes seconds: each backend's is built once,
    then every test gets its own copy (a file copy; PostgreSQL's CREATE DATABASE ... TEMPLATE)."""

    def __init__(self, directory: Path, stack: ExitStack) -> None:
        self._directory = directory
        self._stack = stack
        self._built: dict[str, Template] = {}

    def of(self, backend: str) -> Template:
        if backend not in self._built:
            where = self._directory / backend
            where.mkdir()
            url = self._stack.enter_context(scratch_database_url(backend, where))
            database = Database(make_engine(url))
            upgrade(database.engine)
            app, hospital = build_hospital(database, where / "data")
            with TestClient(app, base_url=ORIGIN):  # the lifespan closes the audit sink
                pass
            database.dispose()
            self._built[backend] = Template(url, where / "data", hospital)
        return self._built[backend]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    with ExitStack() as stack:
        yield Templates(tmp_path_factory.mktemp("hospitals"), stack)


def copy_database(template_url: str, url: str) -> None:
    """Make the (empty, unused) database at ``url`` a copy of the template's."""
    if url.startswith("sqlite"):
        shutil.copyfile(make_url(template_url).database or "", make_url(url).database or "")
        return
    name, template = make_url(url).database, make_url(template_url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()


@pytest.fixture
def hospital(database_url: str, templates: Templates, tmp_path: Path) -> Iterator[DemoHospital]:
    """The whole app on a fresh copy of the demo hospital (SQLite unless parametrized)."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    template = templates.of(backend)
    copy_database(template.url, database_url)
    shutil.copytree(template.data_dir, tmp_path / "data")  # the keys the contents are sealed with
    database = Database(make_engine(database_url))
    app = create_app(demo_settings(tmp_path / "data", base_url=ORIGIN), database=database)
    try:
        with TestClient(app, base_url=ORIGIN):  # runs the lifespan: the audit sink closes after
            yield replace(template.hospital, app=app)
    finally:
        database.dispose()
