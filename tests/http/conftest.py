from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.config import Settings
from hygie.db.engine import Database

BASE = "http://testserver"


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    settings = Settings(base_url=BASE, max_body_bytes=64 * 1024)
    with TestClient(create_app(settings, database=database), base_url=BASE) as test_client:
        yield test_client
