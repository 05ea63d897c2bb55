"""The registry of OAuth clients (SMART apps, backend services and devices).

Four kinds: ``public`` apps (no secret; PKCE and DPoP), ``confidential`` apps (a client
secret, shown once), ``backend`` services (client_credentials with ``private_key_jwt``
against their registered public keys, or a secret when they have no key) and ``device``s:
one FHIR Device each, client_credentials with ``private_key_jwt`` only (a device holds a
key pair, never a shared secret), and a posture the operators set. Redirect URIs are
matched exactly, so they are stored exactly as registered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import Connection, Row, insert, select, update

from hygie.db.engine import Database
from hygie.security import revocations
from hygie.security.oauth.errors import ClientError, UnknownClient
from hygie.security.oauth.tables import security_oauth_client
from hygie.security.scopes import InvalidScope, parse_scopes

ClientKey = ECKey | RSAKey
_LOOPBACK = frozenset({"127.0.0.1", "[::1]", "localhost"})
MIN_RSA_BITS = 2048
_DEVICE_REF = re.compile(r"Device/[A-Za-z0-9\-.]{1,64}")


class ClientKind(StrEnum):
    PUBLIC = "public"
    CONFIDENTIAL = "confidential"
    BACKEND = "backend"
    DEVICE = "device"

    @property
    def acts_for_itself(self) -> bool:
        """client_credentials with system/ scopes, no user and no redirect URI."""
        return self in (ClientKind.BACKEND, ClientKind.DEVICE)


class Posture(StrEnum):
    """What the operators know of a device's state (``context.device_posture``)."""

    COMPLIANT = "compliant"
    UNKNOWN = "unknown"  # at registration, until someone vouches for the device
    QUARANTINED = "quarantined"


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
    device_ref: str | None = None  # "Device/<id>" the client is, for a device
    posture: Posture | None = None  # a device's posture, and when it was last set
    posture_at: int | None = None

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
        if kind.acts_for_itself and scope.context != "system":
            raise ClientError(f"a {kind} client only gets system/ scopes, not {scope.raw!r}")
        if not kind.acts_for_itself and scope.context == "system":
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
        device_ref: str | None = None,
    ) -> tuple[Client, str | None]:
        """Register a client; returns it and its secret (None for public or keyed clients)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise ClientError("a client needs a name of 1 to 200 characters")
        uris = tuple(dict.fromkeys(redirect_uris))
        for uri in uris:
            _check_redirect_uri(uri)
        if not kind.acts_for_itself and not uris:
            raise ClientError("public and confidential clients need at least one redirect URI")
        if kind.acts_for_itself and uris:
            raise ClientError(f"{kind} clients have no redirect URI")
        if jwks is not None and not kind.acts_for_itself:
            raise ClientError("only backend and device clients register public keys")
        if kind is ClientKind.DEVICE:
            if jwks is None:
                raise ClientError("a device client needs its public key (private_key_jwt only)")
            if device_ref is None or not _DEVICE_REF.fullmatch(device_ref):
                raise ClientError("a device client is bound to one FHIR Device: Device/<id>")
        elif device_ref is not None:
            raise ClientError("only device clients are bound to a FHIR Device")
        allowed = _check_scopes(kind, scopes)
        keys = parse_jwks(jwks) if jwks is not None else ()
        secret = None
        if kind is ClientKind.CONFIDENTIAL or (kind is ClientKind.BACKEND and not keys):
            secret = secrets.token_urlsafe(32)
        now = int(self._clock())
        posture = Posture.UNKNOWN if kind is ClientKind.DEVICE else None
        client = Client(
            id=secrets.token_hex(16),
            name=name,
            kind=kind,
            redirect_uris=uris,
            scopes=allowed,
            keys=keys,
            has_secret=secret is not None,
            revoked=False,
            created_at=now,
            device_ref=device_ref,
            posture=posture,
            posture_at=now if posture else None,
        )
        with self._db.write() as conn:
            if device_ref is not None:
                _check_device_free(conn, device_ref)
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
                    device_ref=device_ref,
                    posture=posture,
                    posture_at=client.posture_at,
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

    def set_posture(self, client_id: str, posture: Posture) -> Client:
        """Set a device's posture; its tokens carry the new one at once in this process, and
        within the authenticator's state bound elsewhere."""
        table = security_oauth_client
        with self._db.write() as conn:
            done = conn.execute(
                update(table)
                .where(table.c.id == client_id, table.c.kind == ClientKind.DEVICE.value)
                .values(posture=posture.value, posture_at=int(self._clock()))
            ).rowcount
        if not done:
            raise UnknownClient(client_id)
        revocations.notify()
        client = self.get(client_id)
        assert client is not None  # just updated; clients are never deleted
        return client

    def verify_secret(self, client_id: str, secret: str) -> bool:
        with self._db.read() as conn:
            stored = conn.execute(
                select(security_oauth_client.c.secret_hash).where(
                    security_oauth_client.c.id == client_id
                )
            ).scalar()
        return stored is not None and hmac.compare_digest(stored, hash_secret(secret))


def _check_device_free(conn: Connection, device_ref: str) -> None:
    """One active client per Device, so that its posture is that of the device."""
    table = security_oauth_client
    taken = conn.execute(
        select(table.c.id).where(table.c.device_ref == device_ref, table.c.revoked.is_(False))
    ).scalar()
    if taken is not None:
        raise ClientError(f"{device_ref} already has the active client {taken}: revoke it first")


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
        device_ref=row.device_ref,
        posture=Posture(row.posture) if row.posture else None,
        posture_at=row.posture_at,
    )
