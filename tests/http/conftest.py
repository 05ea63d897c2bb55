from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database
from tests.apptest import BASE, authorize, demo_settings


@pytest.fixture
def client(database: Database, tmp_path: Path) -> Iterator[TestClient]:
    """The FHIR API as a backend service with system/*.cruds sees it (tests/security covers
    who may do what)."""
    settings = demo_settings(tmp_path / "data", max_body_bytes=64 * 1024)
    with TestClient(create_app(settings, database=database), base_url=BASE) as test_client:
        yield authorize(test_client)
