"""A lean HTTP/1.1 keep-alive client: h11 over asyncio streams.

httpx was measured first on the 2-core reference machine: about 0.7 ms of client CPU per
request (its pool and anyio layers), so one core saturates below 1,500 requests/s and the
tool would measure itself. h11 keeps the protocol right (chunked bodies, keep-alive,
``Connection: close``) for about 0.1 ms per request. One connection serves one worker.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

# What a failed exchange can raise; the phases count these as errors.
TRANSPORT_ERRORS = (OSError, TimeoutError, h11.ProtocolError)


class TargetError(ValueError):
    """The base URL cannot be used."""


@dataclass(frozen=True, slots=True)
class Target:
    """A FHIR base URL, split for the socket layer."""

    url: str
    host: str
    port: int
    prefix: str  # path of the base, no trailing slash
    tls: bool

    @classmethod
    def parse(cls, url: str, *, allow_remote: bool) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(f"base URL must be http(s)://host[:port]/path, got {url!r}")
        if parts.query or parts.fragment:
            raise TargetError(f"base URL must not carry a query or fragment: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if not allow_remote and not _is_loopback(parts.hostname, port):
            raise TargetError(
                f"{parts.hostname} is not a loopback address: a load test stays on this "
                "machine (pass --allow-remote to override)"
            )
        return cls(url, parts.hostname, port, parts.path.rstrip("/"), parts.scheme == "https")


def _is_loopback(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TargetError(f"cannot resolve {host}: {exc}") from None
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[bytes, bytes]  # lower-case names
    body: bytes


class Connection:
    """One keep-alive connection, reopened after an error or a ``Connection: close``."""

    def __init__(self, target: Target, headers: list[tuple[bytes, bytes]], timeout: float):
        host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        self._target = target
        self._headers = [(b"host", host.encode()), (b"accept", b"application/fhir+json")]
        self._headers += headers
        self._timeout = timeout
        self._ssl = ssl.create_default_context() if target.tls else None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._h11 = h11.Connection(h11.CLIENT)

    async def request(self, method: str, path: str, body: bytes | None = None) -> Reply:
        """Send ``method`` to ``base/path`` (``path`` URL-encoded; empty for the base itself)."""
        try:
            async with asyncio.timeout(self._timeout):
                target = f"{self._target.prefix}/{path}" if path else self._target.prefix or "/"
                return await self._exchange(method, target, body)
        except BaseException:
            self.close()  # the connection's state is unknown: the next request opens another
            raise

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def _exchange(self, method: str, target: str, body: bytes | None) -> Reply:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self._target.host, self._target.port, ssl=self._ssl
            )
            self._h11 = h11.Connection(h11.CLIENT)
        assert self._reader is not None
        conn, headers = self._h11, self._headers
        if body is not None:
            headers = [
                *headers,
                (b"content-type", b"application/fhir+json"),
                (b"content-length", str(len(body)).encode()),
            ]
        data = conn.send(h11.Request(method=method, target=target, headers=headers)) or b""
        if body is not None:
            data += conn.send(h11.Data(data=body)) or b""
        self._writer.write(data + (conn.send(h11.EndOfMessage()) or b""))
        if body is not None:
            await self._writer.drain()
        return await self._read_reply(conn, self._reader)

    async def _read_reply(self, conn: h11.Connection, reader: asyncio.StreamReader) -> Reply:
        status, headers, chunks = 0, {}, []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(262144))
            elif isinstance(event, h11.Response):
                status, headers = event.status_code, dict(event.headers)
            elif isinstance(event, h11.Data):
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the server closed the connection before replying")
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            self.close()
        else:
            conn.start_next_cycle()
        return Reply(status, headers, b"".join(chunks))
