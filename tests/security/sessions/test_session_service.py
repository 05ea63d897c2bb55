"""SessionService on both backends: lifetimes, revocation, disabled accounts, contexts."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from hygie.db.engine import Database
from hygie.security.accounts import Account, AccountService
from hygie.security.context import Aal, PrincipalKind
from hygie.security.scopes import format_scopes
from hygie.security.sessions import SessionService
from hygie.security.sessions.tables import security_sessions_session as table
from tests.conftest import backends
from tests.security.sessions.helpers import Clock, patient, professional


def start(sessions: SessionService, account: Account, aal: Aal = Aal.TWO) -> tuple[str, str]:
    session, secret = sessions.start(account, aal, source_ip="192.0.2.7", user_agent="Firefox")
    return session.id, secret


@backends
def test_only_the_hash_of_the_cookie_is_stored(
    database: Database, accounts: AccountService, sessions: SessionService
) -> None:
    session_id, secret = start(sessions, patient(accounts))
    with database.read() as conn:
        row = conn.execute(select(table).where(table.c.id == session_id)).one()
    assert row.secret_hash == hashlib.sha256(secret.encode()).digest()
    assert secret.encode() not in repr(row._mapping).encode()
    found = sessions.lookup(secret)
    assert found is not None and found.id == session_id and found.aal is Aal.TWO
    assert found.source_ip == "192.0.2.7" and found.user_agent == "Firefox"


@backends
def test_unknown_and_empty_cookies_find_nothing(
    accounts: AccountService, sessions: SessionService
) -> None:
    start(sessions, patient(accounts))
    assert sessions.lookup("") is None
    assert sessions.lookup("not-a-session") is None


@backends
def test_idle_timeout_ends_a_session_left_alone_but_not_a_used_one(
    accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    _, used = start(sessions, patient(accounts))
    _, idle = start(sessions, patient(accounts, "bob"))
    for _ in range(3):
        clock.advance(800)
        assert sessions.lookup(used) is not None
    assert sessions.lookup(idle) is None  # 2400 s without a request


@backends
def test_absolute_timeout_ends_even_an_active_session(
    accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    _, secret = start(sessions, patient(accounts))
    for _ in range(43200 // 800):
        clock.advance(800)
        assert sessions.lookup(secret) is not None
    clock.advance(800)
    assert sessions.lookup(secret) is None


@backends
def test_revoked_sessions_and_disabled_accounts_find_nothing(
    accounts: AccountService, sessions: SessionService
) -> None:
    alice = patient(accounts)
    session_id, secret = start(sessions, alice)
    _, other = start(sessions, alice)
    sessions.revoke(session_id)
    assert sessions.lookup(secret) is None
    assert sessions.lookup(other) is not None
    accounts.disable(alice.id)
    assert sessions.lookup(other) is None
    assert sessions.context(other, network_zone="internet", source_ip="192.0.2.7") is None
    accounts.enable(alice.id)
    assert sessions.lookup(other) is not None  # disabling is not revoking


@backends
def test_revoke_all_keeps_only_the_named_session_and_spares_other_accounts(
    accounts: AccountService, sessions: SessionService
) -> None:
    alice, bob = patient(accounts), patient(accounts, "bob")
    kept, kept_secret = start(sessions, alice)
    _, gone = start(sessions, alice)
    _, bobs = start(sessions, bob)
    assert sessions.revoke_all(alice.id, keep=kept) == 1
    assert [s.id for s in sessions.list_for(alice.id)] == [kept]
    assert sessions.lookup(gone) is None and sessions.lookup(kept_secret) is not None
    assert sessions.lookup(bobs) is not None
    assert sessions.revoke_all(alice.id) == 1
    assert sessions.list_for(alice.id) == []


@backends
def test_list_for_shows_live_sessions_most_recent_first(
    accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    alice = patient(accounts)
    old, _ = start(sessions, alice)
    clock.advance(120)
    new, _ = start(sessions, alice)
    assert [s.id for s in sessions.list_for(alice.id)] == [new, old]
    clock.advance(900)
    assert [s.id for s in sessions.list_for(alice.id)] == [new]  # old idle for 1020 s


@backends
def test_elevate_rotates_the_cookie_and_refreshes_auth_time(
    accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    session_id, first = start(sessions, patient(accounts), Aal.ONE)
    clock.advance(100)
    second = sessions.elevate(session_id, Aal.TWO)
    assert sessions.lookup(first) is None  # no session fixation
    raised = sessions.lookup(second)
    assert raised is not None and raised.id == session_id
    assert raised.aal is Aal.TWO and raised.auth_time == int(clock())


@backends
def test_too_many_wrong_second_factors_revoke_the_session(
    accounts: AccountService, sessions: SessionService
) -> None:
    session_id, secret = start(sessions, patient(accounts), Aal.ONE)
    assert [sessions.factor_failed(session_id) for _ in range(5)] == [False] * 4 + [True]
    assert sessions.lookup(secret) is None


@backends
def test_context_gives_patients_their_compartment_and_professionals_user_scopes(
    accounts: AccountService, sessions: SessionService
) -> None:
    _, alice = start(sessions, patient(accounts), Aal.ONE)
    ctx = sessions.context(alice, network_zone="internet", source_ip="192.0.2.7")
    assert ctx is not None
    assert ctx.principal.kind is PrincipalKind.PATIENT and ctx.aal is Aal.ONE
    assert format_scopes(ctx.scopes) == "patient/*.cruds"
    assert ctx.launch_patient == "Patient/p1" and ctx.network_zone == "internet"
    session_id, doctor = start(sessions, professional(accounts))
    ctx = sessions.context(doctor, network_zone="internal", source_ip="10.0.0.5")
    assert ctx is not None and ctx.session_id == session_id and ctx.aal is Aal.TWO
    assert format_scopes(ctx.scopes) == "user/*.cruds" and ctx.launch_patient is None
    assert ctx.principal.fhir_ref == "Practitioner/pr1"


@backends
def test_admins_get_no_clinical_scope(accounts: AccountService, sessions: SessionService) -> None:
    admin = accounts.create(
        PrincipalKind.ADMIN,
        "rssi",
        "Vaste-Plaine-Bleue-2026",
        display="RSSI",
        roles=frozenset({"security-officer"}),
    )
    _, secret = start(sessions, admin)
    ctx = sessions.context(secret, network_zone="internal", source_ip="10.0.0.5")
    assert ctx is not None and ctx.scopes == frozenset() and ctx.launch_patient is None
