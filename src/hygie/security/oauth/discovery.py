"""Discovery documents: OpenID Provider metadata and SMART App Launch STU 2.2 configuration."""

from __future__ import annotations

from typing import Any

from hygie.security.oauth import server as paths
from hygie.security.oauth.client_auth import ASSERTION_ALGORITHMS, AUTH_METHODS
from hygie.security.oauth.dpop import ALGORITHMS as DPOP_ALGORITHMS
from hygie.security.oauth.keys import ALGORITHM
from hygie.security.oauth.server import AuthorizationServer

GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
SCOPES = [
    "openid",
    "fhirUser",
    "launch/patient",
    "offline_access",
    "online_access",
    "patient/*.cruds",
    "patient/*.rs",
    "user/*.cruds",
    "user/*.rs",
    "system/*.cruds",
    "system/*.rs",
]
CAPABILITIES = [
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "context-standalone-patient",
    "permission-v2",
    "permission-patient",
    "permission-user",
    "permission-offline",
    "permission-online",
    "sso-openid-connect",
    "authorize-post",
]


def _common(server: AuthorizationServer) -> dict[str, Any]:
    return {
        "issuer": server.issuer,
        "jwks_uri": server.url(paths.JWKS_PATH),
        "authorization_endpoint": server.url(paths.AUTHORIZE_PATH),
        "token_endpoint": server.url(paths.TOKEN_PATH),
        "introspection_endpoint": server.url(paths.INTROSPECT_PATH),
        "revocation_endpoint": server.url(paths.REVOKE_PATH),
        "userinfo_endpoint": server.url(paths.USERINFO_PATH),
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": ["code"],
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
    }


def smart_configuration(server: AuthorizationServer) -> dict[str, Any]:
    return {
        **_common(server),
        "capabilities": CAPABILITIES,
    }


def openid_configuration(server: AuthorizationServer) -> dict[str, Any]:
    return {
        **_common(server),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "response_modes_supported": ["query"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "fhirUser",
            "rpps",
        ],
        "authorization_response_iss_parameter_supported": True,
    }
