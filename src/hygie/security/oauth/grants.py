"""Authorization codes, grants (token families), refresh tokens and revocations in the database.

Codes and refresh tokens are random and stored only as SHA-256 digests: a database dump
gives nothing to replay. Consuming a code or rotating a refresh token is one conditional
UPDATE (``used = false``), so of two concurrent redemptions exactly one wins.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, exists, insert, select, update

from hygie.db.engine import Database
from hygie.security import revocations
from hygie.security.accounts.tables import security_accounts_account as accounts
from hygie.security.context import Principal, PrincipalKind
from hygie.security.oauth.tables import (
    security_oauth_client,
    security_oauth_code,
    security_oauth_grant,
    security_oauth_refresh,
    security_oauth_revoked,
)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeRecord:
    client_id: str
    account_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    nonce: str | None
    patient: str | None
    auth_time: int
    expires_at: int
    grant_id: str | None  # the grant it produced, if it was redeemed successfully


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    client_id: str
    account_id: str | None
    scope: str
    patient: str | None
    jkt: str | None
    auth_time: int
    revoked: bool


@dataclass(frozen=True, slots=True)
class TokenState:
    """What authenticating a token needs to know besides its signature."""

    account_id: str | None
    client_name: str
    revoked: bool  # the grant, the client or this very token was revoked
    # The user the grant acts for, as their account says now (None: a backend client).
    principal: Principal | None = None
    account_disabled: bool = False  # also true when the grant's account no longer exists
    device_ref: str | None = None  # "Device/<id>" when the client is a device
    posture: str | None = None  # that device's posture, as the operators last set it


class RefreshOutcome(Enum):
    ROTATED = "rotated"
    UNKNOWN = "unknown"
    REUSED = "reused"
    EXPIRED = "expired"
    REVOKED = "revoked"


def _grant(row: Row[Any]) -> Grant:
    return Grant(
        id=row.id,
        client_id=row.client_id,
        account_id=row.account_id,
        scope=row.scope,
        patient=row.patient,
        jkt=row.jkt,
        auth_time=int(row.auth_time),
        revoked=bool(row.revoked),
    )


class GrantStore:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock())

    def store_code(
        self,
        *,
        client_id: str,
        account_id: str,
        redirect_uri: str,
        scope: str,
        code_challenge: str,
        nonce: str | None,
        patient: str | None,
        auth_time: int,
        ttl: int,
    ) -> str:
        code = secrets.token_urlsafe(32)
        now = self._now()
        with self._db.write() as conn:
            conn.execute(
                delete(security_oauth_code).where(security_oauth_code.c.expires_at < now - 3600)
            )
            conn.execute(
                insert(security_oauth_code).values(
                    code_hash=digest(code),
                    client_id=client_id,
                    account_id=account_id,
                    redirect_uri=redirect_uri,
                    scope=scope,
                    code_challenge=code_challenge,
                    nonce=nonce,
                    patient=patient,
                    auth_time=auth_time,
                    expires_at=now + ttl,
                    used=False,
                )
            )
        return code

    def consume_code(self, code: str) -> tuple[CodeRecord | None, bool]:
        """The code's record and whether this call consumed it (False: it was used before).

        Expired codes are kept an hour after expiry so that a late replay is still seen.
        """
        table = security_oauth_code
        with self._db.write() as conn:
            row = conn.execute(select(table).where(table.c.code_hash == digest(code))).first()
            if row is None:
                return None, False
            fresh = conn.execute(
                update(table)
                .where(table.c.code_hash == row.code_hash, table.c.used.is_(False))
                .values(used=True)
            ).rowcount
        record = CodeRecord(
            client_id=row.client_id,
            account_id=row.account_id,
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            code_challenge=row.code_challenge,
            nonce=row.nonce,
            patient=row.patient,
            auth_time=int(row.auth_time),
            expires_at=int(row.expires_at),
            grant_id=row.grant_id,
        )
        return record, bool(fresh)

    def create_grant(
        self,
        *,
        client_id: str,
        account_id: str | None,
        scope: str,
        patient: str | None,
        jkt: str | None,
        auth_time: int,
        code: str | None = None,
        refresh_ttl: int | None = None,
    ) -> tuple[Grant, str | None]:
        """A new grant, and its first refresh token when ``refresh_ttl`` is given."""
        grant = Grant(
            id=secrets.token_hex(16),
            client_id=client_id,
            account_id=account_id,
            scope=scope,
            patient=patient,
            jkt=jkt,
            auth_time=auth_time,
            revoked=False,
        )
        with self._db.write() as conn:
            conn.execute(
                insert(security_oauth_grant).values(
                    id=grant.id,
                    client_id=client_id,
                    account_id=account_id,
                    scope=scope,
                    patient=patient,
                    jkt=jkt,
                    auth_time=auth_time,
                    created_at=self._now(),
                    revoked=False,
                )
            )
            if code is not None:
                conn.execute(
                    update(security_oauth_code)
                    .where(security_oauth_code.c.code_hash == digest(code))
                    .values(grant_id=grant.id)
                )
            refresh = self._new_refresh(conn, grant.id, refresh_ttl) if refresh_ttl else None
        return grant, refresh

    def _new_refresh(self, conn: Connection, grant_id: str, ttl: int) -> str:
        token = secrets.token_urlsafe(32)
        conn.execute(
            insert(security_oauth_refresh).values(
                token_hash=digest(token),
                grant_id=grant_id,
                expires_at=self._now() + ttl,
                used=False,
            )
        )
        return token

    def grant(self, grant_id: str) -> Grant | None:
        with self._db.read() as conn:
            row = conn.execute(
                select(security_oauth_grant).where(security_oauth_grant.c.id == grant_id)
            ).first()
        return _grant(row) if row is not None else None

    def grant_of_refresh(self, token: str) -> Grant | None:
        refresh, grant = security_oauth_refresh, security_oauth_grant
        with self._db.read() as conn:
            row = conn.execute(
                select(grant)
                .join(refresh, refresh.c.grant_id == grant.c.id)
                .where(refresh.c.token_hash == digest(token))
            ).first()
        return _grant(row) if row is not None else None

    def rotate_refresh(
        self, token: str, *, ttl: int
    ) -> tuple[RefreshOutcome, Grant | None, str | None]:
        """Spend a refresh token: (outcome, its grant, the new refresh token if rotated).

        A token already spent means that two parties hold it: the caller must revoke the grant.
        """
        refresh = security_oauth_refresh
        with self._db.write() as conn:
            row = conn.execute(select(refresh).where(refresh.c.token_hash == digest(token))).first()
            if row is None:
                return RefreshOutcome.UNKNOWN, None, None
            grant_row = conn.execute(
                select(security_oauth_grant).where(security_oauth_grant.c.id == row.grant_id)
            ).one()
            grant = _grant(grant_row)
            if grant.revoked:
                return RefreshOutcome.REVOKED, grant, None
            spent = conn.execute(
                update(refresh)
                .where(refresh.c.token_hash == row.token_hash, refresh.c.used.is_(False))
                .values(used=True)
            ).rowcount
            if not spent:
                return RefreshOutcome.REUSED, grant, None
            if row.expires_at <= self._now():
                return RefreshOutcome.EXPIRED, grant, None
            return RefreshOutcome.ROTATED, grant, self._new_refresh(conn, grant.id, ttl)

    def revoke_grant(self, grant_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(
                update(security_oauth_grant)
                .where(security_oauth_grant.c.id == grant_id)
                .values(revoked=True)
            )
        revocations.notify()

    def revoke_token(self, jti: str, expires_at: int) -> None:
        with self._db.write() as conn:
            conn.execute(
                delete(security_oauth_revoked).where(
                    security_oauth_revoked.c.expires_at < self._now()
                )
            )
            already = conn.execute(
                select(security_oauth_revoked.c.jti).where(security_oauth_revoked.c.jti == jti)
            ).first()
            if already is None:
                conn.execute(insert(security_oauth_revoked).values(jti=jti, expires_at=expires_at))
        revocations.notify()

    def token_state(self, grant_id: str, jti: str) -> TokenState | None:
        """One query for everything revocable about an access token, the account and a
        device's posture included; None: unknown grant."""
        with self._db.read() as conn:
            row = conn.execute(_TOKEN_STATE, {"grant_id": grant_id, "jti": jti}).first()
        if row is None:
            return None
        principal = None
        if row.kind is not None:
            principal = Principal(
                kind=PrincipalKind(row.kind),
                id=row.account_id,
                display=row.display,
                fhir_ref=row.fhir_ref,
                organization_ref=row.organization_ref,
                roles=frozenset(row.roles.split()),
            )
        return TokenState(
            account_id=row.account_id,
            client_name=row.name,
            revoked=bool(row.revoked or row.client_revoked or row.jti_revoked),
            principal=principal,
            account_disabled=row.account_id is not None
            and (row.kind is None or bool(row.disabled)),
            device_ref=row.device_ref,
            posture=row.posture,
        )


# Built once: every API call runs it, and building the statement cost three times running it.
_TOKEN_STATE = (
    select(
        security_oauth_grant.c.account_id,
        security_oauth_grant.c.revoked,
        security_oauth_client.c.name,
        security_oauth_client.c.revoked.label("client_revoked"),
        security_oauth_client.c.device_ref,
        security_oauth_client.c.posture,
        exists().where(security_oauth_revoked.c.jti == bindparam("jti")).label("jti_revoked"),
        accounts.c.kind,
        accounts.c.display,
        accounts.c.fhir_ref,
        accounts.c.organization_ref,
        accounts.c.roles,
        accounts.c.disabled,
    )
    .join(security_oauth_client, security_oauth_client.c.id == security_oauth_grant.c.client_id)
    .outerjoin(accounts, accounts.c.id == security_oauth_grant.c.account_id)
    .where(security_oauth_grant.c.id == bindparam("grant_id"))
)
