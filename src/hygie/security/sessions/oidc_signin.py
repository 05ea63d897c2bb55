"""Sign-in of professionals through external OpenID Connect providers.

``begin`` keeps the state's nonce and PKCE verifier server-side (keyed by the state's hash)
together with the hash of a random browser binding that the caller puts in a cookie: a
callback is honoured once, within ten minutes, in the browser that started it (no login
CSRF). ``complete`` links the verified identity to an existing, enabled professional account
by the configured claim; nobody gets an account by signing in elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from anyio import to_thread

from hygie.db.engine import Database
from hygie.security.accounts import Account, AccountService
from hygie.security.audit import Actor, ActorKind, AuditEntry, AuditLog, Outcome
from hygie.security.context import Aal, PrincipalKind
from hygie.security.sessions.oidc import OidcClient, OidcError, OidcProvider, pkce_pair
from hygie.security.sessions.pending import PendingStore

OIDC_STATE_TTL = 600
_PURPOSE = "oidc"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class OidcStart:
    url: str  # the provider's authorization URL to redirect to
    binding: str  # goes in a short-lived cookie, comes back with the callback


@dataclass(frozen=True)
class OidcResult:
    account: Account
    aal: Aal
    auth_time: int | None
    next_path: str


class OidcSignIn:
    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        clients: Sequence[OidcClient],
        *,
        clock: Callable[[], float] = time.time,
        audit: AuditLog | None = None,
    ) -> None:
        self._accounts = accounts
        self._clock = clock
        self._audit = audit
        self._pending = PendingStore(db, clock=clock)
        self._clients = {client.provider.name: client for client in clients}

    @classmethod
    def for_providers(
        cls,
        db: Database,
        accounts: AccountService,
        providers: Sequence[OidcProvider],
        *,
        http: httpx.AsyncClient,
        public_origin: str,
        clock: Callable[[], float] = time.time,
        audit: AuditLog | None = None,
    ) -> OidcSignIn:
        origin = public_origin.rstrip("/")
        clients = [
            OidcClient(
                p, http, redirect_uri=f"{origin}/connexion/oidc/{p.name}/retour", clock=clock
            )
            for p in providers
        ]
        return cls(db, accounts, clients, clock=clock, audit=audit)

    def providers(self) -> list[tuple[str, str]]:
        """(name, display) of each provider, for the sign-in page's buttons."""
        return [(name, c.provider.display) for name, c in sorted(self._clients.items())]

    def knows(self, name: str) -> bool:
        return name in self._clients

    async def begin(self, name: str, next_path: str) -> OidcStart:
        client = self._clients[name]
        state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
        verifier, challenge = pkce_pair()
        payload = json.dumps(
            {
                "provider": name,
                "nonce": nonce,
                "verifier": verifier,
                "next": next_path,
                "binding": _digest(binding),
            }
        ).encode()
        url = await client.authorization_url(state=state, nonce=nonce, challenge=challenge)
        await to_thread.run_sync(
            lambda: self._pending.put(_PURPOSE, _digest(state), payload, ttl=OIDC_STATE_TTL)
        )
        return OidcStart(url=url, binding=binding)

    async def complete(
        self, name: str, *, state: str, code: str, binding: str, iss: str | None = None
    ) -> OidcResult:
        """The linked account and the AAL the provider asserts; raises :class:`OidcError`.

        Both outcomes go to the audit log as ``auth.signin`` with the provider's name."""
        try:
            result = await self._complete(name, state=state, code=code, binding=binding, iss=iss)
        except OidcError as exc:
            reason = str(exc)
            await to_thread.run_sync(lambda: self._record(name, None, reason))
            raise
        await to_thread.run_sync(lambda: self._record(name, result.account, f"aal{result.aal}"))
        return result

    async def _complete(
        self, name: str, *, state: str, code: str, binding: str, iss: str | None
    ) -> OidcResult:
        raw = await to_thread.run_sync(lambda: self._pending.take(_PURPOSE, _digest(state)))
        if raw is None:
            raise OidcError("unknown, used or expired state")
        saved = json.loads(raw)
        if saved["provider"] != name or not hmac.compare_digest(saved["binding"], _digest(binding)):
            raise OidcError("the callback does not belong to this browser or provider")
        client = self._clients[name]
        await client.check_response_issuer(iss)
        identity = await client.finish(code, nonce=saved["nonce"], verifier=saved["verifier"])
        field = client.provider.link_field
        account = await to_thread.run_sync(lambda: self._linked(field, identity.link_value))
        if account is None:
            raise OidcError("no enabled professional account linked to this identity")
        return OidcResult(account, identity.aal, identity.auth_time, saved["next"])

    def _record(self, provider: str, account: Account | None, detail: str) -> None:
        if self._audit is None:
            return
        actor = (
            Actor(ActorKind.PRACTITIONER, account.id, account.display)
            if account is not None
            else Actor(ActorKind.USER, "anonymous")
        )
        self._audit.append(
            AuditEntry(
                time=datetime.fromtimestamp(self._clock(), UTC),
                actor=actor,
                action="auth.signin",
                outcome=Outcome.SUCCESS if account is not None else Outcome.FAILURE,
                reason=f"oidc {provider}: {detail}"[:1000],
            )
        )

    def _linked(self, field: str, value: str) -> Account | None:
        if field == "username":
            found = self._accounts.by_username(value)
            candidates = [found] if found is not None else []
        else:
            candidates = [a for a in self._accounts.list() if a.rpps == value]
        for account in candidates:
            if account.kind is PrincipalKind.PRACTITIONER and not account.disabled:
                return account
        return None
