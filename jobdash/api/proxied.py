"""httpx's own client, used behind a proxy, held to `Http1Transport`'s limits.

With a proxy configured jobdash sends through httpx's transport (which speaks to the
proxy), not `Http1Transport`. `LimitedClient` gives it the same guarantees: each `send`
ends within the deadline, and an answer larger than `max_body` bytes, as it arrives or
once decompressed, is refused with `UnusableAnswer` rather than read whole.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from jobdash.api.http1 import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BODY,
    DeadlineExceeded,
    UnusableAnswer,
    decompressed,
)

USE = httpx.USE_CLIENT_DEFAULT
#: httpx's base Auth sends requests as they are.
_NO_AUTH = httpx.Auth()


class LimitedClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose answers are read whole within `deadline` seconds and
    at most `max_body` bytes (raw and decoded). Every answer comes back already read."""

    def __init__(
        self,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        deadline: float | None = DEFAULT_DEADLINE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_body = max_body
        self.deadline = deadline

    async def send(
        self, request: httpx.Request, *, stream: bool = False, auth: Any = USE, **kwargs: Any
    ) -> httpx.Response:
        """Send as httpx does, `auth`'s flow included; `stream` is ignored (every answer
        is read). The flow is driven here rather than by httpx so that each of its
        answers (an IAM login's too) is read within the limits."""
        chosen = self.auth if auth is USE else auth
        if chosen is None:
            chosen = _NO_AUTH
        if not isinstance(chosen, httpx.Auth):
            raise TypeError("LimitedClient takes an httpx.Auth or None as auth")
        try:
            async with asyncio.timeout(self.deadline):
                flow = chosen.async_auth_flow(request)
                try:
                    step = await flow.__anext__()
                    while True:
                        sent = await super().send(step, stream=True, auth=None, **kwargs)
                        response = await read_limited(sent, self.max_body)
                        try:
                            step = await flow.asend(response)
                        except StopAsyncIteration:
                            return response
                finally:
                    await flow.aclose()
        except TimeoutError:
            raise DeadlineExceeded(
                f"no whole answer within {self.deadline:g} s", request=request
            ) from None


async def read_limited(response: httpx.Response, max_body: int) -> httpx.Response:
    """`response` read whole and decompressed, in a new response; `UnusableAnswer` when
    it is larger than `max_body` bytes as it arrives or once decompressed. Closes
    `response`."""
    request = response.request
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > max_body:
                raise UnusableAnswer(f"answer larger than {max_body} bytes", request=request)
            chunks.append(chunk)
    finally:
        await response.aclose()
    headers, content = decompressed(list(response.headers.raw), b"".join(chunks), max_body, request)
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=request,
        extensions=response.extensions,
        history=response.history,
    )
