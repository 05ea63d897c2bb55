"""Ceremony state is taken once, and not after it expired."""

from __future__ import annotations

from hygie.db.engine import Database
from hygie.security.sessions.pending import PendingStore
from tests.conftest import backends
from tests.security.sessions.helpers import Clock


@backends
def test_a_pending_value_is_taken_once(database: Database, clock: Clock) -> None:
    store = PendingStore(database, clock=clock)
    store.put("webauthn-auth", "s1", b"challenge", ttl=60)
    store.put("webauthn-auth", "s1", b"newer", ttl=60)  # a new ceremony replaces the old
    assert store.take("webauthn-auth", "s2") is None
    assert store.take("oidc", "s1") is None
    assert store.take("webauthn-auth", "s1") == b"newer"
    assert store.take("webauthn-auth", "s1") is None


@backends
def test_an_expired_value_is_refused_and_removed(database: Database, clock: Clock) -> None:
    store = PendingStore(database, clock=clock)
    store.put("oidc", "state", b"x", ttl=60)
    clock.advance(61)
    assert store.take("oidc", "state") is None
    clock.advance(-61)
    assert store.take("oidc", "state") is None
