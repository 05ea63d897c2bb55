"""TOTP (RFC 6238: SHA-1, 30 s steps, 6 digits, one step of drift either way) and recovery
codes. The service stores the last accepted step, so a code is good once only."""

from __future__ import annotations

import base64
import hmac
import re
import secrets

import pyotp
import segno

from hygie.security.accounts.model import TotpEnrolment

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_BYTES = 10  # 80 bits: 16 base32 characters
_CODE = re.compile(r"[0-9]{6}")
_RECOVERY = re.compile(r"[a-z2-7]{16}")


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def enrolment(secret: str, *, username: str, issuer: str) -> TotpEnrolment:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code TOTP")
    return TotpEnrolment(secret=secret, uri=uri, qr_svg=qr_svg)


def step_at(now: float) -> int:
    return int(now // STEP_SECONDS)


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step (within the allowed drift) whose code is ``code``, or None."""
    code = code.replace(" ", "")
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_at(now)
    for step in range(current + DRIFT_STEPS, current - DRIFT_STEPS - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten fresh codes, shown as ``abcd-efgh-ijkl-mnop``."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(_RECOVERY_BYTES)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def canonical_recovery_code(code: str) -> str | None:
    """The code without separators or case, or None if it cannot be a recovery code."""
    value = code.strip().lower().replace("-", "").replace(" ", "")
    return value if _RECOVERY.fullmatch(value) else None
