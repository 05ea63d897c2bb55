"""What the accounts service hands out: accounts, enrolments and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from hygie.security.context import PrincipalKind

# One message whatever went wrong, so that a caller cannot tell an unknown username from a
# wrong password, a disabled account or a throttled one.
SIGN_IN_FAILED_MESSAGE = "Identifiant ou mot de passe incorrect."


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    kind: PrincipalKind
    username: str
    display: str
    fhir_ref: str | None
    organization_ref: str | None
    roles: frozenset[str]
    rpps: str | None
    disabled: bool
    created_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A TOTP secret being enrolled: shown once to the user, as text, URI and QR code."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)  # otpauth://totp/...: it carries the secret too
    qr_svg: str = field(repr=False)  # inline <svg> of the URI


class SignInFailed(Exception):
    """A sign-in (or re-authentication) was refused; ``retry_after`` seconds when throttled."""

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__(SIGN_IN_FAILED_MESSAGE)
        self.retry_after = retry_after


class PasswordRejected(ValueError):
    """A new password breaks the rules; ``reasons`` has one French message per broken rule."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


class AccountExists(ValueError):
    """The username (or the RPPS number) already belongs to an account."""


class InvalidAccount(ValueError):
    """Account fields that break a rule (username, kind, roles, RPPS, references)."""


class AccountNotFound(LookupError):
    """No account has this id or username."""


class TotpError(ValueError):
    """A TOTP enrolment step that cannot proceed (nothing to confirm, wrong first code)."""


class PasskeyRejected(ValueError):
    """A passkey registration that does not verify (or a credential already registered).
    The message is for the user; ``detail`` says why in py_webauthn's words, for the logs."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail
