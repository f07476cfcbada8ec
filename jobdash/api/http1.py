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
idempotent. Answers are read whole (bodies are JSON); one larger than `max_body`
bytes is refused. Errors are httpx's: ConnectError, ConnectTimeout, ReadTimeout,
PoolTimeout, RemoteProtocolError and so on. It speaks to origins directly: with a proxy
configured, `jobdash.connections.connection.http_pool` uses httpx's own transport instead.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import h11
import httpx

#: A response body larger than this is refused (a job of 500 sub-jobs is ~0.5 MB).
DEFAULT_MAX_BODY = 64 * 1024 * 1024
_READ_SIZE = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

Origin = tuple[str, str, int]
Verify = ssl.SSLContext | bool


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
                    raise httpx.RemoteProtocolError(
                        f"answer larger than {max_body} bytes", request=request
                    )
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.max_body = max_body
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
            return await self._send(origin, request, body, timeouts)
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
            return httpx.Response(
                head.status_code,
                headers=head.headers,
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
