"""The audit routes as a client uses them: fetch a signed head, then check proofs against it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hygie.db.engine import Database
from hygie.security.audit import AuditLog, load_signer, to_leaf
from hygie.security.audit.api import audit_router
from hygie.security.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from tests.security.test_audit_helpers import entry


@pytest.fixture
def client(database: Database, tmp_path: Path) -> Iterator[tuple[TestClient, AuditLog]]:
    log = AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))
    app = FastAPI()
    app.include_router(audit_router(log))
    with TestClient(app) as test_client:
        yield test_client, log


def decode(values: list[str]) -> list[bytes]:
    return [base64.b64decode(value) for value in values]


def test_a_client_checks_inclusion_and_consistency_against_signed_heads(
    client: tuple[TestClient, AuditLog], tmp_path: Path
) -> None:
    http, log = client
    log.append_many([entry(n) for n in range(6)])
    old = http.get("/api/audit/sth").json()
    log.append_many([entry(n) for n in range(6, 11)])
    sth = http.get("/api/audit/sth").json()
    assert (old["tree_size"], sth["tree_size"]) == (6, 11)

    verifier = load_signer({}, data_dir=tmp_path, allow_generate=True).verifier
    root = base64.b64decode(sth["sha256_root_hash"])
    signature = base64.b64decode(sth["tree_head_signature"])
    assert sth["key_id"] == verifier.key_id
    assert verifier.is_valid(signature, sth["timestamp"], 11, root)

    proof = http.get("/api/audit/proof/inclusion", params={"index": 7, "tree_size": 11}).json()
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(to_leaf(entry(7), 7))
    assert verify_inclusion(
        leaf_hash(to_leaf(entry(7), 7)), 7, 11, decode(proof["inclusion_path"]), root
    )

    consistency = http.get("/api/audit/proof/consistency", params={"first": 6, "second": 11})
    old_root = base64.b64decode(old["sha256_root_hash"])
    assert verify_consistency(6, 11, old_root, root, decode(consistency.json()["consistency_path"]))


def test_proofs_beyond_the_log_or_malformed_get_clear_errors(
    client: tuple[TestClient, AuditLog],
) -> None:
    http, log = client
    log.append(entry(0))
    beyond = http.get("/api/audit/proof/inclusion", params={"index": 0, "tree_size": 5})
    assert beyond.status_code == 400
    assert beyond.json() == {"error": "tree_size 5 is beyond the log's size 1"}
    backwards = http.get("/api/audit/proof/consistency", params={"first": 2, "second": 1})
    assert backwards.status_code == 400
    assert (
        http.get("/api/audit/proof/inclusion", params={"index": "x", "tree_size": 1}).status_code
        == 422
    )
    assert (
        http.get("/api/audit/proof/consistency", params={"first": 0, "second": 1}).status_code
        == 422
    )
