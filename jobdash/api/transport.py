"""An httpx transport that spreads requests over several small connection pools.

httpcore's connection pool re-examines every connection it holds (and, for idle
ones, every other connection too) each time a request starts or ends, so its
CPU cost per request grows with the square of the pool size: at 64 connections
a request costs several times what it costs at 8. Many small pools behind one
transport keep the bookkeeping small while the requests in flight stay many.
One `httpx.AsyncClient` with this transport is still one client, with
keep-alive connections, as the poller expects.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx

#: Connections per pool: small enough that the pool's bookkeeping stays cheap.
DEFAULT_PER_SHARD = 4


class _ReleasingStream(httpx.AsyncByteStream):
    """The response body; closing it frees the shard's slot (once)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class ShardedTransport(httpx.AsyncBaseTransport):
    """Sends each request through the least busy of several transports.

    A request counts against its shard until its response body is closed,
    which is when its connection is free again.
    """

    def __init__(self, shards: Sequence[httpx.AsyncBaseTransport]) -> None:
        if not shards:
            raise ValueError("need at least one shard")
        self.shards = list(shards)
        self.load = [0] * len(self.shards)

    @classmethod
    def http(
        cls,
        connections: int,
        *,
        per_shard: int = DEFAULT_PER_SHARD,
        verify: ssl.SSLContext | str | bool = True,
        trust_env: bool = True,
        keepalive_expiry: float | None = 5.0,
        **options: Any,
    ) -> ShardedTransport:
        """`connections` keep-alive connections in pools of `per_shard`.

        `options` go to each `httpx.AsyncHTTPTransport` (retries, local_address, ...);
        the TLS context is built once and shared.
        """
        if connections < 1 or per_shard < 1:
            raise ValueError("connections and per_shard must be at least 1")
        context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        )
        count = math.ceil(connections / per_shard)
        size = math.ceil(connections / count)
        limits = httpx.Limits(
            max_connections=size, max_keepalive_connections=size, keepalive_expiry=keepalive_expiry
        )
        return cls(
            [
                httpx.AsyncHTTPTransport(
                    verify=context, trust_env=trust_env, limits=limits, **options
                )
                for _ in range(count)
            ]
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        load = self.load
        index = min(range(len(load)), key=load.__getitem__)
        load[index] += 1

        def release() -> None:
            load[index] -= 1

        try:
            response = await self.shards[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(stream, release)
        return response

    async def aclose(self) -> None:
        for shard in self.shards:
            await shard.aclose()
