"""Upload forms: the multipart body is counted while it streams, never read whole first.

A body announced (Content-Length) or found larger than the limit stops the parsing at
once with :class:`UploadTooLarge`; the parser spools file parts to a temporary file past
1 MB, so a large upload never sits whole in memory.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

FORM_OVERHEAD = 64 * 1024  # room for the other fields and the multipart boundaries


class UploadTooLarge(Exception):
    """The request body exceeds what the form accepts (answered 413)."""


class UploadMalformed(Exception):
    """The body is not a multipart form the page can read (answered 400)."""


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content_type: str
    content: bytes


async def read_upload_form(request: Request, max_file_bytes: int) -> FormData:
    """The form of ``request``, its body limited to ``max_file_bytes`` plus the overhead."""
    limit = max_file_bytes + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UploadMalformed

    async def counted() -> AsyncGenerator[bytes, None]:
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise UploadTooLarge
            yield chunk

    parser = MultiPartParser(
        request.headers, counted(), max_files=1, max_fields=20, max_part_size=64 * 1024
    )
    try:
        return await parser.parse()
    except MultiPartException as malformed:
        raise UploadMalformed from malformed


async def file_of(form: FormData, name: str, max_bytes: int) -> UploadedFile | None:
    """The file sent in field ``name`` (None when none was chosen)."""
    part = form.get(name)
    if not isinstance(part, UploadFile) or not part.filename:
        return None
    content = await part.read(max_bytes + 1)
    await part.close()
    if len(content) > max_bytes:
        raise UploadTooLarge
    return UploadedFile(part.filename, part.content_type or "", content)


def text_of(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
