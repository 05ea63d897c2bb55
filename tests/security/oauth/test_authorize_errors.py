"""Bad authorization requests: a page (never a redirect) until the client and redirect URI
are known genuine, then an error sent back to the app with its state."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from hygie.security.context import RequestContext
from hygie.security.oauth.clients import Client
from hygie.security.oauth.server import AuthorizationServer
from tests.conftest import backends
from tests.security.oauth.helpers import ISSUER, authorize_params, pkce, query_of


@backends
@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "no-such-client"},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": "https://app.example/callback/"},  # exact match only
        {"redirect_uri": "https://app.example/callback?x=1"},
    ],
)
def test_unknown_client_or_redirect_shows_a_page_and_never_redirects(
    http: TestClient, public_app: Client, alice_signed_in: RequestContext, change: dict[str, str]
) -> None:
    _, challenge = pkce()
    answer = http.get(
        "/oauth/authorize",
        params=authorize_params(public_app.id, challenge) | change,
        follow_redirects=False,
    )
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "Demande d'autorisation refusée" in html.unescape(answer.text)


@backends
def test_revoked_client_cannot_start_a_flow(
    http: TestClient,
    server: AuthorizationServer,
    public_app: Client,
    alice_signed_in: RequestContext,
) -> None:
    server.clients.revoke(public_app.id)
    _, challenge = pkce()
    answer = http.get(
        "/oauth/authorize",
        params=authorize_params(public_app.id, challenge),
        follow_redirects=False,
    )
    assert answer.status_code == 400 and "location" not in answer.headers


@backends
@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"code_challenge": ""}, "invalid_request", "PKCE is required"),
        ({"code_challenge_method": "plain"}, "invalid_request", "must be S256"),
        ({"code_challenge_method": ""}, "invalid_request", "must be S256"),
        ({"aud": "https://other.example/fhir"}, "invalid_request", "aud must be"),
        ({"response_type": "token"}, "unsupported_response_type", "must be code"),
        ({"scope": "patient/Observation.rs user/*.cruds"}, "invalid_scope", "user/*.cruds"),
        ({"scope": "system/*.rs"}, "invalid_scope", "system/*.rs"),
        ({"scope": "patient/Observation.write.bad"}, "invalid_scope", "not a SMART scope"),
    ],
)
def test_bad_requests_go_back_to_the_app_with_error_and_state(
    http: TestClient,
    public_app: Client,
    alice_signed_in: RequestContext,
    change: dict[str, str],
    error: str,
    words: str,
) -> None:
    _, challenge = pkce()
    answer = http.get(
        "/oauth/authorize",
        params=authorize_params(public_app.id, challenge, **change),
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("https://app.example/callback?")
    query = query_of(answer)
    assert query["error"] == error and words in query["error_description"]
    assert query["state"] == "st-42" and query["iss"] == ISSUER
    assert "code" not in query


@backends
def test_repeated_parameter_is_refused(
    http: TestClient, public_app: Client, alice_signed_in: RequestContext
) -> None:
    _, challenge = pkce()
    params = [*authorize_params(public_app.id, challenge).items(), ("scope", "openid")]
    answer = http.get("/oauth/authorize", params=params, follow_redirects=False)
    assert query_of(answer)["error"] == "invalid_request"
