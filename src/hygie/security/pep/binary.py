"""Binary contents encrypted at rest (a :class:`hygie.fhir.access.ContentCodec`).

``Binary.data`` is stored as an AES-256-GCM blob under the data key of the patient the
Binary belongs to (:class:`hygie.security.crypto.Keyring`), bound to ``Binary/<id>``:

- ``securityContext`` references ``Patient/x``: Patient/x's key;
- it references another resource (a DocumentReference): the key of that resource's
  primary patient, resolved when the Binary is written;
- no patient found: the platform key :data:`PLATFORM_KEY` (erased with no patient).

The key used is recorded in the stored resource as an extension on ``data``
(``_data``, valid FHIR JSON), so that a later change of the DocumentReference does not
lose the key. Reading decrypts; once a patient's key is erased, their Binaries answer 410.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import Connection, select

from hygie.db.engine import Database
from hygie.db.schema import fhir_resource
from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.model import StoredResource
from hygie.fhir.searchparams import SearchParamRegistry, default_registry
from hygie.security.crypto import CryptoError, KeyDestroyed, Keyring
from hygie.security.pep.compartment import CompartmentReader

KEY_EXTENSION = "https://hygie.example/fhir/StructureDefinition/encrypted-with"
PLATFORM_KEY = "platform"


class BinaryVault:
    def __init__(
        self, db: Database, keyring: Keyring, *, registry: SearchParamRegistry | None = None
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._reader = CompartmentReader(registry or default_registry())

    def __repr__(self) -> str:
        return "BinaryVault()"

    def prepare(self, bodies: Sequence[object]) -> None:
        binaries = [b for b in bodies if _is_binary_with_data(b)]
        if not binaries:
            return
        with self._db.read() as conn:
            refs = {self._key_ref(conn, b) for b in binaries if isinstance(b, dict)}
        for ref in refs:
            try:
                self._keyring.ensure_data_key(ref)
            except KeyDestroyed:
                raise _erased("this Binary's patient") from None

    def seal(self, conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
        if not _is_binary_with_data(body):
            return body
        ref = self._key_ref(conn, body)
        try:
            plain = base64.b64decode(body["data"], validate=True)
        except (binascii.Error, ValueError):
            raise FhirError(
                400, Issue("invalid", "Binary.data is not base64", ("Binary.data",))
            ) from None
        try:
            sealed = self._keyring.encrypt(ref, plain, aad=_aad(body["id"]))
        except KeyDestroyed:
            raise _erased(f"Binary/{body['id']}") from None
        extension = {"extension": [{"url": KEY_EXTENSION, "valueString": ref}]}
        return {**body, "data": base64.b64encode(sealed).decode("ascii"), "_data": extension}

    def reveal(self, stored: StoredResource) -> StoredResource:
        if stored.resource_type != "Binary" or stored.content is None:
            return stored
        body = orjson.loads(stored.content)
        ref = _key_of(body)
        if ref is None:
            return stored  # stored before encryption at rest, or without data
        try:
            plain = self._keyring.decrypt(ref, base64.b64decode(body["data"]), aad=_aad(stored.id))
        except KeyDestroyed:
            raise _erased(stored.reference) from None
        except CryptoError as error:
            raise FhirError(
                500,
                Issue(
                    "exception", f"{stored.reference} cannot be decrypted ({type(error).__name__})"
                ),
            ) from None
        del body["_data"]
        body["data"] = base64.b64encode(plain).decode("ascii")
        return replace(stored, content=orjson.dumps(body))

    def _key_ref(self, conn: Connection, body: dict[str, Any]) -> str:
        ownership = self._reader.ownership(body)
        if ownership.owners:
            return ownership.owners[0]
        if ownership.context and "/" in ownership.context:
            rtype, rid = ownership.context.split("/", 1)
            content = conn.execute(
                select(fhir_resource.c.content).where(
                    fhir_resource.c.resource_type == rtype, fhir_resource.c.id == rid
                )
            ).scalar()
            if content is not None:
                owners = self._reader.ownership(orjson.loads(content)).owners
                if owners:
                    return owners[0]
        return PLATFORM_KEY


def _is_binary_with_data(body: object) -> bool:
    return (
        isinstance(body, dict)
        and body.get("resourceType") == "Binary"
        and isinstance(body.get("data"), str)
    )


def _key_of(body: dict[str, Any]) -> str | None:
    for extension in body.get("_data", {}).get("extension", []):
        if extension.get("url") == KEY_EXTENSION:
            return str(extension["valueString"])
    return None


def _aad(resource_id: str) -> bytes:
    return f"Binary/{resource_id}".encode()


def _erased(what: str) -> FhirError:
    return FhirError(
        410,
        Issue("deleted", f"the content of {what} was erased: its patient's data key is destroyed"),
    )
