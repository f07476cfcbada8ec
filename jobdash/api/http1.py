"""A lean HTTP/1.1 transport for httpx: keep-alive connections on asyncio streams.

jobdash sends many small GETs (one per job per poll) and reads small JSON answers.
httpx's default transport spends about 1.3 ms of CPU on each on a 2-core machine
(its connection pool, anyio and the client's cookie and redirect handling); this
transport parses with h11 straight off asyncio streams and costs about a third of
that, which is what lets `jobdash status` of a few hundred ids finish in well under
a second (bench/poll.py). It implements `httpx.AsyncBaseTransport`, so an
`httpx.AsyncClient` can use it for everything else (IAM login, server details).

Connections are kept per origin and reused (LIFO) for `keepalive_expiry` seconds; at
most `max_connections` requests are under way at once across all origins. A request
that fails on a reused connection before any byte of an answer arrived (the server
closed it while idle) is sent once more on a new connection, when its method is
idempotent. Answers are read whole (bodies are JSON) and decompressed here (gzip,
deflate), so that a body larger than `max_body` bytes is refused both as it arrives and
once decompressed: a small answer that unpacks to gigabytes never reaches memory whole.
Each request has an overall `deadline` (connect, send and the whole answer), besides the
per-step timeouts, so a server that trickles its answer or sends `102 Processing` for
ever cannot hold a request for longer. Errors are httpx's: ConnectError, ConnectTimeout,
ReadTimeout, PoolTimeout, RemoteProtocolError and so on, with `DeadlineExceeded` (a
timeout) and `UnusableAnswer` (a protocol error) for the two limits. It speaks to origins directly: with a proxy
configured, `jobdash.connections.connection.http_pool` uses httpx's own transport instead.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import h11
import httpx

#: A response body larger than this, as it arrives or once decompressed, is refused. A job
#: of 500 sub-jobs is ~0.5 MB; with `max_in_flight` at its default of 32, answers held at
#: once stay under ~256 MB even when every one is at the limit.
DEFAULT_MAX_BODY = 8 * 1024 * 1024
#: Seconds a request may take in all (connect, send, the whole answer; not the wait for a
#: free connection). config.toml's `[http] deadline` overrides it.
DEFAULT_DEADLINE = 30.0
#: What jobdash asks answers to be compressed with: what `decompressed` reads, no more.
ACCEPT_ENCODING = "gzip, deflate"
_READ_SIZE = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

Origin = tuple[str, str, int]
Verify = ssl.SSLContext | bool


class DeadlineExceeded(httpx.TimeoutException):
    """The whole exchange took longer than the transport's deadline."""


class UnusableAnswer(httpx.RemoteProtocolError):
    """An answer that is refused as it is: too large (as sent or decompressed), or
    compressed in a way that cannot be read."""


class _Stale(Exception):
    """The connection broke before any byte of the answer: safe to send again."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Connection:
    """One keep-alive connection: its streams and its h11 state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0
        self.used = False

    def usable(self, now: float, expiry: float | None) -> bool:
        if self.writer.is_closing() or self.reader.at_eof():
            return False
        return expiry is None or now - self.idle_since < expiry

    def close(self) -> None:
        self.writer.close()

    async def exchange(
        self, request: httpx.Request, body: bytes, timeouts: Mapping[str, Any], max_body: int
    ) -> tuple[h11.Response, bytes]:
        """Send `request`, read its whole answer. Raises `_Stale` when the connection was
        found closed before any byte of an answer arrived."""
        reused = self.used
        self.used = True
        conn = self.h11
        headers = [(k, v) for k, v in request.headers.raw]
        data = conn.send(
            h11.Request(method=request.method, target=request.url.raw_path, headers=headers)
        )
        if body:
            data += conn.send(h11.Data(data=body))
        data += conn.send(h11.EndOfMessage())
        try:
            self.writer.write(data)
            async with asyncio.timeout(timeouts.get("write")):
                await self.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("timed out sending the request", request=request) from None
        except OSError as exc:
            if reused:
                raise _Stale(exc) from None
            raise httpx.WriteError(_describe(exc), request=request) from None
        response: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        got_bytes = False
        read_timeout = timeouts.get("read")
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            if event is h11.NEED_DATA:
                try:
                    async with asyncio.timeout(read_timeout):
                        chunk = await self.reader.read(_READ_SIZE)
                except TimeoutError:
                    raise httpx.ReadTimeout(
                        "timed out reading the answer", request=request
                    ) from None
                except OSError as exc:
                    if reused and not got_bytes:
                        raise _Stale(exc) from None
                    raise httpx.ReadError(_describe(exc), request=request) from None
                if not chunk and reused and not got_bytes:
                    raise _Stale(ConnectionResetError("closed by the server while idle"))
                got_bytes = got_bytes or bool(chunk)
                try:
                    conn.receive_data(chunk)
                except h11.RemoteProtocolError as exc:
                    raise httpx.RemoteProtocolError(str(exc), request=request) from None
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > max_body:
                    raise UnusableAnswer(f"answer larger than {max_body} bytes", request=request)
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError(
                    "the server closed the connection before answering", request=request
                )
            # h11.InformationalResponse (1xx): keep reading for the final answer.
        assert response is not None
        return response, b"".join(chunks)

    def reusable(self) -> bool:
        """After a whole exchange: can this connection carry the next request?"""
        conn = self.h11
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            return True
        return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Http1Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams, keep-alive per origin, at most `max_connections`
    requests under way at once. `verify`: True (the default CA bundle, loaded on the
    first https connection), False (no verification) or an `ssl.SSLContext`."""

    def __init__(
        self,
        max_connections: int = 20,
        *,
        verify: Verify = True,
        keepalive_expiry: float | None = 5.0,
        max_body: int = DEFAULT_MAX_BODY,
        deadline: float | None = DEFAULT_DEADLINE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.max_body = max_body
        #: Seconds one request may take in all; None: no overall limit.
        self.deadline = deadline
        self._verify = verify
        self._ssl_context: ssl.SSLContext | None = (
            verify if isinstance(verify, ssl.SSLContext) else None
        )
        self._clock = clock
        self._idle: dict[Origin, list[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._closed = False
        #: Connections opened so far (tests and benchmarks look).
        self.opened = 0

    # -- httpx.AsyncBaseTransport --------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        if not url.host:
            raise httpx.UnsupportedProtocol("the URL has no host", request=request)
        origin: Origin = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        body = await request.aread()
        timeouts: Mapping[str, Any] = request.extensions.get("timeout") or {}
        slots = self._slots
        if slots is None:
            slots = self._slots = asyncio.Semaphore(self.max_connections)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout(
                "timed out waiting for a free connection", request=request
            ) from None
        try:
            # The deadline starts once a connection is free: waiting for one is `pool`'s.
            async with asyncio.timeout(self.deadline):
                return await self._send(origin, request, body, timeouts)
        except TimeoutError:
            raise DeadlineExceeded(
                f"no whole answer within {self.deadline:g} s", request=request
            ) from None
        finally:
            slots.release()

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # -- one request ---------------------------------------------------------------------

    async def _send(
        self, origin: Origin, request: httpx.Request, body: bytes, timeouts: Mapping[str, Any]
    ) -> httpx.Response:
        retry_allowed = request.method in _IDEMPOTENT
        while True:
            connection = self._idle_connection(origin) or await self._connect(
                origin, request, timeouts
            )
            try:
                head, content = await connection.exchange(request, body, timeouts, self.max_body)
            except _Stale as stale:
                connection.close()
                if retry_allowed:
                    retry_allowed = False
                    continue
                raise httpx.RemoteProtocolError(
                    f"the server closed the connection: {_describe(stale.cause)}", request=request
                ) from None
            except BaseException:
                connection.close()
                raise
            if connection.reusable() and not self._closed:
                connection.idle_since = self._clock()
                self._idle.setdefault(origin, []).append(connection)
                self._trim_idle()
            else:
                connection.close()
            headers, content = decompressed(head.headers, content, self.max_body, request)
            return httpx.Response(
                head.status_code,
                headers=headers,
                stream=httpx.ByteStream(content),
                request=request,
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
            )

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = self._clock()
        while idle:
            connection = idle.pop()
            if connection.usable(now, self.keepalive_expiry):
                return connection
            connection.close()
        return None

    def _trim_idle(self) -> None:
        """Keep at most `max_connections` idle connections in all (the oldest go first)."""
        total = sum(len(c) for c in self._idle.values())
        while total > self.max_connections:
            oldest = min(
                (c for c in self._idle.values() if c), key=lambda conns: conns[0].idle_since
            )
            oldest.pop(0).close()
            total -= 1

    async def _connect(
        self, origin: Origin, request: httpx.Request, timeouts: Mapping[str, Any]
    ) -> _Connection:
        scheme, host, port = origin
        context = self.tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                    limit=_READ_SIZE,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"timed out connecting to {host}:{port}", request=request
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(_describe(exc), request=request) from None
        self.opened += 1
        return _Connection(reader, writer)

    def tls_context(self) -> ssl.SSLContext:
        """The TLS context https connections use (built on first need)."""
        if self._ssl_context is None:
            # Built on the first https connection: plain-http endpoints never load CAs.
            self._ssl_context = _shared_context(bool(self._verify))
        return self._ssl_context


def decompressed(
    headers: list[tuple[bytes, bytes]], content: bytes, limit: int, request: httpx.Request
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The answer's headers and body with its `Content-Encoding` undone, at most `limit`
    bytes of it (`UnusableAnswer` beyond). The headers lose Content-Encoding and get the
    decoded length, so httpx does not decode it again."""
    encodings = [
        part.strip().lower()
        for name, value in headers
        if name.lower() == b"content-encoding"
        for part in value.split(b",")
        if part.strip()
    ]
    if not encodings:
        return headers, content
    for encoding in reversed(encodings):  # the last one applied is undone first
        if encoding == b"identity":
            continue
        if encoding not in (b"gzip", b"x-gzip", b"deflate"):
            name = encoding.decode("ascii", "replace")[:40]
            raise UnusableAnswer(
                f"answer compressed with {name!r}, which jobdash did not ask for", request=request
            )
        content = _inflate(content, encoding, limit, request)
    kept = [
        (name, value)
        for name, value in headers
        if name.lower() not in (b"content-encoding", b"content-length")
    ]
    kept.append((b"content-length", str(len(content)).encode("ascii")))
    return kept, content


def _inflate(data: bytes, encoding: bytes, limit: int, request: httpx.Request) -> bytes:
    """gzip (members one after another) or deflate (zlib-wrapped, or raw as some servers
    send it), never producing more than `limit` bytes."""
    if encoding == b"deflate":
        wbits = zlib.MAX_WBITS if data[:1] and (data[0] & 0x0F) == 8 else -zlib.MAX_WBITS
    else:
        wbits = 16 + zlib.MAX_WBITS
    parts: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits)
            # At most one byte over the limit is made: enough to tell it is over.
            part = inflater.decompress(rest, limit - size + 1)
            size += len(part)
            if size > limit or inflater.unconsumed_tail:
                raise UnusableAnswer(
                    f"answer larger than {limit} bytes once decompressed", request=request
                )
            parts.append(part)
            if not inflater.eof:
                raise UnusableAnswer("compressed answer cut short", request=request)
            rest = inflater.unused_data if wbits > zlib.MAX_WBITS else b""
    except zlib.error as exc:
        raise UnusableAnswer(
            f"answer's {encoding.decode()} data is corrupt ({exc})", request=request
        ) from None
    return b"".join(parts)


@functools.cache
def _shared_context(verify: bool) -> ssl.SSLContext:
    """One context per process and setting: loading the CA bundle takes ~30 ms."""
    return httpx.create_ssl_context(verify=verify)


async def send_with_auth(
    transport: httpx.AsyncBaseTransport, request: httpx.Request, auth: httpx.Auth
) -> httpx.Response:
    """Send `request` through `transport` as `auth`'s flow asks (sign, log in, retry on
    401): httpx's auth protocol, without the client around it. The body is read.

    Job GETs come here rather than through `httpx.AsyncClient.send` with httpx's own
    pool: httpcore hands a freed connection to the waiting requests by scanning them all,
    which is quadratic in the requests waiting (encode/httpcore PR #1035), and a poller
    keeps hundreds waiting; `Http1Transport` queues them on a semaphore, first come first served.
    """
    flow = auth.async_auth_flow(request)
    try:
        request = await flow.__anext__()
        while True:
            response = await transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
            try:
                request = await flow.asend(response)
            except StopAsyncIteration:
                return response
    finally:
        await flow.aclose()
