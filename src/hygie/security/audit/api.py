"""JSON routes of the audit log under ``/api/audit``: the signed tree head and the proofs.

Hashes and signatures are base64, field names follow RFC 9162's (``sha256_root_hash``,
``tree_head_signature``, ``inclusion_path``, ``consistency_path``). A proof asked for
beyond the log answers 400 with ``{"error": message}``. Not mounted by itself: the app
mounts it behind the policy enforcement point.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import JSONResponse

from hygie.security.audit.errors import ProofRangeError
from hygie.security.audit.service import AuditLog


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _b64_list(values: Sequence[bytes]) -> list[str]:
    return [_b64(value) for value in values]


def audit_router(log: AuditLog) -> APIRouter:
    router = APIRouter(prefix="/api/audit")

    @router.get("/sth")
    def signed_tree_head() -> dict[str, Any]:
        sth = log.signed_tree_head()
        return {
            "tree_size": sth.tree_size,
            "timestamp": sth.timestamp_ms,
            "sha256_root_hash": _b64(sth.root_hash),
            "key_id": sth.key_id,
            "tree_head_signature": _b64(sth.signature),
        }

    @router.get("/proof/inclusion", response_model=None)
    def inclusion(
        index: Annotated[int, Query(ge=0)], tree_size: Annotated[int, Query(ge=1)]
    ) -> dict[str, Any] | JSONResponse:
        try:
            proof = log.inclusion_proof(index, tree_size)
        except ProofRangeError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": _b64(proof.leaf_hash),
            "inclusion_path": _b64_list(proof.path),
        }

    @router.get("/proof/consistency", response_model=None)
    def consistency(
        first: Annotated[int, Query(ge=1)], second: Annotated[int, Query(ge=1)]
    ) -> dict[str, Any] | JSONResponse:
        try:
            proof = log.consistency_proof(first, second)
        except ProofRangeError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return {
            "first": proof.first,
            "second": proof.second,
            "consistency_path": _b64_list(proof.path),
        }

    return router
