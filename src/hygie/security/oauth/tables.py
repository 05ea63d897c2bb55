"""Tables of hygie.security.oauth (migrations 0009 and 0013). Times are epoch seconds.

- ``security_oauth_client``: registered apps. Secrets are stored as SHA-256 digests: they are
  32 random bytes, so a slow password hash would add nothing but latency. A device client
  also names its FHIR Device and carries its posture (0013).
- ``security_oauth_code``: authorization codes, by digest; single use, 60 s at most. A code
  remembers the grant it produced so that replaying it revokes that grant.
- ``security_oauth_grant``: one per successful code or client_credentials exchange: the
  "family" every access and refresh token of that exchange belongs to. Revoking it kills them all.
- ``security_oauth_refresh``: refresh tokens by digest; rotated on use, a reused one revokes
  its family.
- ``security_oauth_revoked``: access tokens revoked one by one (RFC 7009), by jti, kept until
  they would have expired anyway.
- ``security_oauth_seen``: replay store for DPoP proof and client assertion ``jti``s.
- ``security_oauth_form``: one-time tokens of the consent form (its CSRF protection).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from hygie.db.schema import metadata

security_oauth_client = Table(
    "security_oauth_client",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # public, confidential, backend, device
    Column("secret_hash", String(64), nullable=True),
    Column("jwks", Text, nullable=True),  # JSON {"keys": [...]}, public keys only
    Column("redirect_uris", Text, nullable=False),  # JSON list
    Column("scopes", Text, nullable=False),  # space-separated
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("device_ref", String(128), nullable=True, index=True),  # "Device/<id>"
    Column("posture", String(16), nullable=True),  # compliant, unknown, quarantined
    Column("posture_at", BigInteger, nullable=True),
)

security_oauth_code = Table(
    "security_oauth_code",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("nonce", String(255), nullable=True),
    Column("patient", String(128), nullable=True),
    Column("auth_time", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("used", Boolean, nullable=False, default=False),
    Column("grant_id", String(64), nullable=True),
)

security_oauth_grant = Table(
    "security_oauth_grant",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("account_id", String(64), nullable=True, index=True),  # None: client_credentials
    Column("scope", Text, nullable=False),
    Column("patient", String(128), nullable=True),
    Column("jkt", String(64), nullable=True),  # DPoP key thumbprint the tokens are bound to
    Column("auth_time", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

security_oauth_refresh = Table(
    "security_oauth_refresh",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("grant_id", String(64), nullable=False, index=True),
    Column("expires_at", BigInteger, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

security_oauth_revoked = Table(
    "security_oauth_revoked",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

security_oauth_seen = Table(
    "security_oauth_seen",
    metadata,
    Column("key", String(64), primary_key=True),  # SHA-256 of kind, subject and jti
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_security_oauth_seen_expires_at", "expires_at"),
)

security_oauth_form = Table(
    "security_oauth_form",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("request", Text, nullable=False),  # JSON of the validated authorization request
    Column("expires_at", BigInteger, nullable=False, index=True),
)
