"""Turning replies and failures into the short messages kept as error samples."""

from __future__ import annotations

from typing import Any

import orjson

from .connection import Reply


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def unexpected(reply: Reply, wanted: str) -> str:
    """``HTTP 422 (wanted 201): <first OperationOutcome diagnostics or body start>``."""
    detail = reply.body[:200].decode("utf-8", "replace")
    body = json_or_none(reply)
    if body and body.get("resourceType") == "OperationOutcome":
        issues = body.get("issue") or [{}]
        detail = str(issues[0].get("diagnostics") or issues[0].get("code") or detail)
    return f"HTTP {reply.status} (wanted {wanted}): {detail}"


def json_or_none(reply: Reply) -> dict[str, Any] | None:
    try:
        body = orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def reference_from_location(location: str) -> str:
    """``Patient/12`` from ``[base/]Patient/12[/_history/1]``."""
    path = location.split("/_history/")[0].rstrip("/")
    return "/".join(path.split("/")[-2:])
