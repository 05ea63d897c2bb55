"""Load FHIR JSON files into the store, the way a client would send them over the API."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson

from hygie.fhir.access import SystemAccess, SystemAudit
from hygie.fhir.http_types import FhirRequest
from hygie.fhir.router import FhirRouter
from hygie.fhir.store import FhirStore

_JSON = {"content-type": "application/fhir+json"}


def import_file(
    store: FhirStore, path: Path, fhir_base: str, *, audit: SystemAudit | None = None
) -> str:
    """Import one file; returns a one-line summary, raises ValueError with the server's reasons."""
    try:
        resource = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(resource, dict) or "resourceType" not in resource:
        raise ValueError("not a FHIR resource (no resourceType)")
    router = FhirRouter(store, fhir_base=fhir_base)
    rtype = resource["resourceType"]
    if rtype == "Bundle" and resource.get("type") in ("transaction", "batch"):
        request = FhirRequest("POST", "", headers=_JSON, body=path.read_bytes())
    elif isinstance(resource.get("id"), str):
        request = FhirRequest(
            "PUT", f"{rtype}/{resource['id']}", headers=_JSON, body=path.read_bytes()
        )
    else:
        request = FhirRequest("POST", str(rtype), headers=_JSON, body=path.read_bytes())
    response = router.handle(
        request, SystemAccess(reason=f"FHIR import of {path.name}", audit=audit)
    )
    payload = orjson.loads(response.body) if response.body else {}
    if response.status >= 400:
        issues = payload.get("issue", [])
        raise ValueError("; ".join(i.get("diagnostics", i.get("code", "")) for i in issues))
    if payload.get("resourceType") == "Bundle":
        statuses = Counter(e["response"]["status"] for e in payload.get("entry", []))
        failed = sum(n for s, n in statuses.items() if s[:1] not in "23")
        summary = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
        if failed:
            raise ValueError(f"{failed} batch entries failed ({summary})")
        return f"{payload['type']}: {summary}"
    return f"{rtype} {response.status}"
