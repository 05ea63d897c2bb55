"""Keyset paging cursors: where the next or previous page starts, opaque to clients.

A cursor is base64url JSON of the boundary row's sort key values, its ``seq`` (the final,
unique tie-break), the direction, and the ``_sort`` it was made for. Paging by keyset
rather than OFFSET keeps pages exact while others write: a row that exists throughout is
never shown twice nor skipped, whatever is inserted, updated or deleted meanwhile.

The cursor is not signed: altering it only moves the client within its own query, whose
criteria are re-applied on every page; a malformed one is refused with 400.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from hygie.fhir.errors import bad_request
from hygie.fhir.search.query import Cursor, SortKey

_MAX_CURSOR_CHARS = 4096
_NUMERIC_KEYS = frozenset(("date", "number", "quantity"))


def sort_signature(sort: tuple[SortKey, ...]) -> str:
    return ",".join(("-" if k.descending else "") + k.param.code for k in sort)


def encode_cursor(cursor: Cursor, sort: tuple[SortKey, ...]) -> str:
    payload = {
        "k": list(cursor.keys),
        "s": cursor.seq,
        "d": "n" if cursor.forward else "p",
        "o": sort_signature(sort),
    }
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode("ascii")


def decode_cursor(raw: str, sort: tuple[SortKey, ...]) -> Cursor:
    """The cursor in ``_cursor=raw``; 400 unless it is one this server made for this _sort."""
    invalid = bad_request(
        "_cursor is not a paging cursor of this search (follow the next/previous links "
        "as given, with the same _sort)",
        "_cursor",
    )
    if len(raw) > _MAX_CURSOR_CHARS:
        raise invalid
    try:
        payload: Any = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(payload, dict) or set(payload) != {"k", "s", "d", "o"}:
        raise invalid
    keys, seq, direction = payload["k"], payload["s"], payload["d"]
    if (
        payload["o"] != sort_signature(sort)
        or direction not in ("n", "p")
        or type(seq) is not int
        or not isinstance(keys, list)
        or len(keys) != len(sort)
        or not all(_key_fits(key, k) for key, k in zip(keys, sort, strict=True))
    ):
        raise invalid
    return Cursor(tuple(keys), seq, direction == "n")


def _key_fits(value: object, key: SortKey) -> bool:
    if value is None:
        return True
    if key.param.code == "_lastUpdated":
        return type(value) is int
    if key.param.type in _NUMERIC_KEYS:
        return type(value) in (int, float)
    return isinstance(value, str)
