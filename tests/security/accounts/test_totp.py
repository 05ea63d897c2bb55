"""TOTP enrolment and checks (each code once, +-1 step), recovery codes (single use), the
second-factor throttle and the TOTP secret sealed at rest."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from hygie.db.engine import Database
from hygie.security.accounts import Account, AccountService, TotpError
from hygie.security.accounts.secretbox import SecretKeyError
from hygie.security.accounts.tables import security_accounts_recovery, security_accounts_totp
from hygie.security.audit import AuditLog, Outcome
from tests.conftest import backends
from tests.security.accounts.helpers import GOOD_PASSWORD, Clock, cheap_hasher


@pytest.fixture
def account(service: AccountService) -> Account:
    return service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean")


def code(secret: str, clock: Clock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock() + 30 * steps)


def enrol(service: AccountService, account: Account, clock: Clock) -> tuple[str, list[str]]:
    secret = service.begin_totp(account.id).secret
    recovery = service.confirm_totp(account.id, code(secret, clock))
    clock.advance(30)  # the confirming code is spent
    return secret, recovery


@backends
def test_enrolment_gives_a_uri_and_a_qr_code_and_needs_a_first_code(
    service: AccountService, account: Account, clock: Clock
) -> None:
    enrolment = service.begin_totp(account.id)
    uri = urlparse(enrolment.uri)
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Hygie:jean.dupont")
    assert parse_qs(uri.query)["secret"] == [enrolment.secret]
    assert enrolment.qr_svg.startswith("<svg") and "<path" in enrolment.qr_svg
    assert enrolment.secret not in repr(enrolment)
    assert service.second_factors(account.id) == set()
    with pytest.raises(TotpError, match="Code incorrect"):
        service.confirm_totp(account.id, code(enrolment.secret, clock, steps=5))
    assert service.second_factors(account.id) == set()
    recovery = service.confirm_totp(account.id, code(enrolment.secret, clock))
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert service.second_factors(account.id) == {"totp"}
    with pytest.raises(TotpError, match="Aucune inscription"):
        service.confirm_totp(account.id, code(enrolment.secret, clock, steps=1))


@backends
def test_a_code_is_accepted_once_and_older_steps_never(
    service: AccountService, account: Account, clock: Clock
) -> None:
    secret, _ = enrol(service, account, clock)
    now_code = code(secret, clock)
    assert service.verify_totp(account.id, now_code)
    assert not service.verify_totp(account.id, now_code)  # replay
    assert not service.verify_totp(account.id, code(secret, clock, steps=-1))  # older step
    assert service.verify_totp(account.id, code(secret, clock, steps=1))  # clock drift ahead
    clock.advance(90)
    assert service.verify_totp(account.id, code(secret, clock, steps=-1))  # 30 s behind: ok


@backends
def test_codes_outside_the_window_or_malformed_are_refused(
    service: AccountService, account: Account, clock: Clock
) -> None:
    secret, _ = enrol(service, account, clock)
    assert not service.verify_totp(account.id, code(secret, clock, steps=2))
    assert not service.verify_totp(account.id, code(secret, clock, steps=-2))
    assert not service.verify_totp(account.id, "12345")
    assert not service.verify_totp(account.id, "abcdef")
    assert not service.verify_totp("no-such-account", code(secret, clock))
    clock.advance(3600)  # the failures above are not a lockout yet
    assert service.verify_totp(account.id, code(secret, clock))


@backends
def test_guessing_codes_is_throttled(
    service: AccountService, account: Account, clock: Clock
) -> None:
    secret, _ = enrol(service, account, clock)
    for guess in range(5):
        assert not service.verify_totp(account.id, f"{guess:06d}")
    assert service.mfa_retry_after(account.id) == 1
    assert not service.verify_totp(account.id, code(secret, clock))  # right, but too soon
    clock.advance(1)
    assert service.verify_totp(account.id, code(secret, clock))
    assert service.mfa_retry_after(account.id) is None


@backends
def test_recovery_codes_work_once_each_and_reenrolment_replaces_them(
    service: AccountService, account: Account, clock: Clock
) -> None:
    _, recovery = enrol(service, account, clock)
    assert service.verify_recovery_code(account.id, recovery[0].upper().replace("-", " "))
    assert not service.verify_recovery_code(account.id, recovery[0])
    assert service.remaining_recovery_codes(account.id) == 9
    assert not service.verify_recovery_code(account.id, "aaaa-bbbb-cccc-dddd")
    other = service.create("patient", "other.user", GOOD_PASSWORD, display="O")
    assert not service.verify_recovery_code(other.id, recovery[1])  # not theirs
    _, fresh = enrol(service, account, clock)
    assert not service.verify_recovery_code(account.id, recovery[1])
    assert service.verify_recovery_code(account.id, fresh[1])


@backends
def test_a_disabled_account_passes_no_second_factor(
    service: AccountService, account: Account, clock: Clock
) -> None:
    secret, recovery = enrol(service, account, clock)
    service.disable(account.id)
    assert not service.verify_totp(account.id, code(secret, clock))
    assert not service.verify_recovery_code(account.id, recovery[0])


@backends
def test_secrets_are_sealed_at_rest_and_recovery_codes_stored_hashed(
    database: Database, service: AccountService, account: Account, clock: Clock
) -> None:
    secret, recovery = enrol(service, account, clock)
    with database.read() as conn:
        stored = bytes(conn.execute(security_accounts_totp.select()).one().secret)
        hashes = [bytes(r.code_hash) for r in conn.execute(security_accounts_recovery.select())]
    assert secret.encode() not in stored and len(stored) > len(secret)
    assert not any(c.replace("-", "").encode() in h for c in recovery for h in hashes)
    # Another key cannot open the secret; without any key the service says what is missing.
    wrong = AccountService(database, clock=clock, secret_key=b"x" * 32, hasher=cheap_hasher())
    with pytest.raises(SecretKeyError, match="does not open with this key"):
        wrong.verify_totp(account.id, code(secret, clock))
    keyless = AccountService(database, clock=clock, hasher=cheap_hasher())
    with pytest.raises(SecretKeyError, match="give the accounts secret key"):
        keyless.verify_totp(account.id, code(secret, clock))


@backends
def test_mfa_events_are_audited(
    service: AccountService, account: Account, clock: Clock, audit_log: AuditLog
) -> None:
    secret, recovery = enrol(service, account, clock)
    service.verify_totp(account.id, code(secret, clock))
    service.verify_totp(account.id, "000000")
    service.verify_recovery_code(account.id, recovery[0])
    entries = [audit_log.entry(i) for i in range(audit_log.tree_head().tree_size)]
    assert [(e.action, e.outcome, e.reason) for e in entries] == [
        ("auth.mfa.enrol", Outcome.SUCCESS, "totp"),
        ("auth.mfa.verify", Outcome.SUCCESS, "totp"),
        ("auth.mfa.verify", Outcome.FAILURE, "totp"),
        ("auth.mfa.verify", Outcome.SUCCESS, "recovery code"),
    ]
    assert {e.actor.id for e in entries} == {account.id}
