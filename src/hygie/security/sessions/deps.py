"""The collaborators of the pages and the checks they share (who is signed in, how freshly)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.responses import Response

from hygie.security.accounts import Account, AccountService
from hygie.security.context import Aal
from hygie.security.sessions.csrf import CsrfGuard
from hygie.security.sessions.oidc_signin import OidcSignIn
from hygie.security.sessions.pending import PendingStore
from hygie.security.sessions.service import SESSION_COOKIE, Session, SessionService
from hygie.security.sessions.web import Pages, redirect, with_next


@dataclass(frozen=True)
class SignedIn:
    session: Session
    account: Account
    factors: frozenset[str]  # the account's enrolled second factors

    @property
    def complete(self) -> bool:
        """Signed in as far as the account allows: AAL2, or no second factor yet."""
        return self.session.aal >= Aal.TWO or not self.factors


@dataclass(frozen=True)
class Deps:
    sessions: SessionService
    accounts: AccountService
    csrf: CsrfGuard
    pages: Pages
    pending: PendingStore
    rp_id: str
    rp_name: str
    oidc: OidcSignIn | None
    fresh_for: int  # seconds a second factor counts as fresh for sensitive actions

    def signed_in(self, request: Request) -> SignedIn | None:
        session = self.sessions.lookup(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return None
        account = self.accounts.get(session.account_id)
        if account is None:
            return None
        return SignedIn(session, account, frozenset(self.accounts.second_factors(account.id)))

    def require(self, request: Request) -> SignedIn | Response:
        """The fully signed-in user, or the redirect to the step they still owe."""
        here = local_path_of(request)
        user = self.signed_in(request)
        if user is None:
            return redirect(with_next("/connexion", here))
        if not user.complete:
            return redirect(with_next("/connexion/second-facteur", here))
        return user

    def fresh(self, user: SignedIn) -> bool:
        return self.sessions.now() - user.session.auth_time <= self.fresh_for

    def reauthenticate(self, user: SignedIn, back_to: str) -> Response:
        """Where to prove the user's identity again before a sensitive action."""
        step = "/connexion/second-facteur" if user.factors else "/connexion"
        return redirect(with_next(step, back_to))

    def csrf_ok(self, request: Request, user: SignedIn, token: str | None) -> bool:
        return self.csrf.check(user.session.id, token, request.headers.get("origin"))


def local_path_of(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
