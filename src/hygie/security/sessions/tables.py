"""Tables of hygie.security.sessions (migration 0008).

- ``security_sessions_session``: one row per browser session. The cookie carries a random
  secret; only its SHA-256 is stored, so a copy of the table signs nobody in. ``id`` is a
  separate public identifier (shown in the session list, bound into CSRF tokens).
- ``security_sessions_pending``: short-lived server-side state of a ceremony in progress
  (a WebAuthn challenge, an OpenID Connect state with its nonce and PKCE verifier), taken
  at most once.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, LargeBinary, String, Table

from hygie.db.schema import metadata

security_sessions_session = Table(
    "security_sessions_session",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),  # epoch seconds
    Column("last_seen", BigInteger, nullable=False),
    Column("aal", Integer, nullable=False),
    Column("auth_time", BigInteger, nullable=False),  # last authentication, second factor included
    Column("source_ip", String(64), nullable=False),
    Column("user_agent", String(512), nullable=False),
    Column("failed_factors", Integer, nullable=False, default=0),  # wrong second factors
    Column("revoked", Boolean, nullable=False, default=False),
    Index("ix_security_sessions_session_account", "account_id", "revoked"),
)

security_sessions_pending = Table(
    "security_sessions_pending",
    metadata,
    Column("purpose", String(32), primary_key=True),
    Column("key", String(64), primary_key=True),  # a session id, or the hash of an OIDC state
    Column("payload", LargeBinary, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)
