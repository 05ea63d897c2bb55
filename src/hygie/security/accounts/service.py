"""The account service: accounts, password sign-in with progressive delays, TOTP, recovery
codes and WebAuthn passkeys, with ``auth.*`` entries in the audit log.

A failed sign-in looks the same whatever the cause (unknown username, wrong password,
disabled account): same exception and message, the same counters (keyed by the typed
username, existing or not) and an argon2 verification in every case, against a dummy hash
when there is no account, so that the time taken does not tell either.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from hygie.db.engine import Database
from hygie.security import revocations
from hygie.security.accounts import identity, passkeys, throttle
from hygie.security.accounts import totp as totp_codes
from hygie.security.accounts.model import (
    Account,
    AccountExists,
    AccountNotFound,
    PasskeyRejected,
    PasswordRejected,
    SignInFailed,
    TotpEnrolment,
    TotpError,
)
from hygie.security.accounts.passwords import (
    MAX_LENGTH,
    MESSAGES,
    default_hasher,
    password_problems,
)
from hygie.security.accounts.secretbox import SecretBox
from hygie.security.accounts.tables import (
    security_accounts_account as accounts,
)
from hygie.security.accounts.tables import (
    security_accounts_passkey as passkey_table,
)
from hygie.security.accounts.tables import (
    security_accounts_recovery as recovery_table,
)
from hygie.security.accounts.tables import (
    security_accounts_totp as totp_table,
)
from hygie.security.accounts.throttle import ThrottlePolicy, throttle_key
from hygie.security.audit import Actor, ActorKind, AuditEntry, AuditLog, Outcome
from hygie.security.context import Principal, PrincipalKind

_ACTOR_KIND = {
    PrincipalKind.PATIENT: ActorKind.PATIENT,
    PrincipalKind.PRACTITIONER: ActorKind.PRACTITIONER,
    PrincipalKind.ADMIN: ActorKind.USER,
}
_ANONYMOUS = Actor(ActorKind.USER, "anonymous")


class AccountService:
    """Accounts over ``db``. ``secret_key`` (32 bytes or more, kept outside the database)
    encrypts TOTP secrets and peppers recovery codes; ``hasher`` sets argon2's parameters."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        audit: AuditLog | None = None,
        secret_key: bytes | None = None,
        hasher: PasswordHasher | None = None,
        issuer: str = "Hygie",
        user_throttle: ThrottlePolicy = ThrottlePolicy(),  # noqa: B008 (frozen)
        ip_throttle: ThrottlePolicy = ThrottlePolicy(free=50),  # noqa: B008 (frozen)
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._box = SecretBox(secret_key)
        self._hasher = hasher or default_hasher()
        self._issuer = issuer
        self._user_throttle = user_throttle
        self._ip_throttle = ip_throttle
        self._dummy: str | None = None

    # Accounts

    def create(
        self,
        kind: PrincipalKind | str,
        username: str,
        password: str,
        *,
        display: str,
        fhir_ref: str | None = None,
        organization_ref: str | None = None,
        roles: frozenset[str] = frozenset(),
        rpps: str | None = None,
    ) -> Account:
        """A new enabled account; InvalidAccount, PasswordRejected or AccountExists otherwise."""
        kind = identity.check_kind(kind)
        values: dict[str, Any] = {
            "kind": kind.value,
            "username": identity.check_username(username),
            "display": identity.check_display(display),
            "fhir_ref": identity.check_fhir_ref(kind, fhir_ref),
            "organization_ref": identity.check_organization_ref(kind, organization_ref),
            "roles": " ".join(sorted(identity.check_roles(kind, frozenset(roles)))),
            "rpps": identity.check_rpps(kind, rpps),
        }
        problems = password_problems(password, values["username"])
        if problems:
            raise PasswordRejected(problems)
        now = int(self._clock())
        values |= {
            "id": secrets.token_hex(16),
            "password_hash": self._hasher.hash(password),
            "disabled": False,
            "created_at": now,
            "password_changed_at": now,
        }
        try:
            with self._db.write() as conn:
                self._check_free(conn, values["username"], values["rpps"])
                conn.execute(accounts.insert().values(**values))
        except IntegrityError:  # a concurrent creation won the race
            raise AccountExists("Cet identifiant ou ce numéro RPPS est déjà utilisé.") from None
        account = self.get(values["id"])
        assert account is not None
        return account

    @staticmethod
    def _check_free(conn: Connection, username: str, rpps: str | None) -> None:
        if conn.execute(select(accounts.c.id).where(accounts.c.username == username)).first():
            raise AccountExists(f"L'identifiant {username} est déjà utilisé.")
        if rpps and conn.execute(select(accounts.c.id).where(accounts.c.rpps == rpps)).first():
            raise AccountExists(f"Le numéro RPPS {rpps} appartient déjà à un compte.")

    def get(self, account_id: str) -> Account | None:
        with self._db.read() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).one_or_none()
        return None if row is None else _account(row)

    def by_username(self, username: str) -> Account | None:
        name = identity.normalize_username(username)
        with self._db.read() as conn:
            row = conn.execute(select(accounts).where(accounts.c.username == name)).one_or_none()
        return None if row is None else _account(row)

    def disable(self, account_id: str) -> None:
        """The account can no longer sign in (sessions check it on every lookup)."""
        self._set_disabled(account_id, True)

    def enable(self, account_id: str) -> None:
        self._set_disabled(account_id, False)

    def _set_disabled(self, account_id: str, disabled: bool) -> None:
        with self._db.write() as conn:
            done = conn.execute(
                accounts.update().where(accounts.c.id == account_id).values(disabled=disabled)
            )
        if done.rowcount != 1:
            raise AccountNotFound(account_id)
        revocations.notify()  # the account's live tokens stop (or work again) at once

    def principal(self, account: Account) -> Principal:
        return Principal(
            kind=account.kind,
            id=account.id,
            display=account.display,
            fhir_ref=account.fhir_ref,
            organization_ref=account.organization_ref,
            roles=account.roles,
        )

    # Passwords

    def check_password(self, username: str, password: str, *, source_ip: str) -> Account:
        """The account if ``password`` is its password; SignInFailed otherwise, the same way
        for every cause, with ``retry_after`` while this username or this IP must wait."""
        now = self._clock()
        name = identity.normalize_username(username)
        ip_key = throttle_key("ip", source_ip)
        row = self._password_attempt(name, password, now, ip_key=ip_key)
        if row is None:
            account = self.by_username(name)
            self._record("auth.signin", Outcome.FAILURE, account, f"source {source_ip}")
            retry = self._after_failure(name, now, ip_key)
            if retry is not None:
                self._record("auth.lockout", Outcome.FAILURE, account, f"retry after {retry} s")
            raise SignInFailed(retry)
        account = _account(row)
        self._record("auth.signin", Outcome.SUCCESS, account, f"source {source_ip}")
        return account

    def change_password(self, account_id: str, old: str, new: str) -> None:
        """SignInFailed if ``old`` is wrong (throttled like a sign-in), PasswordRejected if
        ``new`` breaks a rule."""
        account = self.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        now = self._clock()
        if self._password_attempt(account.username, old, now, ip_key=None) is None:
            self._record("auth.password", Outcome.FAILURE, account, "wrong current password")
            raise SignInFailed(self._after_failure(account.username, now, None))
        problems = password_problems(new, account.username)
        if new == old:
            problems.append(MESSAGES["unchanged"])
        if problems:
            raise PasswordRejected(problems)
        with self._db.write() as conn:
            conn.execute(
                accounts.update()
                .where(accounts.c.id == account_id)
                .values(password_hash=self._hasher.hash(new), password_changed_at=int(now))
            )
        self._record("auth.password", Outcome.SUCCESS, account, "password changed")

    def _password_attempt(
        self, name: str, password: str, now: float, *, ip_key: str | None
    ) -> Row[Any] | None:
        """The enabled account's row if the password is right, None on any failure; raises
        SignInFailed(retry_after) without checking anything while a delay runs."""
        now_ms = int(now * 1000)
        user_key = throttle_key("user", name)
        with self._db.write() as conn:
            wait = None
            if ip_key is not None:
                wait = throttle.retry_after(conn, ip_key, self._ip_throttle, now_ms)
            if wait is None:
                wait = throttle.reserve(conn, user_key, self._user_throttle, now_ms)
            row = conn.execute(select(accounts).where(accounts.c.username == name)).one_or_none()
        if wait is not None:
            raise SignInFailed(wait)
        # Long inputs are refused unhashed: their length, known to the sender, is all it says.
        matches = len(password) <= MAX_LENGTH and self._verify(
            row.password_hash if row is not None else self._dummy_hash(), password
        )
        if row is None or not matches or row.disabled:
            return None
        with self._db.write() as conn:
            throttle.clear(conn, user_key)
            if self._hasher.check_needs_rehash(row.password_hash):
                conn.execute(
                    accounts.update()
                    .where(accounts.c.id == row.id)
                    .values(password_hash=self._hasher.hash(password))
                )
        return row

    def _after_failure(self, name: str, now: float, ip_key: str | None) -> int | None:
        """Count the failure against the IP (the username's was counted up front); the
        seconds to wait before the next try, if any."""
        now_ms = int(now * 1000)
        user_key = throttle_key("user", name)
        with self._db.write() as conn:
            waits = [throttle.retry_after(conn, user_key, self._user_throttle, now_ms)]
            if ip_key is not None:
                throttle.count_failure(conn, ip_key, self._ip_throttle, now_ms)
                waits.append(throttle.retry_after(conn, ip_key, self._ip_throttle, now_ms))
        return max((wait for wait in waits if wait is not None), default=None)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    # TOTP and recovery codes

    def begin_totp(self, account_id: str) -> TotpEnrolment:
        """A new secret to show; the current one (if any) stays active until confirm_totp."""
        account = self._existing(account_id)
        secret = totp_codes.new_secret()
        sealed = self._box.seal(account_id, secret)
        insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        with self._db.write() as conn:
            conn.execute(
                insert(totp_table)
                .values(account_id=account_id, pending_secret=sealed, last_step=0)
                .on_conflict_do_update(
                    index_elements=["account_id"], set_={"pending_secret": sealed}
                )
            )
        return totp_codes.enrolment(secret, username=account.username, issuer=self._issuer)

    def confirm_totp(self, account_id: str, code: str) -> list[str]:
        """Activate the secret of begin_totp once the user types a code it gives; returns
        ten new recovery codes (the old ones stop working). TotpError otherwise."""
        account = self._existing(account_id)
        now = self._clock()
        now_ms = int(now * 1000)
        key = throttle_key("mfa", account_id)
        codes = totp_codes.new_recovery_codes()
        with self._db.write() as conn:
            wait = throttle.reserve(conn, key, self._user_throttle, now_ms)
            row = conn.execute(
                select(totp_table.c.pending_secret).where(totp_table.c.account_id == account_id)
            ).one_or_none()
            pending = None if row is None else row.pending_secret
            step = None
            if wait is None and pending is not None:
                step = totp_codes.matching_step(self._box.open(account_id, pending), code, now)
            if step is not None:
                throttle.clear(conn, key)
                conn.execute(
                    totp_table.update()
                    .where(totp_table.c.account_id == account_id)
                    .values(
                        secret=pending, pending_secret=None, last_step=step, confirmed_at=int(now)
                    )
                )
                conn.execute(
                    recovery_table.delete().where(recovery_table.c.account_id == account_id)
                )
                conn.execute(
                    recovery_table.insert(),
                    [
                        {"account_id": account_id, "code_hash": self._recovery_hash(c)}
                        for c in codes
                    ],
                )
        if wait is not None:
            raise TotpError(f"Trop d'essais : réessayez dans {wait} s.")
        if pending is None:
            raise TotpError("Aucune inscription TOTP en cours : recommencez l'inscription.")
        if step is None:
            self._record("auth.mfa.enrol", Outcome.FAILURE, account, "totp: wrong first code")
            raise TotpError("Code incorrect : vérifiez l'heure de votre téléphone et réessayez.")
        self._record("auth.mfa.enrol", Outcome.SUCCESS, account, "totp")
        return codes

    def verify_totp(self, account_id: str, code: str) -> bool:
        """True once per code: a code of the step already accepted, or an older one, is
        refused. False too while failures make this account wait (see mfa_retry_after)."""
        now = self._clock()
        return self._second_factor(
            account_id, "totp", lambda conn: self._totp(conn, account_id, code, now)
        )

    def _totp(self, conn: Connection, account_id: str, code: str, now: float) -> bool:
        row = conn.execute(
            select(totp_table.c.secret, totp_table.c.last_step).where(
                totp_table.c.account_id == account_id, totp_table.c.secret.is_not(None)
            )
        ).one_or_none()
        if row is None:
            return False
        step = totp_codes.matching_step(self._box.open(account_id, row.secret), code, now)
        if step is None or step <= row.last_step:
            return False
        conn.execute(
            totp_table.update().where(totp_table.c.account_id == account_id).values(last_step=step)
        )
        return True

    def verify_recovery_code(self, account_id: str, code: str) -> bool:
        """True once per recovery code."""
        canonical = totp_codes.canonical_recovery_code(code)
        now = int(self._clock())

        def spend(conn: Connection) -> bool:
            if canonical is None:
                return False
            spent = conn.execute(
                recovery_table.update()
                .where(
                    recovery_table.c.account_id == account_id,
                    recovery_table.c.code_hash == self._recovery_hash(canonical),
                    recovery_table.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
            return spent.rowcount == 1

        return self._second_factor(account_id, "recovery code", spend)

    def remaining_recovery_codes(self, account_id: str) -> int:
        with self._db.read() as conn:
            rows = conn.execute(
                select(recovery_table.c.code_hash).where(
                    recovery_table.c.account_id == account_id, recovery_table.c.used_at.is_(None)
                )
            ).all()
        return len(rows)

    def mfa_retry_after(self, account_id: str) -> int | None:
        """Seconds before this account's next second-factor try may succeed, if it must wait."""
        now_ms = int(self._clock() * 1000)
        with self._db.read() as conn:
            return throttle.retry_after(
                conn, throttle_key("mfa", account_id), self._user_throttle, now_ms
            )

    def _second_factor(
        self, account_id: str, what: str, check: Callable[[Connection], bool]
    ) -> bool:
        """Run ``check`` in one transaction with the account's MFA counter locked, so that
        parallel guesses are counted and a code cannot be used twice concurrently."""
        account = self.get(account_id)
        if account is None or account.disabled:
            return False
        key = throttle_key("mfa", account_id)
        with self._db.write() as conn:
            wait = throttle.reserve(conn, key, self._user_throttle, int(self._clock() * 1000))
            ok = wait is None and check(conn)
            if ok:
                throttle.clear(conn, key)
        if wait is None:
            self._record(
                "auth.mfa.verify", Outcome.SUCCESS if ok else Outcome.FAILURE, account, what
            )
        return ok

    def _recovery_hash(self, code: str) -> bytes:
        return self._box.code_hash(code.replace("-", ""))

    def second_factors(self, account_id: str) -> set[str]:
        with self._db.read() as conn:
            has_totp = conn.execute(
                select(totp_table.c.account_id).where(
                    totp_table.c.account_id == account_id, totp_table.c.secret.is_not(None)
                )
            ).first()
            has_passkey = conn.execute(
                select(passkey_table.c.account_id).where(passkey_table.c.account_id == account_id)
            ).first()
        return {name for name, present in (("totp", has_totp), ("passkey", has_passkey)) if present}

    # Passkeys

    def passkey_registration_options(
        self, account_id: str, *, rp_id: str, rp_name: str
    ) -> tuple[str, bytes]:
        """Options JSON for navigator.credentials.create() and the state to keep for finish."""
        account = self._existing(account_id)
        return passkeys.registration_options(
            rp_id=rp_id,
            rp_name=rp_name,
            user_id=account.id.encode(),
            username=account.username,
            display=account.display,
            existing=self._credential_ids(account_id),
        )

    def finish_passkey_registration(
        self, account_id: str, credential_json: str, *, state: bytes, origin: str, rp_id: str
    ) -> None:
        """Store the new passkey; PasskeyRejected if the response does not verify (user
        verification included) or the credential is already registered."""
        account = self._existing(account_id)
        try:
            new = passkeys.verify_registration(
                credential_json, state=state, origin=origin, rp_id=rp_id
            )
        except PasskeyRejected:
            self._record("auth.mfa.enrol", Outcome.FAILURE, account, "passkey")
            raise
        try:
            with self._db.write() as conn:
                conn.execute(
                    passkey_table.insert().values(
                        credential_id=new.credential_id,
                        account_id=account_id,
                        public_key=new.public_key,
                        sign_count=new.sign_count,
                        created_at=int(self._clock()),
                    )
                )
        except IntegrityError:
            raise PasskeyRejected("Cette clé d'accès est déjà enregistrée.") from None
        self._record("auth.mfa.enrol", Outcome.SUCCESS, account, "passkey")

    def passkey_authentication_options(self, account_id: str, *, rp_id: str) -> tuple[str, bytes]:
        """Options JSON for navigator.credentials.get() and the state to keep for finish."""
        self._existing(account_id)
        return passkeys.authentication_options(
            rp_id=rp_id, credential_ids=self._credential_ids(account_id)
        )

    def finish_passkey_authentication(
        self, account_id: str, credential_json: str, *, state: bytes, origin: str, rp_id: str
    ) -> bool:
        """True if one of the account's passkeys signed ``state`` with user verification and
        a signature counter that did not go back."""
        account = self.get(account_id)
        credential_id = passkeys.credential_id_of(credential_json)
        if account is None or account.disabled or credential_id is None:
            return False
        with self._db.read() as conn:
            row = conn.execute(
                select(passkey_table.c.public_key, passkey_table.c.sign_count).where(
                    passkey_table.c.credential_id == credential_id,
                    passkey_table.c.account_id == account_id,
                )
            ).one_or_none()
        new_count = None
        if row is not None:
            new_count = passkeys.verify_assertion(
                credential_json,
                state=state,
                origin=origin,
                rp_id=rp_id,
                public_key=row.public_key,
                sign_count=row.sign_count,
            )
        ok = False
        if row is not None and new_count is not None:
            with self._db.write() as conn:
                # Only from the counter just checked: a concurrent use of the same signature fails.
                done = conn.execute(
                    passkey_table.update()
                    .where(
                        passkey_table.c.credential_id == credential_id,
                        passkey_table.c.sign_count == row.sign_count,
                    )
                    .values(sign_count=new_count, last_used_at=int(self._clock()))
                )
            ok = done.rowcount == 1
        self._record(
            "auth.mfa.verify", Outcome.SUCCESS if ok else Outcome.FAILURE, account, "passkey"
        )
        return ok

    def _credential_ids(self, account_id: str) -> list[bytes]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(passkey_table.c.credential_id).where(
                    passkey_table.c.account_id == account_id
                )
            ).all()
        return [bytes(row.credential_id) for row in rows]

    # Helpers

    def _existing(self, account_id: str) -> Account:
        account = self.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account

    def _record(self, action: str, outcome: Outcome, account: Account | None, reason: str) -> None:
        if self._audit is None:
            return
        actor = (
            _ANONYMOUS
            if account is None
            else Actor(_ACTOR_KIND[account.kind], account.id, account.display)
        )
        self._audit.append(
            AuditEntry(
                time=datetime.fromtimestamp(self._clock(), UTC),
                actor=actor,
                action=action,
                outcome=outcome,
                # A patient's own sign-ins belong to the access history they can read.
                patient=account.fhir_ref
                if account is not None and account.kind is PrincipalKind.PATIENT
                else None,
                reason=reason,
            )
        )

    def list(self) -> list[Account]:  # last: in the class body, `list` is this method
        with self._db.read() as conn:
            rows = conn.execute(select(accounts).order_by(accounts.c.username)).all()
        return [_account(row) for row in rows]


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        kind=PrincipalKind(row.kind),
        username=row.username,
        display=row.display,
        fhir_ref=row.fhir_ref,
        organization_ref=row.organization_ref,
        roles=frozenset(row.roles.split()),
        rpps=row.rpps,
        disabled=bool(row.disabled),
        created_at=int(row.created_at),
    )
