"""The app on a fresh database (SQLite unless parametrized with ``backends``), and the
identity office acting through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database
from hygie.fhir.access import SystemAccess
from hygie.http.caller_fhir import FhirClient
from tests.apptest import BASE, authorize, demo_settings


@pytest.fixture
def app(database: Database, tmp_path: Path) -> Iterator[FastAPI]:
    application = create_app(demo_settings(tmp_path / "data"), database=database)
    with TestClient(application, base_url=BASE):  # the lifespan closes the audit sink
        yield application


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """The FHIR API as a backend service with system/*.cruds sees it."""
    return authorize(TestClient(app, base_url=BASE))


@pytest.fixture
def office(app: FastAPI) -> FhirClient:
    """The identity office's tools as the CLI runs them: Hygie itself, for a named reason."""
    return FhirClient(app.state.fhir_router, SystemAccess("tests: identity office"))
