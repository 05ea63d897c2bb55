"""Fixtures of the sessions tests: a movable clock, the real account service, the pages app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hygie.db.engine import Database
from hygie.security.accounts import AccountService
from hygie.security.sessions import SessionService, sessions_router
from hygie.security.sessions.oidc_signin import OidcSignIn
from tests.security.accounts.helpers import cheap_hasher
from tests.security.sessions.helpers import ORIGIN, Clock

CSRF_KEY = b"k" * 32


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(database: Database, clock: Clock) -> AccountService:
    return AccountService(database, clock=clock, hasher=cheap_hasher())


@pytest.fixture
def sessions(database: Database, accounts: AccountService, clock: Clock) -> SessionService:
    return SessionService(database, accounts, idle_timeout=900, absolute_timeout=43200, clock=clock)


def pages_app(
    database: Database,
    sessions: SessionService,
    accounts: AccountService,
    oidc: OidcSignIn | None = None,
) -> FastAPI:
    app = FastAPI()
    app.include_router(
        sessions_router(
            database,
            sessions,
            accounts,
            csrf_key=CSRF_KEY,
            public_origin=ORIGIN,
            rp_id="testserver",
            oidc=oidc,
        )
    )
    return app


@pytest.fixture
def client(
    database: Database, sessions: SessionService, accounts: AccountService
) -> Iterator[TestClient]:
    with TestClient(pages_app(database, sessions, accounts), base_url=ORIGIN) as http:
        yield http
