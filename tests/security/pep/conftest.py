from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hygie.db.engine import Database
from hygie.fhir.router import FhirRouter
from hygie.security.audit import AuditLog, load_signer
from hygie.security.audit.sink import AuditSink
from hygie.security.crypto import KekSet, Keyring
from hygie.security.pep import EnforcementPoint, secure_store
from hygie.security.policy import CedarDecisionPoint
from hygie.security.policy.model import DecisionPoint
from tests.security.pep.world import BASE, RuleDecisionPoint, World, hospital


@pytest.fixture
def keyring(database: Database) -> Keyring:
    return Keyring(database, KekSet(active_id="kek-test", keys={"kek-test": os.urandom(32)}))


@pytest.fixture
def audit_log(database: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))


@pytest.fixture(params=["rules", "cedar"])
def pdp(request: pytest.FixtureRequest) -> DecisionPoint:
    if request.param == "cedar":
        return CedarDecisionPoint.load()
    return RuleDecisionPoint()


@pytest.fixture
def world(
    database: Database, keyring: Keyring, audit_log: AuditLog, pdp: DecisionPoint
) -> Iterator[World]:
    store = secure_store(database, keyring)
    with AuditSink(audit_log) as sink:
        built = World(store, FhirRouter(store, fhir_base=BASE), EnforcementPoint(pdp, audit=sink))
        built.load(hospital())
        yield built
