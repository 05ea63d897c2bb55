"""The authorization server's entries in the audit log (token.*, auth.client)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hygie.security.accounts.model import Account
from hygie.security.audit import Actor, ActorKind, AuditEntry, AuditLog, Outcome
from hygie.security.context import PrincipalKind
from hygie.security.oauth.clients import Client

_ACTOR_KIND = {
    PrincipalKind.PATIENT: ActorKind.PATIENT,
    PrincipalKind.PRACTITIONER: ActorKind.PRACTITIONER,
}
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}")


def account_actor(account: Account) -> Actor:
    return Actor(_ACTOR_KIND.get(account.kind, ActorKind.USER), account.id, account.display)


def client_actor(client_id: str | None) -> Actor:
    """The app as actor; an id a caller made up is only logged if it is a plain token."""
    safe = client_id if client_id and _SAFE_ID.fullmatch(client_id) else "unknown"
    return Actor(ActorKind.APP, safe)


def self_actor(client: Client) -> Actor:
    """A client acting for itself: a device is named by its FHIR Device, an app by its id."""
    if client.device_ref is not None:
        return Actor(ActorKind.DEVICE, client.device_ref, client.name)
    return client_actor(client.id)


class Trail:
    def __init__(self, log: AuditLog | None, *, clock: Callable[[], float] = time.time) -> None:
        self._log = log
        self._clock = clock

    def record(
        self,
        action: str,
        outcome: Outcome,
        actor: Actor,
        *,
        client_id: str | None = None,
        patient: str | None = None,
        reason: str | None = None,
    ) -> None:
        if self._log is None:
            return
        self._log.append(
            AuditEntry(
                time=datetime.fromtimestamp(self._clock(), UTC),
                actor=actor,
                action=action,
                outcome=outcome,
                client_id=client_actor(client_id).id if client_id else None,
                patient=patient,
                reason=reason,
            )
        )
