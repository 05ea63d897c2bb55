"""WebAuthn passkeys with a software authenticator: registration and sign-in with user
verification required, counters that must grow, responses bound to their challenge."""

from __future__ import annotations

import json

import pytest

from hygie.security.accounts import Account, AccountService, PasskeyRejected
from hygie.security.audit import AuditLog, Outcome
from tests.conftest import backends
from tests.security.accounts.helpers import (
    GOOD_PASSWORD,
    ORIGIN,
    RP_ID,
    SoftAuthenticator,
)


@pytest.fixture
def account(service: AccountService) -> Account:
    return service.create("patient", "jean.dupont", GOOD_PASSWORD, display="Jean Dupont")


def register(service: AccountService, account: Account, device: SoftAuthenticator) -> None:
    options, state = service.passkey_registration_options(account.id, rp_id=RP_ID, rp_name="Hygie")
    service.finish_passkey_registration(
        account.id, device.register(options), state=state, origin=ORIGIN, rp_id=RP_ID
    )


def sign_in(
    service: AccountService, account: Account, device: SoftAuthenticator, **kwargs: object
) -> bool:
    options, state = service.passkey_authentication_options(account.id, rp_id=RP_ID)
    return service.finish_passkey_authentication(
        account.id,
        device.authenticate(options, **kwargs),
        state=state,
        origin=ORIGIN,
        rp_id=RP_ID,  # type: ignore[arg-type]
    )


@backends
def test_options_require_user_verification_and_prefer_resident_keys(
    service: AccountService, account: Account
) -> None:
    options, state = service.passkey_registration_options(account.id, rp_id=RP_ID, rp_name="Hygie")
    created = json.loads(options)
    assert created["authenticatorSelection"]["userVerification"] == "required"
    assert created["authenticatorSelection"]["residentKey"] == "preferred"
    assert created["rp"] == {"id": RP_ID, "name": "Hygie"}
    assert created["user"]["name"] == "jean.dupont"
    assert len(state) >= 32
    register(service, account, SoftAuthenticator())
    get_options, _ = service.passkey_authentication_options(account.id, rp_id=RP_ID)
    got = json.loads(get_options)
    assert got["userVerification"] == "required" and len(got["allowCredentials"]) == 1


@backends
def test_a_registered_passkey_signs_in_with_a_growing_counter(
    service: AccountService, account: Account, audit_log: AuditLog
) -> None:
    device = SoftAuthenticator()
    register(service, account, device)
    assert service.second_factors(account.id) == {"passkey"}
    assert sign_in(service, account, device)
    assert sign_in(service, account, device)
    assert not sign_in(service, account, device, count_step=0)  # counter did not grow: a clone
    assert not sign_in(service, account, device, count_step=-1)
    assert sign_in(service, account, device, count_step=5)
    actions = [audit_log.entry(i) for i in range(audit_log.tree_head().tree_size)]
    assert [(e.action, e.outcome) for e in actions] == [
        ("auth.mfa.enrol", Outcome.SUCCESS),
        *[("auth.mfa.verify", Outcome.SUCCESS)] * 2,
        *[("auth.mfa.verify", Outcome.FAILURE)] * 2,
        ("auth.mfa.verify", Outcome.SUCCESS),
    ]


@backends
def test_without_user_verification_nothing_is_accepted(
    service: AccountService, account: Account
) -> None:
    device = SoftAuthenticator()
    options, state = service.passkey_registration_options(account.id, rp_id=RP_ID, rp_name="Hygie")
    with pytest.raises(PasskeyRejected, match="Clé d'accès refusée") as refused:
        service.finish_passkey_registration(
            account.id,
            device.register(options, user_verified=False),
            state=state,
            origin=ORIGIN,
            rp_id=RP_ID,
        )
    assert "User verification is required" in refused.value.detail
    assert service.second_factors(account.id) == set()
    register(service, account, device)
    assert not sign_in(service, account, device, user_verified=False)
    assert sign_in(service, account, device)


@backends
def test_responses_are_bound_to_challenge_origin_account_and_key(
    service: AccountService, account: Account
) -> None:
    device = SoftAuthenticator()
    options, state = service.passkey_registration_options(account.id, rp_id=RP_ID, rp_name="Hygie")
    other_options, _ = service.passkey_registration_options(
        account.id, rp_id=RP_ID, rp_name="Hygie"
    )
    with pytest.raises(PasskeyRejected):  # answered another challenge
        service.finish_passkey_registration(
            account.id, device.register(other_options), state=state, origin=ORIGIN, rp_id=RP_ID
        )
    with pytest.raises(PasskeyRejected):  # a phishing site's origin
        service.finish_passkey_registration(
            account.id,
            device.register(options),
            state=state,
            origin="https://hygie.evil",
            rp_id=RP_ID,
        )
    with pytest.raises(PasskeyRejected):
        service.finish_passkey_registration(
            account.id, "{not json", state=state, origin=ORIGIN, rp_id=RP_ID
        )
    register(service, account, device)
    with pytest.raises(PasskeyRejected, match="déjà enregistrée"):
        register(service, account, device)

    other = service.create("patient", "other.user", GOOD_PASSWORD, display="Other")
    assert not sign_in(service, other, device)  # not other's passkey
    impostor = SoftAuthenticator()
    impostor.credential_id = device.credential_id  # same id, another key
    assert not sign_in(service, account, impostor)
    options, state = service.passkey_authentication_options(account.id, rp_id=RP_ID)
    stale, _ = service.passkey_authentication_options(account.id, rp_id=RP_ID)
    assert not service.finish_passkey_authentication(
        account.id, device.authenticate(stale), state=state, origin=ORIGIN, rp_id=RP_ID
    )
    assert not service.finish_passkey_authentication(
        account.id, "garbage", state=state, origin=ORIGIN, rp_id=RP_ID
    )
    assert sign_in(service, account, device)
    service.disable(account.id)
    assert not sign_in(service, account, device)
