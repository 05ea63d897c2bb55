"""Access tokens at the edge: each way a token can be wrong gets 401 and nothing served.

Expired and other-audience tokens are real tokens of this Hygie re-signed with its own key
after changing that one claim, so the signature is good and only the claim is wrong; the
unchanged re-signed token is accepted, which shows the refusal comes from the claim.
"""

from __future__ import annotations

import time

import httpx
import pytest
from starlette.testclient import TestClient

from hygie.security.context import PrincipalKind
from hygie.security.oauth.clients import ClientKind
from tests.conftest import backends
from tests.security.app.conftest import Hospital
from tests.security.app.flows import ORIGIN, resigned, sign_in_on_pages, standalone_launch


@pytest.fixture
def backend(hospital: Hospital) -> tuple[TestClient, str, str, str]:
    """A backend service: (http, client id, secret, access token), through /oauth/token."""
    http = hospital.client()
    client, secret = hospital.security.oauth.clients.create(
        "Laboratoire", ClientKind.BACKEND, scopes=["system/*.rs"]
    )
    assert secret is not None
    issued = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "system/*.rs"},
        auth=(client.id, secret),
    )
    assert issued.status_code == 200, issued.text
    return http, client.id, secret, issued.json()["access_token"]


def read_with(http: TestClient, token: str) -> httpx.Response:
    return http.get("/fhir/Observation/obs-p1", headers={"authorization": f"Bearer {token}"})


def assert_refused(response: httpx.Response, why: str) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert why in challenge
    assert response.json()["error"] == "invalid_token"
    assert "8867-4" not in response.text and "Patient/p1" not in response.text


@backends
def test_a_valid_token_reads_and_the_same_claims_resigned_still_do(
    hospital: Hospital, backend: tuple[TestClient, str, str, str]
) -> None:
    http, _, _, token = backend
    assert read_with(http, token).status_code == 200
    same = resigned(token, hospital.security.oauth.key)
    assert read_with(http, same).status_code == 200


@backends
def test_an_expired_token_is_refused(
    hospital: Hospital, backend: tuple[TestClient, str, str, str]
) -> None:
    http, _, _, token = backend
    now = int(time.time())
    expired = resigned(token, hospital.security.oauth.key, iat=now - 400, exp=now - 100)
    assert_refused(read_with(http, expired), "invalid or expired")
    # Expired a second ago: no grace.
    just = resigned(token, hospital.security.oauth.key, iat=now - 300, exp=now)
    assert_refused(read_with(http, just), "invalid or expired")


@backends
def test_a_token_for_another_audience_is_refused(
    hospital: Hospital, backend: tuple[TestClient, str, str, str]
) -> None:
    http, _, _, token = backend
    key = hospital.security.oauth.key
    for audience in ("https://autre-hopital.example/fhir", f"{ORIGIN}/fhir/", ORIGIN):
        assert_refused(read_with(http, resigned(token, key, aud=audience)), "invalid or expired")
    # Another issuer, same audience: refused as well.
    other = resigned(token, key, iss="https://autre-hopital.example")
    assert_refused(read_with(http, other), "invalid or expired")


@backends
def test_a_tampered_token_is_refused(backend: tuple[TestClient, str, str, str]) -> None:
    http, _, _, token = backend
    head, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert_refused(read_with(http, f"{head}.{payload}.{flipped}"), "invalid or expired")
    # A payload swapped under the original signature.
    other = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    assert_refused(read_with(http, f"{head}.{other}.{signature}"), "invalid or expired")
    # Not signed at all.
    assert_refused(read_with(http, f"{head}.{payload}."), "invalid or expired")


@backends
def test_a_revoked_token_is_refused(backend: tuple[TestClient, str, str, str]) -> None:
    http, client_id, secret, token = backend
    assert read_with(http, token).status_code == 200
    revoked = http.post("/oauth/revoke", data={"token": token}, auth=(client_id, secret))
    assert revoked.status_code == 200
    assert_refused(read_with(http, token), "revoked")
    search = http.get("/fhir/Observation", headers={"authorization": f"Bearer {token}"})
    assert_refused(search, "revoked")


@backends
def test_the_token_of_a_disabled_account_is_refused(hospital: Hospital) -> None:
    totp = hospital.with_totp(PrincipalKind.PATIENT, "alice", fhir_ref="Patient/p1")
    browser = hospital.client()
    sign_in_on_pages(browser, "alice", totp)
    app = standalone_launch(browser, hospital.client(), "launch/patient patient/Observation.rs")
    assert app.fhir("GET", "Observation/obs-p1").status_code == 200
    account = hospital.security.accounts.by_username("alice")
    assert account is not None
    hospital.security.accounts.disable(account.id)
    response = app.fhir("GET", "Observation/obs-p1")
    assert response.status_code == 401
    assert "the account is disabled" in response.headers["www-authenticate"]
    assert "8867-4" not in response.text
    # The browser's session of the disabled account is gone as well.
    page = browser.get("/fhir/Observation/obs-p1")
    assert page.status_code == 401
