"""Using an access token: DPoP proofs, binding, expiry, audience, revocation, introspection."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey

from hygie.db.engine import Database
from hygie.security.accounts import AccountService
from hygie.security.accounts.model import Account
from hygie.security.accounts.tables import security_accounts_account
from hygie.security.context import RequestContext
from hygie.security.oauth.authenticator import STATE_TTL
from hygie.security.oauth.clients import Client
from hygie.security.oauth.errors import AuthenticationFailed
from hygie.security.oauth.server import AuthorizationServer
from tests.conftest import backends
from tests.security.oauth.helpers import (
    FHIR_BASE,
    ISSUER,
    REDIRECT,
    TOKEN_URL,
    Clock,
    DpopKey,
    authorize_params,
    get_code,
    pkce,
    token_request,
)

URL = f"{FHIR_BASE}/Observation"


@pytest.fixture
def issued(
    http: TestClient, public_app: Client, alice_signed_in: RequestContext, clock: Clock
) -> tuple[dict[str, str], DpopKey]:
    verifier, challenge = pkce()
    dpop = DpopKey(clock)
    code = get_code(http, authorize_params(public_app.id, challenge))
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": public_app.id,
    }
    return token_request(http, data, dpop).json(), dpop


def use(
    server: AuthorizationServer,
    token: str,
    proof: str | None,
    *,
    scheme: str = "DPoP",
    method: str = "GET",
    url: str = URL,
) -> RequestContext | None:
    return server.authenticator.authenticate(
        method=method,
        url=url,
        authorization=f"{scheme} {token}",
        dpop=proof,
        network_zone="internet",
        source_ip="192.0.2.9",
    )


def refused(server: AuthorizationServer, token: str, proof: str | None, **kw: str) -> str:
    with pytest.raises(AuthenticationFailed) as failed:
        use(server, token, proof, **kw)
    assert failed.value.status == 401
    return failed.value.www_authenticate


@backends
def test_no_credentials_is_not_a_failure(server: AuthorizationServer) -> None:
    assert (
        server.authenticator.authenticate(
            method="GET", url=URL, authorization=None, dpop=None, network_zone="x", source_ip=""
        )
        is None
    )


@backends
def test_dpop_proof_must_match_request_key_and_be_fresh(
    server: AuthorizationServer, issued: tuple[dict[str, str], DpopKey], clock: Clock
) -> None:
    body, dpop = issued
    token = body["access_token"]
    proof = dpop.proof("GET", URL, token=token)
    assert use(server, token, proof) is not None
    challenge = refused(server, token, proof)  # the same proof again
    assert 'DPoP error="invalid_dpop_proof"' in challenge and 'algs="ES256' in challenge
    assert refused(server, token, dpop.proof("GET", f"{FHIR_BASE}/Patient", token=token))
    assert refused(server, token, dpop.proof("POST", URL, token=token))
    assert refused(server, token, dpop.proof("GET", URL))  # no ath
    assert refused(server, token, dpop.proof("GET", URL, token=token, iat=int(clock()) - 120))
    assert refused(server, token, None)
    other = DpopKey(clock)
    challenge = refused(server, token, other.proof("GET", URL, token=token))
    assert 'error="invalid_token"' in challenge  # bound to another key
    # A bound token presented as a plain bearer token is refused (no downgrade).
    assert 'Bearer realm="hygie", error="invalid_token"' in refused(
        server, token, None, scheme="Bearer"
    )
    # Query strings do not matter to htu (RFC 9449 4.3).
    assert use(server, token, dpop.proof("GET", URL, token=token), url=f"{URL}?code=x") is not None


@backends
def test_token_endpoint_demands_the_nonce(
    http: TestClient, public_app: Client, alice_signed_in: RequestContext, clock: Clock
) -> None:
    verifier, challenge = pkce()
    dpop = DpopKey(clock)
    code = get_code(http, authorize_params(public_app.id, challenge))
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": public_app.id,
    }
    answer = http.post("/oauth/token", data=data, headers={"DPoP": dpop.proof("POST", TOKEN_URL)})
    assert answer.status_code == 400 and answer.json()["error"] == "use_dpop_nonce"
    nonce = answer.headers["DPoP-Nonce"]
    stale = dpop.proof("POST", TOKEN_URL, nonce="1.forged")
    assert http.post("/oauth/token", data=data, headers={"DPoP": stale}).json()["error"] == (
        "use_dpop_nonce"
    )
    wrong_url = dpop.proof("POST", f"{TOKEN_URL}x", nonce=nonce)
    assert http.post("/oauth/token", data=data, headers={"DPoP": wrong_url}).json()["error"] == (
        "invalid_dpop_proof"
    )
    good = dpop.proof("POST", TOKEN_URL, nonce=nonce)
    assert http.post("/oauth/token", data=data, headers={"DPoP": good}).status_code == 200
    # The proof is single use even at the token endpoint.
    assert http.post("/oauth/token", data=data, headers={"DPoP": good}).json()["error"] == (
        "invalid_dpop_proof"
    )


@backends
def test_expired_token_and_forged_or_foreign_tokens_are_refused(
    server: AuthorizationServer, issued: tuple[dict[str, str], DpopKey], clock: Clock
) -> None:
    body, dpop = issued
    token = body["access_token"]
    clock.advance(301)
    assert refused(server, token, dpop.proof("GET", URL, token=token))
    # Same claims, another signer.
    claims = jwt.decode(token, ECKey.import_key(server.key.jwks()["keys"][0])).claims
    forged = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": server.key.kid},
        claims | {"exp": int(clock()) + 300},
        ECKey.generate_key("P-256"),
    )
    assert refused(server, forged, dpop.proof("GET", URL, token=forged))


@backends
def test_token_for_another_audience_is_refused(
    database: Database,
    accounts: AccountService,
    tmp_path: Path,
    issued: tuple[dict[str, str], DpopKey],
) -> None:
    body, dpop = issued
    # Another Hygie sharing the signing key but serving another FHIR base.
    other = AuthorizationServer(
        database,
        issuer=ISSUER,
        fhir_base="https://other.test/fhir",
        signing_key_file=tmp_path / "keys" / "oauth-signing.pem",
        page_context=lambda _request: None,
        login_url="/connexion",
        accounts=accounts,
    )
    token = body["access_token"]
    url = "https://other.test/fhir/Observation"
    assert refused(other, token, dpop.proof("GET", url, token=token), url=url)


@backends
def test_disabled_account_and_revoked_client_stop_live_tokens(
    server: AuthorizationServer,
    accounts: AccountService,
    patient: Account,
    public_app: Client,
    issued: tuple[dict[str, str], DpopKey],
) -> None:
    body, dpop = issued
    token = body["access_token"]
    # In use (its state is remembered for a second): a change made here is effective at once.
    assert use(server, token, dpop.proof("GET", URL, token=token)) is not None
    accounts.disable(patient.id)
    assert refused(server, token, dpop.proof("GET", URL, token=token))
    accounts.enable(patient.id)
    assert use(server, token, dpop.proof("GET", URL, token=token)) is not None
    server.clients.revoke(public_app.id)
    assert refused(server, token, dpop.proof("GET", URL, token=token))


@backends
def test_a_revocation_made_by_another_process_stops_the_token_within_the_bound(
    database: Database,
    server: AuthorizationServer,
    patient: Account,
    issued: tuple[dict[str, str], DpopKey],
) -> None:
    """The CLI or another worker changes the database without this process hearing of it:
    the token still stops within STATE_TTL, as docs/architecture.md says."""
    body, dpop = issued
    token = body["access_token"]
    assert use(server, token, dpop.proof("GET", URL, token=token)) is not None
    with database.write() as conn:
        conn.execute(
            security_accounts_account.update()
            .where(security_accounts_account.c.id == patient.id)
            .values(disabled=True)
        )
    time.sleep(STATE_TTL + 0.05)
    assert "the account is disabled" in refused(server, token, dpop.proof("GET", URL, token=token))


@backends
def test_introspection_and_revocation(
    http: TestClient,
    server: AuthorizationServer,
    public_app: Client,
    confidential_app: tuple[Client, str],
    issued: tuple[dict[str, str], DpopKey],
    clock: Clock,
) -> None:
    body, dpop = issued
    resource_server, secret = confidential_app
    token = body["access_token"]

    def introspect(value: str) -> dict[str, object]:
        answer = http.post(
            "/oauth/introspect", data={"token": value}, auth=(resource_server.id, secret)
        )
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        return dict(answer.json())

    active = introspect(token)
    assert active["active"] is True and active["client_id"] == public_app.id
    assert active["patient"] == "p1" and active["token_type"] == "DPoP"
    assert active["cnf"] == {"jkt": dpop.jkt} and active["aud"] == FHIR_BASE
    assert introspect("not-a-token") == {"active": False}
    # A public client may not introspect.
    public = http.post("/oauth/introspect", data={"token": token, "client_id": public_app.id})
    assert public.status_code == 401

    # Revoking the access token: introspection and the edge both see it at once.
    revoked = http.post("/oauth/revoke", data={"token": token, "client_id": public_app.id})
    assert revoked.status_code == 200
    assert introspect(token) == {"active": False}
    assert refused(server, token, dpop.proof("GET", URL, token=token))

    # Revoking the refresh token ends the grant: it cannot be refreshed any more.
    assert (
        http.post(
            "/oauth/revoke", data={"token": body["refresh_token"], "client_id": public_app.id}
        ).status_code
        == 200
    )
    again = token_request(
        http,
        {
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": public_app.id,
        },
        dpop,
    )
    assert again.json()["error"] == "invalid_grant"

    clock.advance(301)
    assert introspect(token) == {"active": False}
