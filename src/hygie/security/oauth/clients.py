"""The registry of OAuth clients (SMART apps and backend services).

Three kinds: ``public`` apps (no secret; PKCE and DPoP), ``confidential`` apps (a client
secret, shown once), ``backend`` services (client_credentials with ``private_key_jwt``
against their registered public keys, or a secret when they have no key). Redirect URIs
are matched exactly, so they are stored exactly as registered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import Row, insert, select, update

from hygie.db.engine import Database
from hygie.security import revocations
from hygie.security.oauth.errors import ClientError, UnknownClient
from hygie.security.oauth.tables import security_oauth_client
from hygie.security.scopes import InvalidScope, parse_scopes

ClientKey = ECKey | RSAKey
_LOOPBACK = frozenset({"127.0.0.1", "[::1]", "localhost"})
MIN_RSA_BITS = 2048


class ClientKind(StrEnum):
    PUBLIC = "public"
    CONFIDENTIAL = "confidential"
    BACKEND = "backend"


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    kind: ClientKind
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]  # raw scope strings it may be granted (or narrower ones)
    keys: tuple[ClientKey, ...]  # public keys for private_key_jwt
    has_secret: bool
    revoked: bool
    created_at: int

    def __repr__(self) -> str:
        return f"Client(id={self.id!r}, name={self.name!r}, kind={self.kind.value})"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_jwks(jwks: Mapping[str, Any]) -> tuple[ClientKey, ...]:
    """The public keys of a JWKS document; refuses private keys and weak or odd keys."""
    entries = jwks.get("keys")
    if not isinstance(entries, list) or not entries:
        raise ClientError('the JWKS must be {"keys": [...]} with at least one key')
    keys: list[ClientKey] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ClientError("every JWKS entry must be a JSON object")
        if "d" in entry or "p" in entry:
            raise ClientError("the JWKS holds a private key: register the public key only")
        try:
            if entry.get("kty") == "EC" and entry.get("crv") in ("P-256", "P-384"):
                keys.append(ECKey.import_key(entry))
            elif entry.get("kty") == "RSA":
                key = RSAKey.import_key(entry)
                if key.raw_value.key_size < MIN_RSA_BITS:
                    raise ClientError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
                keys.append(key)
            else:
                raise ClientError("keys must be RSA or EC P-256/P-384 (for RS384 or ES384)")
        except (JoseError, ValueError, TypeError) as exc:
            if isinstance(exc, ClientError):
                raise
            raise ClientError(f"unreadable JWKS key: {exc}") from None
    return tuple(keys)


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ClientError(f"redirect URI {uri!r} must not have a fragment")
    secure = parts.scheme == "https" and parts.hostname
    loopback = parts.scheme == "http" and parts.netloc.split(":")[0] in _LOOPBACK
    if not (secure or loopback):
        raise ClientError(f"redirect URI {uri!r} must be https (or http on a loopback address)")


def _check_scopes(kind: ClientKind, scopes: Iterable[str]) -> frozenset[str]:
    text = " ".join(scopes)
    try:
        parsed = parse_scopes(text)
    except InvalidScope as exc:
        raise ClientError(str(exc)) from None
    if not parsed:
        raise ClientError("a client needs at least one scope")
    for scope in parsed:
        if kind is ClientKind.BACKEND and scope.context != "system":
            raise ClientError(f"a backend client only gets system/ scopes, not {scope.raw!r}")
        if kind is not ClientKind.BACKEND and scope.context == "system":
            raise ClientError(f"{scope.raw!r}: system/ scopes are for backend clients only")
    return frozenset(scope.raw for scope in parsed)


class ClientRegistry:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def create(
        self,
        name: str,
        kind: ClientKind,
        *,
        redirect_uris: Iterable[str] = (),
        scopes: Iterable[str],
        jwks: Mapping[str, Any] | None = None,
    ) -> tuple[Client, str | None]:
        """Register a client; returns it and its secret (None for public or keyed clients)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise ClientError("a client needs a name of 1 to 200 characters")
        uris = tuple(dict.fromkeys(redirect_uris))
        for uri in uris:
            _check_redirect_uri(uri)
        if kind is not ClientKind.BACKEND and not uris:
            raise ClientError("public and confidential clients need at least one redirect URI")
        if kind is ClientKind.BACKEND and uris:
            raise ClientError("backend clients have no redirect URI")
        if jwks is not None and kind is not ClientKind.BACKEND:
            raise ClientError("only backend clients register public keys")
        allowed = _check_scopes(kind, scopes)
        keys = parse_jwks(jwks) if jwks is not None else ()
        secret = None
        if kind is ClientKind.CONFIDENTIAL or (kind is ClientKind.BACKEND and not keys):
            secret = secrets.token_urlsafe(32)
        client = Client(
            id=secrets.token_hex(16),
            name=name,
            kind=kind,
            redirect_uris=uris,
            scopes=allowed,
            keys=keys,
            has_secret=secret is not None,
            revoked=False,
            created_at=int(self._clock()),
        )
        with self._db.write() as conn:
            conn.execute(
                insert(security_oauth_client).values(
                    id=client.id,
                    name=client.name,
                    kind=client.kind.value,
                    secret_hash=hash_secret(secret) if secret else None,
                    jwks=json.dumps(dict(jwks)) if jwks is not None else None,
                    redirect_uris=json.dumps(list(uris)),
                    scopes=" ".join(sorted(allowed)),
                    revoked=False,
                    created_at=client.created_at,
                )
            )
        return client, secret

    def get(self, client_id: str) -> Client | None:
        with self._db.read() as conn:
            row = conn.execute(
                select(security_oauth_client).where(security_oauth_client.c.id == client_id)
            ).first()
        return _client(row) if row is not None else None

    def list(self) -> list[Client]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(security_oauth_client).order_by(
                    security_oauth_client.c.created_at, security_oauth_client.c.id
                )
            ).all()
        return [_client(row) for row in rows]

    def revoke(self, client_id: str) -> None:
        """Revoke a client: its tokens stop working at once, it gets no new ones."""
        with self._db.write() as conn:
            done = conn.execute(
                update(security_oauth_client)
                .where(security_oauth_client.c.id == client_id)
                .values(revoked=True)
            ).rowcount
        if not done:
            raise UnknownClient(client_id)
        revocations.notify()

    def verify_secret(self, client_id: str, secret: str) -> bool:
        with self._db.read() as conn:
            stored = conn.execute(
                select(security_oauth_client.c.secret_hash).where(
                    security_oauth_client.c.id == client_id
                )
            ).scalar()
        return stored is not None and hmac.compare_digest(stored, hash_secret(secret))


def _client(row: Row[Any]) -> Client:
    keys = parse_jwks(json.loads(row.jwks)) if row.jwks else ()
    return Client(
        id=row.id,
        name=row.name,
        kind=ClientKind(row.kind),
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        scopes=frozenset(row.scopes.split()),
        keys=keys,
        has_secret=row.secret_hash is not None,
        revoked=bool(row.revoked),
        created_at=int(row.created_at),
    )
