"""WebAuthn passkeys through py_webauthn: user verification is always required, resident
keys preferred, attestation not requested (a passkey proves possession, not its make)."""

from __future__ import annotations

from dataclasses import dataclass

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from hygie.security.accounts.model import PasskeyRejected


@dataclass(frozen=True, slots=True)
class NewPasskey:
    credential_id: bytes
    public_key: bytes  # COSE_Key
    sign_count: int


def registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_id: bytes,
    username: str,
    display: str,
    existing: list[bytes],
) -> tuple[str, bytes]:
    """The options JSON for navigator.credentials.create() and its challenge (the state)."""
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_id,
        user_name=username,
        user_display_name=display,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in existing],
    )
    return options_to_json(options), options.challenge


def verify_registration(
    credential_json: str, *, state: bytes, origin: str, rp_id: str
) -> NewPasskey:
    try:
        verified = verify_registration_response(
            credential=credential_json,
            expected_challenge=state,
            expected_origin=origin,
            expected_rp_id=rp_id,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError) as exc:
        raise PasskeyRejected(
            "Clé d'accès refusée : réessayez en déverrouillant l'appareil (code ou biométrie).",
            detail=str(exc),
        ) from None
    return NewPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )


def authentication_options(*, rp_id: str, credential_ids: list[bytes]) -> tuple[str, bytes]:
    """The options JSON for navigator.credentials.get() and its challenge (the state)."""
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in credential_ids],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), options.challenge


def credential_id_of(credential_json: str) -> bytes | None:
    try:
        return parse_authentication_credential_json(credential_json).raw_id
    except (WebAuthnException, ValueError):
        return None


def verify_assertion(
    credential_json: str,
    *,
    state: bytes,
    origin: str,
    rp_id: str,
    public_key: bytes,
    sign_count: int,
) -> int | None:
    """The authenticator's new signature counter if the assertion verifies, else None.

    py_webauthn refuses a counter that did not grow (a cloned authenticator), unless both the
    stored and the new counter are 0, as with passkeys that do not count."""
    try:
        verified = verify_authentication_response(
            credential=credential_json,
            expected_challenge=state,
            expected_origin=origin,
            expected_rp_id=rp_id,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError):
        return None
    return verified.new_sign_count
