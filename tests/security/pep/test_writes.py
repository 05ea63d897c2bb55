"""Writes through the enforcement point: a refused write answers 403 and leaves nothing."""

from __future__ import annotations

import orjson
from sqlalchemy import func, select

from hygie.db.engine import Database
from hygie.db.schema import fhir_history, fhir_resource
from tests.conftest import backends
from tests.security.pep.world import DR2, P1, World, observation


def counts(database: Database) -> tuple[int, int]:
    with database.read() as conn:
        current = conn.execute(select(func.count()).select_from(fhir_resource)).scalar_one()
        versions = conn.execute(select(func.count()).select_from(fhir_history)).scalar_one()
    return current, versions


@backends
def test_refused_writes_answer_403_and_write_nothing(world: World, database: Database) -> None:
    before = counts(database)
    new = observation("x", "Patient/p2")
    del new["id"]
    attempts = [
        ("POST", "Observation", new),  # into another patient's compartment
        ("PUT", "Observation/obs-p2", observation("obs-p2", "Patient/p2")),
        ("PUT", "Observation/obs-p2", observation("obs-p2", "Patient/p1")),  # hijack
        ("DELETE", "Observation/obs-p2", None),
        ("PUT", "Observation/obs-new", observation("obs-new", "Patient/p2")),
    ]
    for method, path, body in attempts:
        response = world.call(P1, method, path, body)
        assert response.status == 403, (method, path, response.body)
        assert orjson.loads(response.body)["issue"][0]["code"] == "forbidden"
    assert world.call(DR2, "DELETE", "Observation/obs-p1").status == 403
    assert counts(database) == before
    assert world.get(DR2, "Observation/obs-p2").status == 200


@backends
def test_conditional_writes_only_match_what_the_caller_sees(
    world: World, database: Database
) -> None:
    before = counts(database)
    # obs-p2 matches the criteria, but P1 cannot see it: nothing to delete for them.
    assert world.call(P1, "DELETE", "Observation", None, _id="obs-p2").status == 204
    assert world.get(DR2, "Observation/obs-p2").status == 200
    assert counts(database) == before


@backends
def test_one_refused_transaction_entry_rolls_the_whole_bundle_back(
    world: World, database: Database
) -> None:
    before = counts(database)
    mine = observation("mine", "Patient/p1")
    theirs = observation("theirs", "Patient/p2")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": mine, "request": {"method": "PUT", "url": "Observation/mine"}},
            {"resource": theirs, "request": {"method": "PUT", "url": "Observation/theirs"}},
        ],
    }
    response = world.call(P1, "POST", "", bundle)
    assert response.status == 403
    assert b"Bundle.entry[1]" in response.body
    assert counts(database) == before
    # A batch runs each entry on its own: the allowed one is written, the other refused.
    bundle["type"] = "batch"
    entries = orjson.loads(world.call(P1, "POST", "", bundle).body)["entry"]
    assert [e["response"]["status"] for e in entries] == ["201 Created", "403"]
    assert world.get(P1, "Observation/mine").status == 200


@backends
def test_a_patient_writes_into_their_own_compartment(world: World) -> None:
    created = world.call(P1, "PUT", "Observation/mine", observation("mine", "Patient/p1"))
    assert created.status == 201
    assert world.ids(P1, "Observation") == ["Observation/mine", "Observation/obs-p1"]
