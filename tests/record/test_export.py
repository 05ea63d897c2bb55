"""The patient's archive: her whole record as a FHIR Bundle, her documents' files, a README."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from hygie.db.engine import Database
from hygie.http.caller_fhir import FhirCallError
from hygie.record.export import ExportTooLarge, export_archive
from hygie.record.privacy import block_actor
from hygie.record.profile import add_to_profile
from tests.conftest import backends
from tests.record.world import PDF, as_caller, open_hospital, ref, system_fhir
from tests.security.app.conftest import Hospital


@pytest.fixture
def hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    for opened in open_hospital(database, tmp_path):
        oracle = system_fhir(opened)
        # Alice's INS, not (yet) qualifiée: it must not leave Hygie in her archive.
        alice = oracle.read("Patient", "p1")
        nir = "2840575056089"
        alice.update(
            gender="female",
            birthDate="1984-05-12",
            identifier=[{"system": INS_SYSTEM, "value": f"{nir}{97 - int(nir) % 97:02d}"}],
        )
        oracle.update(alice)
        for patient in ("Patient/p1", "Patient/p2"):
            oracle.create(
                {
                    "resourceType": "Communication",
                    "status": "completed",
                    "subject": ref(patient),
                    "payload": [{"contentString": f"Message pour {patient}"}],
                }
            )
        yield opened


INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"


def unzip(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


@backends
def test_the_archive_holds_her_whole_record_and_only_hers(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    as_caller(alice, lambda f: block_actor(f, "p1", "Practitioner/dr2"))
    as_caller(
        alice, lambda f: add_to_profile(f, "p1", "Patient/p1", "allergies", {"substance": "Latex"})
    )
    files = unzip(as_caller(alice, lambda f: export_archive(f, "p1")))
    assert set(files) == {
        "dossier.json",
        "README.txt",
        "documents/doc-a-Compte-rendu-de-sortie.pdf",
    }
    assert files["documents/doc-a-Compte-rendu-de-sortie.pdf"] == PDF  # decrypted
    assert "Votre dossier Hygie" in files["README.txt"].decode()
    bundle = orjson.loads(files["dossier.json"])
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    kinds = sorted(f"{e['resource']['resourceType']}" for e in bundle["entry"])
    assert kinds == [
        "AllergyIntolerance",
        "Communication",
        "Consent",
        "DocumentReference",
        "Patient",
    ]
    assert bundle["total"] == len(bundle["entry"])
    [patient] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert INS_SYSTEM not in {i.get("system") for i in patient.get("identifier", [])}
    [message] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication"
    ]
    assert message["payload"] == [{"contentString": "Message pour Patient/p1"}]


@backends
def test_another_patients_record_is_not_exported(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    with pytest.raises(FhirCallError) as refused:
        as_caller(alice, lambda f: export_archive(f, "p2"))
    assert refused.value.status == 404


def test_an_archive_beyond_the_limit_is_refused(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    with pytest.raises(ExportTooLarge, match="dépasse la taille d'export autorisée"):
        as_caller(alice, lambda f: export_archive(f, "p1", max_bytes=2000))
