"""Reads through the enforcement point: a patient reaches their own compartment only, by
every read path (read, vread, search, _include, _revinclude, history, Bundle entries)."""

from __future__ import annotations

import orjson

from tests.conftest import backends
from tests.security.pep.world import P1, P2, World

OWN_OBSERVATIONS = ["Observation/obs-p1"]


@backends
def test_a_patient_reads_their_own_resources_and_not_another_patients(world: World) -> None:
    assert world.get(P1, "Observation/obs-p1").status == 200
    assert world.get(P1, "Patient/p1").status == 200
    for path in ("Observation/obs-p2", "Patient/p2", "Observation/obs-p2/_history/1"):
        refused = world.get(P1, path)
        assert refused.status == 404, path  # as if it did not exist: no existence leak
        assert b"obs-p2" not in refused.body or b"not known" in refused.body
        assert b"Durand" not in refused.body


@backends
def test_vread_and_instance_history_of_another_patient_show_nothing(world: World) -> None:
    assert world.get(P1, "Observation/obs-p1/_history/1").status == 200
    assert world.ids(P1, "Observation/obs-p2/_history") == []
    assert world.ids(P1, "Observation/_history") == OWN_OBSERVATIONS
    history = world.ids(P1, "_history")
    assert "Observation/obs-p2" not in history and "Patient/p2" not in history
    assert "Observation/obs-p1" in history and "Patient/p1" in history


@backends
def test_searches_are_confined_to_the_callers_compartment(world: World) -> None:
    assert world.ids(P1, "Observation") == OWN_OBSERVATIONS
    assert world.ids(P2, "Observation") == ["Observation/obs-p2"]
    assert world.ids(P1, "Observation", subject="Patient/p2") == []
    assert world.ids(P1, "Patient") == ["Patient/p1"]
    bundle = orjson.loads(world.get(P1, "Observation", _total="accurate").body)
    assert bundle["total"] == 1  # the count is narrowed in SQL, not only the page
    assert world.ids(P1, "Practitioner") == []  # outside any patient compartment


@backends
def test_include_and_revinclude_never_bring_in_another_patients_data(world: World) -> None:
    # obs-p1 is derived from obs-p2 and obs-p2 from obs-p1: both paths lead to p2's data.
    included = world.ids(P1, "Observation", _include="Observation:derived-from")
    assert included == OWN_OBSERVATIONS
    revincluded = world.ids(P1, "Observation", _revinclude="Observation:derived-from", _id="obs-p1")
    assert revincluded == OWN_OBSERVATIONS
    # Unrestricted, the same searches do bring p2's observation in.
    both = ["Observation/obs-p1", "Observation/obs-p2"]
    assert world.ids(None, "Observation", _include="Observation:derived-from", _id="obs-p1") == both
    assert (
        world.ids(None, "Observation", _revinclude="Observation:derived-from", _id="obs-p1") == both
    )


@backends
def test_bundle_get_entries_pass_the_guard(world: World) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": "Observation/obs-p1"}},
            {"request": {"method": "GET", "url": "Observation/obs-p2"}},
            {"request": {"method": "GET", "url": "Observation?code=8867-4"}},
        ],
    }
    response = world.call(P1, "POST", "", bundle)
    entries = orjson.loads(response.body)["entry"]
    assert entries[0]["resource"]["id"] == "obs-p1"
    assert entries[1]["response"]["status"] == "404"
    searched = entries[2]["resource"]["entry"]
    assert [e["resource"]["id"] for e in searched] == ["obs-p1"]


@backends
def test_a_request_without_a_guard_is_refused(world: World) -> None:
    from hygie.fhir.http_types import FhirRequest

    response = world.router.handle(FhirRequest("GET", "Observation/obs-p1"))
    assert response.status == 403
    assert b"obs-p1" not in response.body or b"Observation" not in response.body
