"""What the OAuth tests share: a movable clock, a DPoP key, PKCE pairs, the browser's part."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISSUER = "https://hygie.test"
FHIR_BASE = "https://hygie.test/fhir"
TOKEN_URL = f"{ISSUER}/oauth/token"
REDIRECT = "https://app.example/callback"
PASSWORD = "Correct-Horse-Battery-Staple-42!"


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ath(token: str) -> str:
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class DpopKey:
    """A client's DPoP key pair, signing proofs the way RFC 9449 asks."""

    def __init__(self, clock: Clock) -> None:
        self.key = ECKey.generate_key("P-256", private=True)
        self.jkt = self.key.thumbprint()
        self.clock = clock

    def proof(
        self,
        method: str,
        url: str,
        *,
        nonce: str | None = None,
        token: str | None = None,
        jti: str | None = None,
        iat: int | None = None,
    ) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        claims: dict[str, Any] = {
            "jti": jti or uuid.uuid4().hex,
            "htm": method,
            "htu": url,
            "iat": iat if iat is not None else int(self.clock()),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if token is not None:
            claims["ath"] = ath(token)
        return jwt.encode(header, claims, self.key, algorithms=["ES256"])


def assertion(
    key: ECKey | RSAKey,
    alg: str,
    client_id: str,
    clock: Clock,
    *,
    jti: str | None = None,
    aud: str = TOKEN_URL,
    lifetime: int = 240,
) -> str:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": int(clock()) + lifetime,
        "jti": jti or uuid.uuid4().hex,
    }
    header = {"alg": alg, "typ": "JWT", "kid": key.thumbprint()}
    return jwt.encode(header, claims, key, algorithms=[alg])


def query_of(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def authorize_params(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid fhirUser launch/patient patient/Observation.rs offline_access",
        "state": "st-42",
        "nonce": "n-0S6_WzA2Mj",
        "aud": FHIR_BASE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return params


def form_token(page: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def get_code(http: TestClient, params: dict[str, str]) -> str:
    """The browser's part: the consent page, a click on « Autoriser », the code."""
    page = http.get("/oauth/authorize", params=params, follow_redirects=False)
    assert page.status_code == 200, page.text
    answer = http.post(
        "/oauth/authorize/consent",
        data={"form_token": form_token(page.text), "decision": "approve"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    query = query_of(answer)
    assert query["state"] == params["state"] and query["iss"] == ISSUER
    return query["code"]


def token_request(
    http: TestClient, data: dict[str, str], dpop: DpopKey | None, **headers: str
) -> httpx.Response:
    """POST to the token endpoint; with DPoP, fetch the server nonce first as a client does."""
    if dpop is None:
        return http.post("/oauth/token", data=data, headers=headers)
    first = http.post(
        "/oauth/token", data=data, headers={**headers, "DPoP": dpop.proof("POST", TOKEN_URL)}
    )
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce", first.text
    nonce = first.headers["DPoP-Nonce"]
    proof = dpop.proof("POST", TOKEN_URL, nonce=nonce)
    return http.post("/oauth/token", data=data, headers={**headers, "DPoP": proof})
