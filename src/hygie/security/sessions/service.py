"""Browser sessions: start, look up, raise to AAL2, list, revoke.

The cookie holds 32 random bytes; the table holds their SHA-256 only. A session dies when
idle longer than ``idle_timeout``, older than ``absolute_timeout``, revoked, or when its
account is disabled. ``last_seen`` is written at most once a minute so that a page view is
not a write transaction; idle expiry is therefore up to a minute early, never late.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Row, select, update

from hygie.db.engine import Database
from hygie.security.accounts import Account, AccountService
from hygie.security.context import Aal, PrincipalKind, RequestContext
from hygie.security.scopes import Scope, parse_scopes
from hygie.security.sessions.tables import security_sessions_session as sessions

SESSION_COOKIE = "__Host-hygie_session"
MAX_FAILED_FACTORS = 5  # wrong second factors before the session is revoked
_TOUCH_EVERY = 60
_PATIENT_SCOPES = parse_scopes("patient/*.cruds")
_PROFESSIONAL_SCOPES = parse_scopes("user/*.cruds")


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    account_id: str
    created_at: int
    last_seen: int
    aal: Aal
    auth_time: int
    source_ip: str
    user_agent: str
    revoked: bool


def _hash(cookie_value: str) -> bytes:
    return hashlib.sha256(cookie_value.encode()).digest()


def _session(row: Row[tuple[object, ...]]) -> Session:
    m = row._mapping
    return Session(
        id=m["id"],
        account_id=m["account_id"],
        created_at=m["created_at"],
        last_seen=m["last_seen"],
        aal=Aal(m["aal"]),
        auth_time=m["auth_time"],
        source_ip=m["source_ip"],
        user_agent=m["user_agent"],
        revoked=m["revoked"],
    )


class SessionService:
    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        *,
        idle_timeout: int = 900,
        absolute_timeout: int = 43200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._accounts = accounts
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self._clock = clock

    def now(self) -> int:
        return int(self._clock())

    def start(
        self,
        account: Account,
        aal: Aal,
        *,
        source_ip: str,
        user_agent: str,
        auth_time: int | None = None,
    ) -> tuple[Session, str]:
        """A new session; the returned string is the cookie value, never stored as such."""
        now = self.now()
        secret = secrets.token_urlsafe(32)
        session = Session(
            id=secrets.token_hex(16),
            account_id=account.id,
            created_at=now,
            last_seen=now,
            aal=aal,
            auth_time=min(auth_time, now) if auth_time is not None else now,
            source_ip=source_ip[:64],
            user_agent=user_agent[:512],
            revoked=False,
        )
        with self._db.write() as conn:
            conn.execute(
                sessions.insert().values(
                    id=session.id,
                    account_id=session.account_id,
                    secret_hash=_hash(secret),
                    created_at=now,
                    last_seen=now,
                    aal=int(aal),
                    auth_time=session.auth_time,
                    source_ip=session.source_ip,
                    user_agent=session.user_agent,
                    failed_factors=0,
                    revoked=False,
                )
            )
        return session, secret

    def lookup(self, cookie_value: str) -> Session | None:
        """The live session of this cookie; None when unknown, expired, revoked or disabled."""
        live = self._live(cookie_value)
        return None if live is None else live[0]

    def _live(self, cookie_value: str) -> tuple[Session, Account] | None:
        if not cookie_value:
            return None
        with self._db.read() as conn:
            row = conn.execute(
                select(sessions).where(sessions.c.secret_hash == _hash(cookie_value))
            ).first()
        if row is None:
            return None
        session = _session(row)
        now = self.now()
        if not self._alive(session, now):
            return None
        account = self._accounts.get(session.account_id)
        if account is None or account.disabled:
            return None
        if now - session.last_seen >= _TOUCH_EVERY:
            with self._db.write() as conn:
                conn.execute(
                    update(sessions).where(sessions.c.id == session.id).values(last_seen=now)
                )
        return session, account

    def _alive(self, session: Session, now: int) -> bool:
        return (
            not session.revoked
            and now - session.last_seen <= self.idle_timeout
            and now - session.created_at <= self.absolute_timeout
        )

    def context(
        self, cookie_value: str, *, network_zone: str, source_ip: str
    ) -> RequestContext | None:
        """The request context of a page request carrying this cookie, or None."""
        live = self._live(cookie_value)
        if live is None:
            return None
        session, account = live
        scopes: frozenset[Scope] = frozenset()
        launch_patient = None
        if account.kind is PrincipalKind.PATIENT and account.fhir_ref:
            scopes, launch_patient = _PATIENT_SCOPES, account.fhir_ref
        elif account.kind is PrincipalKind.PRACTITIONER:
            scopes = _PROFESSIONAL_SCOPES
        return RequestContext(
            principal=self._accounts.principal(account),
            aal=session.aal,
            auth_time=session.auth_time,
            network_zone=network_zone,
            source_ip=source_ip,
            scopes=scopes,
            launch_patient=launch_patient,
            session_id=session.id,
        )

    def elevate(self, session_id: str, aal: Aal) -> str:
        """Record a fresh authentication at ``aal`` and rotate the cookie (no fixation).

        Returns the new cookie value; the old one stops working.
        """
        secret = secrets.token_urlsafe(32)
        now = self.now()
        with self._db.write() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.id == session_id, sessions.c.revoked.is_(False))
                .values(
                    secret_hash=_hash(secret),
                    aal=int(aal),
                    auth_time=now,
                    last_seen=now,
                    failed_factors=0,
                )
            )
        return secret

    def factor_failed(self, session_id: str) -> bool:
        """Count a wrong second factor; True when the session was revoked for too many."""
        with self._db.write() as conn:
            failed = conn.execute(
                update(sessions)
                .where(sessions.c.id == session_id)
                .values(failed_factors=sessions.c.failed_factors + 1)
                .returning(sessions.c.failed_factors)
            ).scalar_one()
            if failed >= MAX_FAILED_FACTORS:
                conn.execute(
                    update(sessions).where(sessions.c.id == session_id).values(revoked=True)
                )
                return True
        return False

    def list_for(self, account_id: str) -> list[Session]:
        """The account's live sessions, most recently used first."""
        with self._db.read() as conn:
            rows = conn.execute(
                select(sessions)
                .where(sessions.c.account_id == account_id, sessions.c.revoked.is_(False))
                .order_by(sessions.c.last_seen.desc(), sessions.c.created_at.desc())
            ).all()
        now = self.now()
        return [s for s in map(_session, rows) if self._alive(s, now)]

    def revoke(self, session_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(update(sessions).where(sessions.c.id == session_id).values(revoked=True))

    def revoke_all(self, account_id: str, *, keep: str | None = None) -> int:
        """Revoke every session of the account but ``keep``; returns how many were live."""
        query = update(sessions).where(
            sessions.c.account_id == account_id, sessions.c.revoked.is_(False)
        )
        if keep is not None:
            query = query.where(sessions.c.id != keep)
        with self._db.write() as conn:
            return conn.execute(query.values(revoked=True)).rowcount
