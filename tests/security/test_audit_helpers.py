"""Helpers of the audit tests (no tests here): RFC 9162 written out directly, and entries."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hygie.security.audit import Actor, ActorKind, AuditEntry, Outcome


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 2.1.1 writes it (recursive, no shortcuts)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


T0 = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def entry(
    n: int, patient: str | None = "Patient/p1", outcome: Outcome = Outcome.PERMIT
) -> AuditEntry:
    return AuditEntry(
        time=T0 + timedelta(seconds=n),
        actor=Actor(ActorKind.PRACTITIONER, "Practitioner/dr-martin", "Dr Claire Martin"),
        action="fhir.read",
        outcome=outcome,
        policy_id="clinician-reads-own-patients",
        resource=f"Observation/obs-{n}",
        patient=patient,
        client_id="hygie-web",
        network_zone="clinical-lan",
        purpose_of_use="TREAT",
    )
