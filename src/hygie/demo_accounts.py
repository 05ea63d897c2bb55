"""The demo hospital's accounts: a patient, two professionals, two administrators.

Each has the published demo password and a TOTP second factor whose secret is random per
installation; ``hygie demo`` writes them to ``DATA_DIR/demo-accounts.txt`` (mode 0600) and
a demo-mode ``hygie serve`` prints that file. Production refuses to start while any of
these accounts is enabled (:func:`hygie.security.services.refuse_demo_accounts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp

from hygie.demo import DEMO_SYSTEM, RPPS_SYSTEM
from hygie.fhir.access import SystemAccess
from hygie.fhir.reads import ReadService
from hygie.fhir.store import FhirStore
from hygie.security.accounts import AccountService
from hygie.security.context import PrincipalKind
from hygie.security.keyfiles import write_private

DEMO_PASSWORD = "Hygie-Demo-2026!"  # noqa: S105 - published on purpose; production refuses it
ACCOUNTS_FILE = "demo-accounts.txt"


@dataclass(frozen=True)
class _Spec:
    username: str
    kind: PrincipalKind
    what: str  # shown in the printed list
    demo_key: str | None = None  # the demo resource the account is (urn:hygie:demo key)
    roles: frozenset[str] = frozenset()


_SPECS = (
    _Spec("demo.patiente", PrincipalKind.PATIENT, "patiente", "patient-0"),
    _Spec(
        "demo.cardiologue",
        PrincipalKind.PRACTITIONER,
        "cardiologue (CHU Hygie)",
        "pract-0",
        frozenset({"physician"}),
    ),
    _Spec(
        "demo.infirmier",
        PrincipalKind.PRACTITIONER,
        "infirmier (CHU Hygie)",
        "pract-5",
        frozenset({"nurse"}),
    ),
    _Spec("demo.rssi", PrincipalKind.ADMIN, "RSSI", roles=frozenset({"security-officer"})),
    _Spec("demo.admin", PrincipalKind.ADMIN, "administrateur SI", roles=frozenset({"it-admin"})),
)
DEMO_USERNAMES = frozenset(spec.username for spec in _SPECS)


def create_demo_accounts(accounts: AccountService, store: FhirStore, data_dir: Path) -> Path:
    """Create the missing demo accounts (idempotent) and write their list; returns its path.

    TOTP secrets are only known when an account is created, so the lines of accounts that
    already exist are kept from the list an earlier run wrote.
    """
    reads = ReadService(store, fhir_base="", default_count=1, max_count=1)
    organization = "Organization/" + _demo_resource(reads, "Organization", "org-chu")["id"]
    listing = data_dir / ACCOUNTS_FILE
    known = _read_listing(listing)
    lines = []
    for spec in _SPECS:
        if accounts.by_username(spec.username) is None:
            secret = _create(accounts, reads, spec, organization)
            known[spec.username] = f"{spec.username:<18} {spec.what:<26} TOTP {secret}"
        lines.append(known.get(spec.username, f"{spec.username:<18} {spec.what:<26} TOTP ?"))
    header = f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD})\n"
    listing.unlink(missing_ok=True)
    write_private(listing, (header + "\n".join(lines) + "\n").encode())
    return listing


def _read_listing(listing: Path) -> dict[str, str]:
    if not listing.exists():
        return {}
    lines = listing.read_text().splitlines()[1:]
    return {line.split()[0]: line for line in lines if line.strip()}


def _create(accounts: AccountService, reads: ReadService, spec: _Spec, organization: str) -> str:
    fhir_ref = rpps = None
    display = spec.what
    if spec.demo_key is not None:
        resource = _demo_resource(reads, _resource_type(spec.kind), spec.demo_key)
        fhir_ref = f"{resource['resourceType']}/{resource['id']}"
        name = resource["name"][0]
        display = " ".join([*name.get("prefix", []), *name.get("given", []), name["family"]])
        rpps = next(
            (i["value"] for i in resource["identifier"] if i["system"] == RPPS_SYSTEM), None
        )
    professional = spec.kind is PrincipalKind.PRACTITIONER
    account = accounts.create(
        spec.kind,
        spec.username,
        DEMO_PASSWORD,
        display=display,
        fhir_ref=fhir_ref,
        organization_ref=organization if professional else None,
        roles=spec.roles,
        rpps=rpps,
    )
    enrolment = accounts.begin_totp(account.id)
    accounts.confirm_totp(account.id, pyotp.TOTP(enrolment.secret).now())
    return enrolment.secret


def _resource_type(kind: PrincipalKind) -> str:
    return "Patient" if kind is PrincipalKind.PATIENT else "Practitioner"


def _demo_resource(reads: ReadService, resource_type: str, key: str) -> dict[str, Any]:
    bundle = reads.search(
        resource_type,
        [("identifier", f"{DEMO_SYSTEM}|{key}")],
        strict=True,
        guard=SystemAccess(reason="demo accounts: link to the demo records"),
    )
    entries = bundle.get("entry") or []
    if not entries:
        raise LookupError(f"the demo {resource_type} {key} is missing: load the demo first")
    resource: dict[str, Any] = entries[0]["resource"]
    return resource
