"""Tables of hygie.security.accounts (migration 0007).

- ``security_accounts_account``: one row per account; ``username`` is stored normalised
  (lower case) and unique, ``roles`` sorted and space-separated, the password as an argon2id
  PHC string (its parameters travel with it, so they can change without a migration).
- ``security_accounts_throttle``: failure counters for progressive delays, keyed by a hash of
  ``"user:<username>"`` (whether the account exists or not), ``"ip:<address>"`` or
  ``"mfa:<account id>"``: typed usernames, which are sometimes passwords, are never stored.
- ``security_accounts_totp``: the active TOTP secret and one being enrolled, encrypted when
  the service has a key; ``last_step`` is the last accepted time step (codes are single use).
- ``security_accounts_recovery``: recovery codes as keyed hashes, ``used_at`` once spent.
- ``security_accounts_passkey``: WebAuthn credentials (COSE public key, signature counter).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from hygie.db.schema import metadata

ACCOUNT_ID_LENGTH = 32

security_accounts_account = Table(
    "security_accounts_account",
    metadata,
    Column("id", String(ACCOUNT_ID_LENGTH), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("username", String(64), nullable=False, unique=True),
    Column("display", String(200), nullable=False),
    Column("fhir_ref", String(128), nullable=True),
    Column("organization_ref", String(128), nullable=True),
    Column("roles", String(512), nullable=False),
    Column("rpps", String(11), nullable=True, unique=True),
    Column("password_hash", String(512), nullable=False),
    Column("disabled", Boolean, nullable=False),
    # Epoch seconds.
    Column("created_at", BigInteger, nullable=False),
    Column("password_changed_at", BigInteger, nullable=False),
)

security_accounts_throttle = Table(
    "security_accounts_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    # Epoch milliseconds of the last counted attempt.
    Column("last_failure_ms", BigInteger, nullable=False),
)


def _account_fk(table: str) -> ForeignKey:
    # Named explicitly: the naming convention's name would pass PostgreSQL's 63-byte limit.
    return ForeignKey(
        "security_accounts_account.id", name=f"fk_{table}_account", ondelete="CASCADE"
    )


security_accounts_totp = Table(
    "security_accounts_totp",
    metadata,
    Column(
        "account_id",
        String(ACCOUNT_ID_LENGTH),
        _account_fk("security_accounts_totp"),
        primary_key=True,
    ),
    Column("secret", LargeBinary, nullable=True),
    Column("pending_secret", LargeBinary, nullable=True),
    Column("last_step", BigInteger, nullable=False),
    Column("confirmed_at", BigInteger, nullable=True),
)

security_accounts_recovery = Table(
    "security_accounts_recovery",
    metadata,
    Column(
        "account_id",
        String(ACCOUNT_ID_LENGTH),
        _account_fk("security_accounts_recovery"),
        primary_key=True,
    ),
    Column("code_hash", LargeBinary(32), primary_key=True),
    Column("used_at", BigInteger, nullable=True),
)

security_accounts_passkey = Table(
    "security_accounts_passkey",
    metadata,
    Column("credential_id", LargeBinary(1023), primary_key=True),
    Column(
        "account_id",
        String(ACCOUNT_ID_LENGTH),
        _account_fk("security_accounts_passkey"),
        nullable=False,
    ),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Index("ix_security_accounts_passkey_account_id", "account_id"),
)
