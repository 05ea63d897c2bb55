"""A minimal but real OpenID Connect provider for the tests, run in-process over ASGI.

Discovery, JWKS, authorize (the user is taken as already signed in at the provider) and
token (client_secret_basic, single-use codes bound to the redirect URI, PKCE S256), issuing
RS256 ID tokens signed with joserfc. ``Knobs`` make it misbehave for negative tests.
To be replaced by Hygie's own provider (hygie.security.oauth) once it exists.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

ISSUER = "https://idp.test"


@dataclass
class Knobs:
    claims: dict[str, Any] = field(default_factory=dict)  # the signed-in user's claims
    audience: str | list[str] | None = None  # None: the client id
    issuer: str = ISSUER
    nonce: str | None = None  # None: the one the client sent
    lifetime: int = 300
    foreign_key: bool = False  # sign with a key absent from the JWKS
    response_iss: str | None = None  # the authorization response's iss (RFC 9207), if any
    announce_iss: bool = False  # discovery says the authorization response carries iss


class TestProvider:
    __test__ = False

    def __init__(self, clock: Callable[[], float], *, client_id: str, client_secret: str) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.foreign = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.knobs = Knobs()
        self.codes: dict[str, dict[str, str]] = {}
        self.app = self._build()

    def _id_token(self, grant: dict[str, str]) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.knobs.issuer,
            "sub": "psc-user-1",
            "aud": self.knobs.audience or self.client_id,
            "iat": now,
            "exp": now + self.knobs.lifetime,
            "auth_time": now - 10,
            "nonce": self.knobs.nonce or grant["nonce"],
            **self.knobs.claims,
        }
        key = self.foreign if self.knobs.foreign_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "authorization_response_iss_parameter_supported": self.knobs.announce_iss,
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize(request: Request) -> Any:
            q = request.query_params
            if (
                q.get("response_type") != "code"
                or q.get("client_id") != self.client_id
                or q.get("code_challenge_method") != "S256"
                or not q.get("code_challenge")
                or not q.get("state")
                or not q.get("nonce")
            ):
                return JSONResponse({"error": "invalid_request"}, 400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "redirect_uri": q["redirect_uri"],
                "challenge": q["code_challenge"],
                "nonce": q["nonce"],
            }
            params = {"code": code, "state": q["state"]}
            if self.knobs.response_iss is not None:
                params["iss"] = self.knobs.response_iss
            query = urlencode(params)
            return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

        @app.post("/token")
        def token(
            request: Request,
            grant_type: Annotated[str, Form()],
            code: Annotated[str, Form()],
            redirect_uri: Annotated[str, Form()],
            code_verifier: Annotated[str, Form()],
        ) -> Any:
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode())
            if request.headers.get("authorization") != f"Basic {expected.decode()}":
                return JSONResponse({"error": "invalid_client"}, 401)
            grant = self.codes.pop(code, None)
            digest = hashlib.sha256(code_verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if (
                grant_type != "authorization_code"
                or grant is None
                or grant["redirect_uri"] != redirect_uri
                or grant["challenge"] != challenge
            ):
                return JSONResponse({"error": "invalid_grant"}, 400)
            return {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "id_token": self._id_token(grant),
            }

        return app
