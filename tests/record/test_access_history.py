"""The patient's access history: who, when, what, break-the-glass, refusals, each entry
verified against the signed log; only her own record, never anyone else's."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request

from hygie.db.engine import Database
from hygie.record.access_history import (
    AccessHistory,
    AccessHistoryRefused,
    access_history,
    inclusion_verified,
)
from hygie.record.directory import Directory
from hygie.security.audit.merkle import leaf_hash, verify_inclusion
from hygie.security.context import Aal, PrincipalKind
from hygie.security.edge import context_of
from tests.conftest import backends
from tests.record.world import as_request, open_hospital
from tests.security.app.conftest import Hospital

EMERGENCY = {"patient": "Patient/p1", "motif": "patiente inconsciente admise aux urgences"}


@pytest.fixture
def hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    yield from open_hospital(database, tmp_path)


def history_of(request: Request, **options: int | bool) -> AccessHistory:
    state = request.app.state
    security = state.security
    ctx = context_of(request.scope)
    assert ctx is not None
    return access_history(
        security.audit_log,
        security.pdp,
        Directory(state.fhir_router),
        ctx,
        **options,  # type: ignore[arg-type]
    )


@backends
def test_the_patient_sees_who_opened_her_record(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    dr2, _ = hospital.professional("dr.benali", "Practitioner/dr2", "Organization/o2")
    assert dr1.get("/fhir/DocumentReference/doc-a").status_code == 200
    assert dr2.get("/fhir/Patient/p1").status_code == 404  # no care relationship: refused
    assert dr2.post("/api/bris-de-glace", json=EMERGENCY).status_code == 201
    assert dr2.get("/fhir/Observation", params={"patient": "Patient/p1"}).status_code == 200
    assert alice.get("/fhir/Patient/p1").status_code == 200  # her own: left out by default

    history = as_request(alice, history_of)
    seen = [(v.who, v.action, v.what, v.allowed, v.break_glass) for v in history.entries]
    assert seen[-1] == ("Dr Claire Rousseau", "Consultation", "vos documents", True, False)
    assert ("Dr Karim Benali", "Consultation", "votre fiche d'identité", False, False) in seen
    glass = [v for v in history.entries if v.action == "Accès en urgence (bris de glace)"]
    assert [v.what for v in glass] == [f"votre dossier — motif : {EMERGENCY['motif']}"]
    first = history.entries[-1]
    assert (first.profession, first.organisation) == ("Cardiologue", "CHU Une")
    assert first.actor_ref == "Practitioner/dr1"
    assert all(v.verified for v in history.entries)
    assert all("alice" not in v.who for v in history.entries)
    own = as_request(alice, lambda r: history_of(r, include_own=True))
    assert len(own.entries) > len(history.entries)


@backends
def test_each_entry_checks_against_the_signed_tree_head(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    assert dr1.get("/fhir/Patient/p1").status_code == 200
    history = as_request(alice, history_of)
    view = history.entries[0]
    # The raw proof and the signed head are public JSON: the patient can check them herself.
    proof = alice.get(history.proof_url(view)).json()
    sth = alice.get("/api/audit/sth").json()
    assert sth["tree_size"] >= history.tree_head.tree_size
    listed = alice.get("/api/audit/mes-acces").json()["entries"]
    leaf = base64.b64decode(next(e["leaf"] for e in listed if e["index"] == view.index))
    assert verify_inclusion(
        leaf_hash(leaf),
        view.index,
        proof["tree_size"],
        [base64.b64decode(p) for p in proof["inclusion_path"]],
        history.tree_head.root_hash,
    )
    log = hospital.security.audit_log
    assert inclusion_verified(log, view.index, history.tree_head.tree_size)
    assert not inclusion_verified(log, view.index, log.tree_head().tree_size + 5)


@backends
def test_pages_follow_one_another_without_overlap(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    for _ in range(5):
        assert dr1.get("/fhir/Patient/p1").status_code == 200
    first = as_request(alice, lambda r: history_of(r, limit=3))
    assert len(first.entries) == 3 and first.next_before is not None
    second = as_request(alice, lambda r: history_of(r, limit=3, before=first.next_before))
    indexes = [v.index for v in first.entries + second.entries]
    assert indexes == sorted(indexes, reverse=True) and len(set(indexes)) == 5


@backends
def test_nobody_else_reads_a_patients_history(hospital: Hospital) -> None:
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    with pytest.raises(AccessHistoryRefused, match="Seul le patient"):
        as_request(dr1, history_of)
    # Bruno signs in and sees only his record's accesses: none of Alice's.
    assert dr1.get("/fhir/Patient/p1").status_code == 200
    bruno, _ = hospital.signed_in(PrincipalKind.PATIENT, "bruno", fhir_ref="Patient/p2")
    assert as_request(bruno, history_of).entries == []
    # A first factor only is not enough.
    weak, _ = hospital.signed_in(
        PrincipalKind.PATIENT, "alice.aal1", aal=Aal.ONE, fhir_ref="Patient/p1"
    )
    with pytest.raises(AccessHistoryRefused, match="second facteur"):
        as_request(weak, history_of)
