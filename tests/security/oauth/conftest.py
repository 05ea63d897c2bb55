"""Fixtures of the OAuth tests: the real account service, the server in a FastAPI app, a
patient signed in at AAL2 (the injected page context) and registered clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from hygie.db.engine import Database
from hygie.security.accounts import AccountService
from hygie.security.accounts.model import Account
from hygie.security.audit import AuditLog, load_signer
from hygie.security.context import Aal, PrincipalKind, RequestContext
from hygie.security.oauth.api import oauth_router
from hygie.security.oauth.clients import Client, ClientKind
from hygie.security.oauth.server import AuthorizationServer
from tests.security.oauth.helpers import FHIR_BASE, ISSUER, PASSWORD, REDIRECT, Clock


@dataclass
class Browser:
    """Who is signed in, as the sessions piece would tell the authorization endpoint."""

    context: RequestContext | None = None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(database: Database, clock: Clock) -> AccountService:
    return AccountService(database, clock=clock)


@pytest.fixture
def audit(database: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture
def server(
    database: Database,
    accounts: AccountService,
    audit: AuditLog,
    browser: Browser,
    clock: Clock,
    tmp_path: Path,
) -> AuthorizationServer:
    def page_context(_request: Request) -> RequestContext | None:
        return browser.context

    return AuthorizationServer(
        database,
        issuer=ISSUER,
        fhir_base=FHIR_BASE,
        signing_key_file=tmp_path / "keys" / "oauth-signing.pem",
        page_context=page_context,
        login_url="/connexion",
        audit=audit,
        clock=clock,
        accounts=accounts,
    )


@pytest.fixture
def http(server: AuthorizationServer) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(oauth_router(server))
    with TestClient(app, base_url=ISSUER) as client:
        yield client


@pytest.fixture
def patient(accounts: AccountService) -> Account:
    return accounts.create(
        PrincipalKind.PATIENT, "alice", PASSWORD, display="Alice Martin", fhir_ref="Patient/p1"
    )


def signed_in(accounts: AccountService, account: Account, clock: Clock, aal: Aal) -> RequestContext:
    return RequestContext(
        principal=accounts.principal(account),
        aal=aal,
        auth_time=int(clock()) - 30,
        network_zone="internet",
    )


@pytest.fixture
def alice_signed_in(
    browser: Browser, accounts: AccountService, patient: Account, clock: Clock
) -> RequestContext:
    browser.context = signed_in(accounts, patient, clock, Aal.TWO)
    return browser.context


@pytest.fixture
def public_app(server: AuthorizationServer) -> Client:
    client, secret = server.clients.create(
        "Carnet de santé",
        ClientKind.PUBLIC,
        redirect_uris=[REDIRECT],
        scopes=["openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access"],
    )
    assert secret is None
    return client


@pytest.fixture
def confidential_app(server: AuthorizationServer) -> tuple[Client, str]:
    client, secret = server.clients.create(
        "Portail du cabinet",
        ClientKind.CONFIDENTIAL,
        redirect_uris=[REDIRECT],
        scopes=["openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access"],
    )
    assert secret is not None
    return client, secret
