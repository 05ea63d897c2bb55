"""The security core, assembled once per process from the settings: the composition root.

Production refuses to start without its keys (KEK, audit signing key, application secret)
or with the demo accounts present; demo mode generates missing keys under the data
directory. A policy that does not validate stops the start, whatever the mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, HTTPException
from starlette.requests import Request

from hygie.config import Settings
from hygie.db.engine import Database
from hygie.fhir.store import FhirStore
from hygie.fhir.validation_rules import ResourceRules
from hygie.identity.fhir_rules import IDENTITY_RULES
from hygie.security.accounts import AccountService
from hygie.security.app_secret import derive_key, load_app_secret
from hygie.security.audit import AuditLog, load_signer
from hygie.security.audit.api import access_history_router, audit_router
from hygie.security.audit.sink import AuditSink
from hygie.security.breakglass_api import breakglass_router, emergency_forbidden_in, notify_patient
from hygie.security.context import RequestContext
from hygie.security.crypto import Keyring, load_keks
from hygie.security.edge import context_of
from hygie.security.oauth.api import oauth_router
from hygie.security.oauth.server import AuthorizationServer
from hygie.security.pep import EnforcementPoint, secure_store
from hygie.security.policy import BreakGlassService, CedarDecisionPoint, NetworkZones
from hygie.security.sessions import (
    OidcProvider,
    OidcSignIn,
    SessionService,
    page_context_factory,
    sessions_router,
)

LOGIN_PATH = "/connexion"


class UnsafeConfiguration(RuntimeError):
    """Production mode with something only a demo may have (demo accounts, no keys)."""


@dataclass
class Security:
    settings: Settings
    audit_log: AuditLog
    audit_sink: AuditSink
    keyring: Keyring
    accounts: AccountService
    sessions: SessionService
    oauth: AuthorizationServer
    pdp: CedarDecisionPoint
    break_glass: BreakGlassService
    store: FhirStore
    enforcement: EnforcementPoint
    zones: NetworkZones
    page_context: Callable[[Request], RequestContext | None]
    csrf_key: bytes = field(repr=False)
    oidc: OidcSignIn | None = None
    oidc_http: httpx.AsyncClient | None = None

    def routers(self, db: Database) -> list[APIRouter]:
        origin = _origin(self.settings.base_url)
        return [
            oauth_router(self.oauth),
            access_history_router(self.audit_log, db, _required_context, sink=self.audit_sink),
            audit_router(self.audit_log),
            breakglass_router(db, self.break_glass, self.pdp),
            sessions_router(
                db,
                self.sessions,
                self.accounts,
                csrf_key=self.csrf_key,
                public_origin=origin,
                rp_id=urlsplit(origin).hostname or "localhost",
                oidc=self.oidc,
            ),
        ]

    async def aclose(self) -> None:
        self.audit_sink.close()
        if self.oidc_http is not None:
            await self.oidc_http.aclose()


def build_security(
    settings: Settings, db: Database, *, oidc_transport: httpx.AsyncBaseTransport | None = None
) -> Security:
    """``oidc_transport`` carries the calls to the external OIDC provider (default: the network);
    tests give an ``httpx.ASGITransport`` to reach a provider run in-process."""
    demo = settings.demo
    data_dir = settings.data_dir
    audit_log = AuditLog(db, load_signer(data_dir=data_dir, allow_generate=demo))
    keyring = Keyring(db, load_keks(data_dir=data_dir, allow_generate=demo))
    secret = load_app_secret(data_dir=data_dir, allow_generate=demo)
    accounts = AccountService(db, audit=audit_log, secret_key=derive_key(secret, "accounts"))
    if not demo:
        refuse_demo_accounts(accounts)
    zones = NetworkZones.parse(settings.network_zones)
    sessions = SessionService(
        db,
        accounts,
        idle_timeout=settings.session_idle_seconds,
        absolute_timeout=settings.session_max_seconds,
    )
    page_context = page_context_factory(sessions, zones.zone_of)
    oauth = AuthorizationServer(
        db,
        issuer=settings.base_url,
        fhir_base=settings.fhir_base_url,
        signing_key_file=data_dir / "keys" / "oauth-signing.pem",
        page_context=page_context,
        login_url=LOGIN_PATH,
        access_token_ttl=settings.access_token_seconds,
        audit=audit_log,
        accounts=accounts,
    )
    oidc_http = oidc = None
    if settings.oidc_issuer:
        oidc_http = httpx.AsyncClient(timeout=10, transport=oidc_transport)
        provider = OidcProvider(
            name="psc",
            display="Pro Santé Connect",
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            link_claim=settings.oidc_account_claim,
        )
        oidc = OidcSignIn.for_providers(
            db,
            accounts,
            [provider],
            http=oidc_http,
            public_origin=_origin(settings.base_url),
            audit=audit_log,
        )
    store = secure_store(db, keyring, rules=ResourceRules(IDENTITY_RULES))
    pdp = CedarDecisionPoint.load()
    sink = AuditSink(audit_log)
    return Security(
        settings=settings,
        audit_log=audit_log,
        audit_sink=sink,
        keyring=keyring,
        accounts=accounts,
        sessions=sessions,
        oauth=oauth,
        pdp=pdp,
        break_glass=BreakGlassService(
            db,
            audit=audit_log,
            emergency_forbidden=emergency_forbidden_in(db),
            notify=notify_patient(store),
        ),
        store=store,
        enforcement=EnforcementPoint(pdp, audit=sink),
        zones=zones,
        page_context=page_context,
        csrf_key=derive_key(secret, "csrf"),
        oidc=oidc,
        oidc_http=oidc_http,
    )


def refuse_demo_accounts(accounts: AccountService) -> None:
    from hygie.demo_accounts import DEMO_USERNAMES

    present = sorted(
        name
        for name in DEMO_USERNAMES
        if (account := accounts.by_username(name)) is not None and not account.disabled
    )
    if present:
        raise UnsafeConfiguration(
            f"production mode with demo accounts ({', '.join(present)}): their passwords and "
            "TOTP secrets are public. Disable or remove them (`hygie users disable NAME`), "
            "or run with HYGIE_MODE=demo"
        )


def _required_context(request: Request) -> RequestContext:
    ctx = context_of(request.scope)
    if ctx is None:
        raise HTTPException(401, "authentication required")
    return ctx


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
