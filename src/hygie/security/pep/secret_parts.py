"""The secret parts the :class:`hygie.security.pep.vault.ContentVault` seals, per type.

Both keep the stored resource valid FHIR JSON: the blob is base64 in a ``data`` element
and the key that sealed it an extension on that element (``_data``).

- :class:`BinaryData`: a document's bytes, ``Binary.data``, sealed in place.
- :class:`MessagePayload`: a message's body, the whole ``Communication.payload`` (texts,
  attachments with their titles and types, references), stored as one sealed attachment.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from hygie.fhir.errors import FhirError, Issue
from hygie.security.pep.vault import Sealed

KEY_EXTENSION = "https://hygie.example/fhir/StructureDefinition/encrypted-with"
SEALED_MEDIA_TYPE = "application/vnd.hygie.sealed"


class BinaryData:
    resource_type = "Binary"

    def present(self, body: dict[str, Any]) -> bool:
        return isinstance(body.get("data"), str)

    def plaintext(self, body: dict[str, Any]) -> bytes:
        try:
            return base64.b64decode(body["data"], validate=True)
        except (binascii.Error, ValueError):
            raise FhirError(
                400, Issue("invalid", "Binary.data is not base64", ("Binary.data",))
            ) from None

    def with_sealed(self, body: dict[str, Any], sealed: Sealed) -> dict[str, Any]:
        return {**body, **_sealed_data(sealed)}

    def sealed_in(self, body: dict[str, Any]) -> Sealed | None:
        return _sealed_from(body)

    def with_plaintext(self, body: dict[str, Any], plaintext: bytes) -> dict[str, Any]:
        opened = {k: v for k, v in body.items() if k != "_data"}
        opened["data"] = base64.b64encode(plaintext).decode("ascii")
        return opened


class MessagePayload:
    resource_type = "Communication"

    def present(self, body: dict[str, Any]) -> bool:
        payload = body.get("payload")
        return isinstance(payload, list) and bool(payload)

    def plaintext(self, body: dict[str, Any]) -> bytes:
        return orjson.dumps(body["payload"])

    def with_sealed(self, body: dict[str, Any], sealed: Sealed) -> dict[str, Any]:
        attachment = {"contentType": SEALED_MEDIA_TYPE, **_sealed_data(sealed)}
        return {**body, "payload": [{"contentAttachment": attachment}]}

    def sealed_in(self, body: dict[str, Any]) -> Sealed | None:
        match body.get("payload"):
            case [{"contentAttachment": dict(attachment)}]:
                return _sealed_from(attachment)
        return None

    def with_plaintext(self, body: dict[str, Any], plaintext: bytes) -> dict[str, Any]:
        return {**body, "payload": orjson.loads(plaintext)}


def _sealed_data(sealed: Sealed) -> dict[str, Any]:
    """``data`` holding the blob and ``_data`` naming its key."""
    key = {"extension": [{"url": KEY_EXTENSION, "valueString": sealed.key_ref}]}
    return {"data": base64.b64encode(sealed.blob).decode("ascii"), "_data": key}


def _sealed_from(element: dict[str, Any]) -> Sealed | None:
    """What :func:`_sealed_data` put in ``element``; None when it holds data in clear."""
    primitive = element.get("_data")
    extensions = primitive.get("extension", []) if isinstance(primitive, dict) else []
    for extension in extensions:
        if isinstance(extension, dict) and extension.get("url") == KEY_EXTENSION:
            return Sealed(str(extension["valueString"]), base64.b64decode(element["data"]))
    return None
