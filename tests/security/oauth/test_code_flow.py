"""The standalone launch a SMART app does, end to end through HTTP, and what it yields."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet

from hygie.security.accounts import AccountService
from hygie.security.accounts.model import Account
from hygie.security.audit import AuditLog
from hygie.security.context import Aal, PrincipalKind, RequestContext
from hygie.security.oauth.clients import Client
from hygie.security.oauth.server import AuthorizationServer
from tests.conftest import backends
from tests.security.oauth.conftest import Browser, signed_in
from tests.security.oauth.helpers import (
    FHIR_BASE,
    ISSUER,
    REDIRECT,
    Clock,
    DpopKey,
    authorize_params,
    get_code,
    pkce,
    query_of,
    token_request,
)


def actions(log: AuditLog) -> list[str]:
    return [log.entry(index).action for index in range(log.tree_head().tree_size)]


@backends
def test_public_app_gets_dpop_bound_tokens_with_patient_context_and_id_token(
    http: TestClient,
    server: AuthorizationServer,
    public_app: Client,
    alice_signed_in: RequestContext,
    patient: Account,
    audit: AuditLog,
    clock: Clock,
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
    answer = token_request(http, data, dpop)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["pragma"] == "no-cache"
    body = answer.json()
    assert body["token_type"] == "DPoP"
    assert body["patient"] == "p1"
    assert set(body["scope"].split()) == {
        "openid",
        "fhirUser",
        "launch/patient",
        "patient/Observation.rs",
        "offline_access",
    }
    assert body["refresh_token"] and 0 < body["expires_in"] <= 300

    # The id_token is a real OpenID one: signed by the key in the JWKS, nonce echoed.
    jwks = KeySet.import_key_set(http.get("/oauth/jwks").json())
    id_token = jwt.decode(body["id_token"], jwks, algorithms=["ES256"]).claims
    assert id_token["iss"] == ISSUER and id_token["aud"] == public_app.id
    assert id_token["sub"] == patient.id and id_token["nonce"] == "n-0S6_WzA2Mj"
    assert id_token["fhirUser"] == f"{FHIR_BASE}/Patient/p1"
    access = jwt.decode(body["access_token"], jwks, algorithms=["ES256"]).claims
    assert access["aud"] == FHIR_BASE and access["cnf"] == {"jkt": dpop.jkt}
    assert access["exp"] - access["iat"] == 300

    # The web edge turns the token into Alice's context, limited to what she granted.
    url = f"{FHIR_BASE}/Observation"
    ctx = server.authenticator.authenticate(
        method="GET",
        url=url,
        authorization=f"DPoP {body['access_token']}",
        dpop=dpop.proof("GET", url, token=body["access_token"]),
        network_zone="internet",
        source_ip="192.0.2.7",
    )
    assert ctx is not None
    assert ctx.principal.kind is PrincipalKind.PATIENT and ctx.principal.id == patient.id
    assert ctx.launch_patient == "Patient/p1" and ctx.aal is Aal.TWO
    assert ctx.client_id == public_app.id and ctx.token_id == access["jti"]
    assert {scope.raw for scope in ctx.scopes} >= {"patient/Observation.rs"}
    assert ctx.source_ip == "192.0.2.7"

    userinfo = http.get(
        "/oauth/userinfo",
        headers={
            "Authorization": f"DPoP {body['access_token']}",
            "DPoP": dpop.proof("GET", f"{ISSUER}/oauth/userinfo", token=body["access_token"]),
        },
    )
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["fhirUser"] == f"{FHIR_BASE}/Patient/p1"
    assert "token.issue" in actions(audit)


@backends
def test_confidential_app_with_secret_gets_bearer_tokens(
    http: TestClient,
    confidential_app: tuple[Client, str],
    alice_signed_in: RequestContext,
) -> None:
    client, secret = confidential_app
    verifier, challenge = pkce()
    code = get_code(http, authorize_params(client.id, challenge, scope="openid patient/*.rs"))
    answer = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client.id, secret),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["patient"] == "p1"
    assert "refresh_token" not in body  # neither offline_access nor online_access was asked


@backends
def test_authorize_sends_signed_out_or_single_factor_users_to_sign_in(
    http: TestClient,
    browser: Browser,
    accounts: AccountService,
    patient: Account,
    public_app: Client,
    clock: Clock,
) -> None:
    _, challenge = pkce()
    params = authorize_params(public_app.id, challenge)
    for context in (None, signed_in(accounts, patient, clock, Aal.ONE)):
        browser.context = context
        answer = http.get("/oauth/authorize", params=params, follow_redirects=False)
        assert answer.status_code == 303
        location = urlsplit(answer.headers["location"])
        assert location.path == "/connexion"
        back = urlsplit(parse_qs(location.query)["next"][0])
        assert back.path == "/oauth/authorize"
        assert parse_qs(back.query)["code_challenge"] == [challenge]


@backends
def test_consent_page_is_french_and_deny_returns_access_denied(
    http: TestClient, public_app: Client, alice_signed_in: RequestContext
) -> None:
    _, challenge = pkce()
    page = http.get("/oauth/authorize", params=authorize_params(public_app.id, challenge))
    assert page.status_code == 200
    assert "Carnet de santé" in page.text and "Autoriser" in page.text
    assert "Lire et rechercher les Observation du dossier patient concerné" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    token = page.text.split('name="form_token" value="')[1].split('"')[0]
    denied = http.post(
        "/oauth/authorize/consent",
        data={"form_token": token, "decision": "deny"},
        follow_redirects=False,
    )
    assert query_of(denied) == {
        "error": "access_denied",
        "error_description": "the user refused the authorization",
        "state": "st-42",
        "iss": ISSUER,
    }
    # The form token was single use: replaying the approval gives nothing.
    replay = http.post(
        "/oauth/authorize/consent",
        data={"form_token": token, "decision": "approve"},
        follow_redirects=False,
    )
    assert replay.status_code == 400 and "location" not in replay.headers


@backends
def test_consent_form_of_another_account_or_forged_is_refused(
    http: TestClient,
    browser: Browser,
    accounts: AccountService,
    public_app: Client,
    alice_signed_in: RequestContext,
    clock: Clock,
) -> None:
    _, challenge = pkce()
    page = http.get("/oauth/authorize", params=authorize_params(public_app.id, challenge))
    token = page.text.split('name="form_token" value="')[1].split('"')[0]
    mallory = accounts.create(
        PrincipalKind.PATIENT, "mallory", "Another-Long-Passphrase-77?", display="Mallory"
    )
    browser.context = signed_in(accounts, mallory, clock, Aal.TWO)
    stolen = http.post(
        "/oauth/authorize/consent",
        data={"form_token": token, "decision": "approve"},
        follow_redirects=False,
    )
    assert stolen.status_code == 400 and "location" not in stolen.headers
    forged = http.post(
        "/oauth/authorize/consent",
        data={"form_token": "made-up", "decision": "approve"},
        follow_redirects=False,
    )
    assert forged.status_code == 400 and "location" not in forged.headers
