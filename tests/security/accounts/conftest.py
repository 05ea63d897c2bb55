"""Fixtures of the accounts tests: a service over the migrated database, its clock and log."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygie.db.engine import Database
from hygie.security.accounts import AccountService
from hygie.security.audit import AuditLog, load_signer
from tests.security.accounts.helpers import Clock, cheap_hasher


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit_log(database: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))


@pytest.fixture
def service(database: Database, clock: Clock, audit_log: AuditLog) -> AccountService:
    return AccountService(
        database, clock=clock, audit=audit_log, secret_key=b"k" * 32, hasher=cheap_hasher()
    )
