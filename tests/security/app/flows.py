"""What a browser and a SMART app do over HTTP: sign in on the pages, launch, call FHIR with
DPoP. The DPoP key and proofs come from tests/security/oauth/helpers.py."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pyotp
from starlette.testclient import TestClient

from hygie.security.oauth.clients import Client, ClientKind
from hygie.security.oauth.keys import SigningKey
from tests.security.oauth.helpers import Clock, DpopKey, form_token, pkce, query_of

ORIGIN = "https://hygie.test"
FHIR = f"{ORIGIN}/fhir"
TOKEN_URL = f"{ORIGIN}/oauth/token"
REDIRECT = "https://carnet.example/callback"
PASSWORD = "Tests-Hygie-2026!"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in_on_pages(browser: TestClient, username: str, totp: pyotp.TOTP) -> None:
    """Password on /connexion, then the TOTP code on /connexion/second-facteur."""
    page = browser.get("/connexion")
    first = browser.post(
        "/connexion",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert first.status_code == 303, first.text
    assert first.headers["location"].startswith("/connexion/second-facteur")
    page = browser.get("/connexion/second-facteur")
    second = browser.post(
        "/connexion/second-facteur",
        data={"methode": "totp", "code": totp.now(), "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert second.status_code == 303, second.text


def register_app(browser: TestClient, scopes: list[str]) -> Client:
    """A public SMART app (a patient's phone app), registered by an administrator."""
    security = browser.app.state.security  # type: ignore[attr-defined]
    client, secret = security.oauth.clients.create(
        "Carnet de santé", ClientKind.PUBLIC, redirect_uris=[REDIRECT], scopes=scopes
    )
    assert secret is None
    return client


@dataclass
class SmartApp:
    """A launched app: its DPoP-bound access token and the key it proves possession with."""

    http: TestClient  # no cookie: the app talks to Hygie on its own
    client_id: str
    token: str
    dpop: DpopKey
    response: dict[str, Any]
    token_cache_control: str  # of the token response

    def fhir(self, method: str, path: str, body: Any = None, **params: str) -> httpx.Response:
        url = f"{FHIR}/{path}"
        headers = {
            "authorization": f"DPoP {self.token}",
            "dpop": self.dpop.proof(method, url, token=self.token),
            "accept": "application/fhir+json",
        }
        content = None
        if body is not None:
            headers["content-type"] = "application/fhir+json"
            content = orjson.dumps(body)
        return self.http.request(method, url, headers=headers, params=params, content=content)

    def ids(self, path: str, **params: str) -> list[str]:
        response = self.fhir("GET", path, **params)
        assert response.status_code == 200, response.text
        return entry_ids(response.json())


def standalone_launch(browser: TestClient, app_client: TestClient, scope: str) -> SmartApp:
    """SMART standalone patient launch: the signed-in browser approves, the app redeems the
    code with its PKCE verifier and a DPoP proof carrying the server's nonce."""
    client = register_app(browser, scope.split())
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client.id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "etat-42",
        "aud": FHIR,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = browser.get("/oauth/authorize", params=params, follow_redirects=False)
    assert page.status_code == 200, page.text
    answer = browser.post(
        "/oauth/authorize/consent",
        data={"form_token": form_token(page.text), "decision": "approve"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    query = query_of(answer)
    assert query["state"] == "etat-42" and query["iss"] == ORIGIN
    dpop = DpopKey(Clock())
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": client.id,
    }
    first = app_client.post(
        "/oauth/token", data=form, headers={"dpop": dpop.proof("POST", TOKEN_URL)}
    )
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce", first.text
    proof = dpop.proof("POST", TOKEN_URL, nonce=first.headers["dpop-nonce"])
    issued = app_client.post("/oauth/token", data=form, headers={"dpop": proof})
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "DPoP"
    return SmartApp(
        app_client, client.id, body["access_token"], dpop, body, issued.headers["cache-control"]
    )


def entry_ids(bundle: dict[str, Any]) -> list[str]:
    """``Type/id`` of the matches of a search Bundle."""
    return sorted(
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e.get("search", {}).get("mode", "match") == "match"
    )


def resigned(token: str, key: SigningKey, **changes: Any) -> str:
    """The token's claims with ``changes``, signed again with Hygie's own signing key: a
    token only its changed claims make invalid."""
    payload = token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return key.sign(claims, typ="at+jwt")
