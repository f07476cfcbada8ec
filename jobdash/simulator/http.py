"""A small HTTP/1.1 server on asyncio streams: parsing, keep-alive, framing. No routing.

The handler gets a parsed `Request` and returns a `Response`, or None to have the
connection closed without an answer (how the simulator drops requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus

MAX_HEAD_BYTES = 32 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may sit unused
SERVER_NAME = "jobdash-simulator"
LINGER_SECONDS = 2.0
MAX_LINGER_BYTES = 256 * 1024

_INTERNAL_ERROR = b'{"error": {"code": "Common.0001", "message": "simulator internal error"}}'
logger = logging.getLogger(__name__)

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/1\.[01]")


class BadRequest(Exception):
    """The bytes on the wire are not an HTTP/1.x request we can answer."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # as sent: path plus query
    path: str
    query: str
    version: str
    headers: tuple[tuple[str, str], ...]  # names in lower case, in order
    body: bytes
    peer: str  # client address

    def header(self, name: str, default: str | None = None) -> str | None:
        """The last value of a header (names are case-insensitive)."""
        wanted = name.lower()
        for key, value in reversed(self.headers):
            if key == wanted:
                return value
        return default

    def header_map(self) -> dict[str, str]:
        """Lower-case name -> value; repeated headers joined with ', '."""
        merged: dict[str, str] = {}
        for key, value in self.headers:
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = "application/json"


Handler = Callable[[Request], Awaitable[Response | None]]


def _parse_head(head: bytes, peer: str) -> tuple[Request, int, bool]:
    """Request without body, the body length to read, and whether the body is chunked."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not _VERSION.fullmatch(parts[2]):
        raise BadRequest("malformed request line")
    method, target, version = parts
    if not target.startswith(b"/") or any(b < 0x21 or b > 0x7E for b in target):
        raise BadRequest("malformed request target")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadRequest("malformed header line")
        try:
            text = value.strip(b" \t").decode("latin-1")
        except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes anything
            raise BadRequest("undecodable header") from exc
        if any(ord(ch) < 0x20 and ch != "\t" for ch in text):
            raise BadRequest("control character in header")
        headers.append((name.decode("ascii").lower(), text))
    lengths = {value for key, value in headers if key == "content-length"}
    chunked = False
    length = 0
    encodings = [v.lower() for k, v in headers if k == "transfer-encoding"]
    if encodings:
        if lengths or encodings != ["chunked"]:
            raise BadRequest("unsupported transfer encoding")
        chunked = True
    elif lengths:
        if len(lengths) > 1 or not next(iter(lengths)).isdigit():
            raise BadRequest("invalid Content-Length")
        length = int(next(iter(lengths)))
        if length > MAX_BODY_BYTES:
            raise BadRequest("body too large")
    path, _, query = target.decode("ascii").partition("?")
    request = Request(
        method=method.decode("ascii"),
        target=target.decode("ascii"),
        path=path,
        query=query,
        version=version.decode("ascii"),
        headers=tuple(headers),
        body=b"",
        peer=peer,
    )
    return request, length, chunked


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size_text = size_line[:-2].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise BadRequest("malformed chunk size") from exc
        if size == 0:
            # Trailers, if any, end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise BadRequest("body too large")
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise BadRequest("malformed chunk")


def _wants_close(request: Request) -> bool:
    tokens = {t.strip().lower() for t in (request.header("connection") or "").split(",")}
    if request.version == "HTTP/1.0":
        return "keep-alive" not in tokens
    return "close" in tokens


def http_date(moment: datetime) -> str:
    """`Tue, 01 Dec 2026 05:04:03 GMT`, the form of a `Date` header."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def encode_response(
    response: Response, *, close: bool, head_only: bool = False, date: datetime | None = None
) -> bytes:
    """The bytes of an answer; `date` is the server's clock for the `Date` header."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {response.status} {reason}", f"Server: {SERVER_NAME}"]
    if date is not None and not any(name.lower() == "date" for name, _ in response.headers):
        lines.append(f"Date: {http_date(date)}")
    if response.content_type:
        lines.append(f"Content-Type: {response.content_type}")
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    lines.append(f"Content-Length: {len(response.body)}")
    lines.append("Connection: close" if close else "Connection: keep-alive")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body


class HttpServer:
    """Serves one handler on one listening socket; tracks its connections. `clock` is the
    server's time for the `Date` header of each answer (the simulator's own, maybe fast)."""

    def __init__(self, handler: Handler, *, clock: Callable[[], datetime] | None = None) -> None:
        self._handler = handler
        self._clock = clock
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.connections_open = 0
        self.connections_max = 0
        self.connections_total = 0
        self.bad_requests = 0

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(
            self._on_connection, host, port, backlog=1024, limit=MAX_HEAD_BYTES
        )
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.connections_open += 1
        self.connections_total += 1
        self.connections_max = max(self.connections_max, self.connections_open)
        peer_info = writer.get_extra_info("peername")
        peer = str(peer_info[0]) if isinstance(peer_info, tuple) else ""
        try:
            await self._serve(reader, writer, peer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except asyncio.CancelledError:
            # close() cancels open connections; ending quietly keeps asyncio from logging it.
            pass
        finally:
            self.connections_open -= 1
            writer.close()
            # Still listed while closing, so close() waits for it rather than asyncio.run
            # cancelling it later; a cancel here has nothing left to interrupt.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            self._connections.discard(task)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():
                    await self._reject(reader, writer, "incomplete request")
                return
            except asyncio.LimitOverrunError:
                await self._reject(reader, writer, "request head too large")
                return
            try:
                request, length, chunked = _parse_head(head.lstrip(b"\r\n"), peer)
                if chunked:
                    body = await _read_chunked(reader)
                else:
                    body = await reader.readexactly(length) if length else b""
            except (BadRequest, asyncio.LimitOverrunError) as exc:
                await self._reject(reader, writer, str(exc) or "bad request")
                return
            request = dataclasses.replace(request, body=body)
            try:
                response = await self._handler(request)
            except Exception:
                # A bug in a handler costs one answer, not the connection task or the server.
                logger.exception("simulator handler failed for %s %s", request.method, request.path)
                response = Response(500, _INTERNAL_ERROR)
                request = dataclasses.replace(request, headers=(("connection", "close"),))
            if response is None:
                return  # drop: close without answering
            close = _wants_close(request)
            date = self._clock() if self._clock is not None else None
            head_only = request.method == "HEAD"
            writer.write(encode_response(response, close=close, head_only=head_only, date=date))
            await writer.drain()
            if close:
                return

    async def _reject(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reason: str
    ) -> None:
        self.bad_requests += 1
        body = json.dumps({"error": {"code": "Common.0400", "message": f"Bad request: {reason}"}})
        writer.write(encode_response(Response(400, body.encode()), close=True))
        with contextlib.suppress(ConnectionError, TimeoutError, asyncio.LimitOverrunError):
            await writer.drain()
            # Lingering close: closing with unread input would reset the connection and
            # could destroy the 400 before the client reads it.
            if writer.can_write_eof():
                writer.write_eof()
            async with asyncio.timeout(LINGER_SECONDS):
                for _ in range(MAX_LINGER_BYTES // 4096):
                    if not await reader.read(4096):
                        break
