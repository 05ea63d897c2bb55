"""Health contents encrypted at rest (the store's :class:`hygie.fhir.access.ContentCodec`).

Some resource types carry a secret part: a Binary's ``data``, a Communication's
``payload`` (see :mod:`hygie.security.pep.secret_parts`). The :class:`ContentVault` stores
that part as an AES-256-GCM blob under the data key of the patient the resource belongs to
(:class:`hygie.security.crypto.Keyring`), bound to ``<type>/<id>``; everything else,
references and search parameters included, stays in clear and is indexed as usual. The
store indexes the sealed body, so the search index never sees the secret part.

The key is the primary patient's of the resource's compartment (a Communication's
subject, else its sender or a recipient that is a Patient); a Binary's is that of the
patient its ``securityContext`` names, directly or through the resource it names. With no
patient, the platform key :data:`PLATFORM_KEY` seals it. The key used is recorded next to
the blob, so that a later change elsewhere never loses it. Reading decrypts; once a
patient's key is erased, what was sealed with it answers 410 (searches leave it out).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, select

from hygie.db.engine import Database
from hygie.db.schema import fhir_resource
from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.model import StoredResource
from hygie.fhir.searchparams import SearchParamRegistry, default_registry
from hygie.security.crypto import CryptoError, KeyDestroyed, Keyring
from hygie.security.pep.compartment import CompartmentReader

PLATFORM_KEY = "platform"


@dataclass(frozen=True, slots=True)
class Sealed:
    """A secret part as stored: the blob and the key that sealed it."""

    key_ref: str
    blob: bytes

    def __repr__(self) -> str:
        return f"Sealed(key_ref={self.key_ref!r}, blob=<{len(self.blob)} bytes>)"


class SecretPart(Protocol):
    """The part of one resource type kept encrypted, and how a body holds it sealed."""

    resource_type: str

    def present(self, body: dict[str, Any]) -> bool:
        """Whether ``body`` (as written by a client) carries the part in clear."""
        ...

    def plaintext(self, body: dict[str, Any]) -> bytes:
        """The bytes to seal (a 400 FhirError when they are malformed)."""
        ...

    def with_sealed(self, body: dict[str, Any], sealed: Sealed) -> dict[str, Any]:
        """The body as stored: the part replaced by the blob and its key."""
        ...

    def sealed_in(self, body: dict[str, Any]) -> Sealed | None:
        """What :meth:`with_sealed` stored; None for a body stored in clear."""
        ...

    def with_plaintext(self, body: dict[str, Any], plaintext: bytes) -> dict[str, Any]:
        """The stored body with the part back in clear, as the caller reads it."""
        ...


class ContentVault:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        parts: Iterable[SecretPart],
        *,
        registry: SearchParamRegistry | None = None,
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._parts = {part.resource_type: part for part in parts}
        self._reader = CompartmentReader(registry or default_registry())

    def __repr__(self) -> str:
        return f"ContentVault(types={sorted(self._parts)})"

    def prepare(self, bodies: Sequence[object]) -> None:
        """Create the keys the bodies need ahead of their transaction where they are known
        already (so a refusal for an erased patient comes before any work); keys of
        patients the transaction itself creates are made by :meth:`seal`."""
        secret = [b for b in bodies if isinstance(b, dict) and self._part_present(b)]
        if not secret:
            return
        with self._db.read() as conn:
            refs = {self._key_ref(conn, body, ()): body["resourceType"] for body in secret}
        for ref, resource_type in refs.items():
            try:
                self._keyring.ensure_data_key(ref)
            except KeyDestroyed:
                raise _erased(f"this {resource_type}'s patient") from None

    def seal(
        self, conn: Connection, body: dict[str, Any], batch: Sequence[dict[str, Any]] = ()
    ) -> dict[str, Any]:
        part = self._parts.get(body["resourceType"])
        if part is None or not part.present(body):
            return body
        ref = self._key_ref(conn, body, batch)
        reference = f"{body['resourceType']}/{body['id']}"
        plain = part.plaintext(body)
        try:
            # A patient's first content (or a patient created by the same transaction):
            # the key is created in this transaction, and rolls back with it.
            blob = self._keyring.encrypt(ref, plain, aad=reference.encode(), conn=conn)
        except KeyDestroyed:
            raise _erased(reference) from None
        return part.with_sealed(body, Sealed(ref, blob))

    def reveal(self, stored: StoredResource) -> StoredResource:
        part = self._parts.get(stored.resource_type)
        if part is None or stored.content is None:
            return stored
        body = orjson.loads(stored.content)
        sealed = part.sealed_in(body)
        if sealed is None:
            return stored  # stored before encryption at rest, or without the part
        try:
            plain = self._keyring.decrypt(
                sealed.key_ref, sealed.blob, aad=stored.reference.encode()
            )
        except KeyDestroyed:
            raise _erased(stored.reference) from None
        except CryptoError as error:
            raise FhirError(
                500,
                Issue(
                    "exception", f"{stored.reference} cannot be decrypted ({type(error).__name__})"
                ),
            ) from None
        return replace(stored, content=orjson.dumps(part.with_plaintext(body, plain)))

    def _part_present(self, body: dict[str, Any]) -> bool:
        rtype = body.get("resourceType")
        part = self._parts.get(rtype) if isinstance(rtype, str) else None
        return part is not None and part.present(body)

    def _key_ref(
        self, conn: Connection, body: dict[str, Any], batch: Sequence[dict[str, Any]]
    ) -> str:
        """The key's patient; ``batch`` holds the bodies written with this one, which a
        Binary's securityContext may name before they are in the database."""
        ownership = self._reader.ownership(body)
        if ownership.owners:
            return ownership.owners[0]
        context = ownership.context
        if context and "/" in context:
            rtype, rid = context.split("/", 1)
            named = next(
                (b for b in batch if b.get("resourceType") == rtype and b.get("id") == rid), None
            )
            if named is None:
                content = conn.execute(
                    select(fhir_resource.c.content).where(
                        fhir_resource.c.resource_type == rtype, fhir_resource.c.id == rid
                    )
                ).scalar()
                named = orjson.loads(content) if content is not None else None
            owners = self._reader.ownership(named).owners if named is not None else ()
            if owners:
                return owners[0]
        return PLATFORM_KEY


def _erased(what: str) -> FhirError:
    return FhirError(
        410,
        Issue("deleted", f"the content of {what} was erased: its patient's data key is destroyed"),
    )
