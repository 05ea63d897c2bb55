"""Password sign-in: progressive delays, uniform failures, disabled accounts, rehashing,
password changes and the audit trail."""

from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher

from hygie.db.engine import Database
from hygie.security.accounts import (
    SIGN_IN_FAILED_MESSAGE,
    AccountService,
    PasswordRejected,
    SignInFailed,
)
from hygie.security.accounts.passwords import MESSAGES
from hygie.security.accounts.tables import security_accounts_account, security_accounts_throttle
from hygie.security.audit import ActorKind, AuditLog, Outcome
from tests.conftest import backends
from tests.security.accounts.helpers import GOOD_PASSWORD, Clock, cheap_hasher

IP = "203.0.113.7"


def fail(
    service: AccountService, username: str, password: str = "Mauvais-mot2passe", ip: str = IP
) -> SignInFailed:
    with pytest.raises(SignInFailed) as failed:
        service.check_password(username, password, source_ip=ip)
    return failed.value


@backends
def test_delays_grow_after_five_failures_and_a_success_resets_them(
    service: AccountService, clock: Clock
) -> None:
    account = service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean")
    assert [fail(service, "jean.dupont").retry_after for _ in range(4)] == [None] * 4
    assert fail(service, "jean.dupont").retry_after == 1  # the fifth failure
    # While the delay runs even the right password is refused, without being checked.
    assert fail(service, "jean.dupont", GOOD_PASSWORD).retry_after == 1
    waits = []
    for _ in range(5):
        clock.advance(waits[-1] if waits else 1)
        waits.append(fail(service, "jean.dupont").retry_after)
    assert waits == [2, 4, 8, 16, 32]
    clock.advance(10)
    assert fail(service, "jean.dupont", GOOD_PASSWORD).retry_after == 22
    clock.advance(22)
    assert service.check_password("Jean.Dupont", GOOD_PASSWORD, source_ip=IP) == account
    # The success cleared the username's counter: five free tries again.
    assert [fail(service, "jean.dupont").retry_after for _ in range(4)] == [None] * 4


@backends
def test_the_delay_is_capped_at_fifteen_minutes(database: Database, clock: Clock) -> None:
    service = AccountService(database, clock=clock, hasher=cheap_hasher())
    retry = None
    for _ in range(20):
        retry = fail(service, "nobody").retry_after
        clock.advance(retry or 0)
    assert retry == 900


@backends
def test_counters_are_forgotten_after_a_quiet_day(service: AccountService, clock: Clock) -> None:
    for _ in range(5):
        fail(service, "jean.dupont")
    clock.advance(86_400)
    assert fail(service, "jean.dupont").retry_after is None


@backends
def test_unknown_user_wrong_password_and_disabled_account_fail_alike(
    service: AccountService, clock: Clock
) -> None:
    disabled = service.create("patient", "disabled.user", GOOD_PASSWORD, display="D")
    service.create("patient", "known.user", GOOD_PASSWORD, display="K")
    service.disable(disabled.id)
    outcomes = []
    for username, password in [
        ("no.such.user", GOOD_PASSWORD),
        ("known.user", "Mauvais-mot2passe"),
        ("disabled.user", GOOD_PASSWORD),
    ]:
        failures = [fail(service, username, password) for _ in range(5)]
        outcomes.append([(type(f), str(f), f.retry_after) for f in failures])
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[0][-1] == (SignInFailed, SIGN_IN_FAILED_MESSAGE, 1)


@backends
def test_an_unknown_user_costs_one_password_hash_too(database: Database, clock: Clock) -> None:
    # Real argon2 parameters: the dummy hash must take about as long as the account's.
    service = AccountService(
        database,
        clock=clock,
        hasher=PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1),
    )
    service.create("patient", "known.user", GOOD_PASSWORD, display="K")
    fail(service, "warm.up")  # the dummy hash is made once, on first need

    def timed(username: str) -> float:
        clock.advance(86_400)  # never throttled
        start = time.perf_counter()
        fail(service, username)
        return time.perf_counter() - start

    unknown = statistics.median(timed(f"ghost{n}") for n in range(7))
    known = statistics.median(timed("known.user") for _ in range(7))
    assert 0.5 < unknown / known < 2


@backends
def test_source_ip_throttling_spans_usernames(database: Database, clock: Clock) -> None:
    from hygie.security.accounts import ThrottlePolicy

    service = AccountService(
        database, clock=clock, hasher=cheap_hasher(), ip_throttle=ThrottlePolicy(free=10)
    )
    service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean")
    for n in range(9):
        assert fail(service, f"user{n}").retry_after is None
    assert fail(service, "user9").retry_after == 1
    # The right password from that IP waits too; from another IP it goes through.
    assert fail(service, "jean.dupont", GOOD_PASSWORD).retry_after == 1
    assert service.check_password("jean.dupont", GOOD_PASSWORD, source_ip="198.51.100.1")


@backends
def test_overlong_passwords_fail_without_being_hashed(service: AccountService) -> None:
    service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean")
    assert str(fail(service, "jean.dupont", GOOD_PASSWORD + "x" * 300)) == SIGN_IN_FAILED_MESSAGE


@backends
def test_hashes_are_upgraded_at_sign_in_when_parameters_change(
    database: Database, clock: Clock
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    AccountService(database, clock=clock, hasher=weak).create(
        "patient", "jean.dupont", GOOD_PASSWORD, display="Jean"
    )

    def stored() -> str:
        with database.read() as conn:
            return str(conn.execute(security_accounts_account.select()).one().password_hash)

    assert stored().startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    AccountService(database, clock=clock, hasher=stronger).check_password(
        "jean.dupont", GOOD_PASSWORD, source_ip=IP
    )
    assert stored().startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert stronger.verify(stored(), GOOD_PASSWORD)


@backends
def test_change_password_checks_the_old_one_and_the_rules(service: AccountService) -> None:
    account = service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean")
    with pytest.raises(SignInFailed):
        service.change_password(account.id, "Pas le bon mot2passe", "Nouveau-mot2passe!")
    with pytest.raises(PasswordRejected) as refused:
        service.change_password(account.id, GOOD_PASSWORD, GOOD_PASSWORD)
    assert refused.value.reasons == [MESSAGES["unchanged"]]
    with pytest.raises(PasswordRejected) as refused:
        service.change_password(account.id, GOOD_PASSWORD, "azerty")
    assert MESSAGES["common"] in refused.value.reasons
    service.check_password("jean.dupont", GOOD_PASSWORD, source_ip=IP)  # still the old one
    service.change_password(account.id, GOOD_PASSWORD, "Nouveau-mot2passe!")
    fail(service, "jean.dupont", GOOD_PASSWORD)
    assert service.check_password("jean.dupont", "Nouveau-mot2passe!", source_ip=IP) == account


@backends
def test_sign_ins_are_audited_without_the_typed_username_of_unknown_users(
    database: Database, service: AccountService, audit_log: AuditLog
) -> None:
    account = service.create(
        "patient", "jean.dupont", GOOD_PASSWORD, display="Jean", fhir_ref="Patient/p1"
    )
    service.check_password("jean.dupont", GOOD_PASSWORD, source_ip=IP)
    for _ in range(5):
        fail(service, "jean.dupont")
    fail(service, "typed-my-Secret-here")
    entries = [audit_log.entry(i) for i in range(audit_log.tree_head().tree_size)]
    assert [(e.action, e.outcome) for e in entries] == [
        ("auth.signin", Outcome.SUCCESS),
        *[("auth.signin", Outcome.FAILURE)] * 5,
        ("auth.lockout", Outcome.FAILURE),
        ("auth.signin", Outcome.FAILURE),
    ]
    assert entries[0].actor.id == account.id and entries[0].actor.kind is ActorKind.PATIENT
    assert entries[0].patient == "Patient/p1"  # in the patient's own access history
    assert entries[-1].actor.id == "anonymous"
    assert "typed" not in str(entries[-1])
    with database.read() as conn:  # nor is it in the counters' table
        keys = [row.key for row in conn.execute(security_accounts_throttle.select())]
    assert all("typed" not in key and "jean" not in key for key in keys)
