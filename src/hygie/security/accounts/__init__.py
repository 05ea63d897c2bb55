"""Accounts: patients, professionals and administrators; passwords, progressive delays
against guessing, TOTP with recovery codes, and WebAuthn passkeys. See :class:`AccountService`.
"""

from hygie.security.accounts.model import (
    SIGN_IN_FAILED_MESSAGE,
    Account,
    AccountExists,
    AccountNotFound,
    InvalidAccount,
    PasskeyRejected,
    PasswordRejected,
    SignInFailed,
    TotpEnrolment,
    TotpError,
)
from hygie.security.accounts.service import AccountService
from hygie.security.accounts.throttle import ThrottlePolicy

__all__ = [
    "SIGN_IN_FAILED_MESSAGE",
    "Account",
    "AccountExists",
    "AccountNotFound",
    "AccountService",
    "InvalidAccount",
    "PasskeyRejected",
    "PasswordRejected",
    "SignInFailed",
    "ThrottlePolicy",
    "TotpEnrolment",
    "TotpError",
]
