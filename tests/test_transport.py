"""ShardedTransport: requests spread over small pools, slots freed when bodies close."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from jobdash.api.transport import ShardedTransport
from jobdash.simulator import Simulator, SimulatorConfig


class Shard(httpx.AsyncBaseTransport):
    """A mock shard that counts requests and can hold them, or fail."""

    def __init__(self, name: str, seen: Counter[str], hold: asyncio.Event | None = None) -> None:
        self.name = name
        self.seen = seen
        self.hold = hold
        self.fail = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen[self.name] += 1
        if self.fail:
            raise httpx.ConnectError("refused", request=request)
        if self.hold is not None:
            await self.hold.wait()
        return httpx.Response(200, stream=Body(b'{"ok": true}'))


class Body(httpx.AsyncByteStream):
    """A streamed body, as a real connection gives: open until read and closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


async def test_requests_go_to_the_least_busy_shard():
    seen: Counter[str] = Counter()
    hold = asyncio.Event()
    transport = ShardedTransport([Shard(n, seen, hold) for n in "abc"])
    async with httpx.AsyncClient(transport=transport) as client:
        pending = [asyncio.create_task(client.get("http://x/")) for _ in range(6)]
        for _ in range(20):
            await asyncio.sleep(0)
        assert seen == {"a": 2, "b": 2, "c": 2}
        assert transport.load == [2, 2, 2]
        hold.set()
        responses = await asyncio.gather(*pending)
    assert all(r.status_code == 200 for r in responses)
    assert transport.load == [0, 0, 0]


async def test_a_slot_is_held_until_the_body_is_closed():
    seen: Counter[str] = Counter()
    transport = ShardedTransport([Shard("a", seen), Shard("b", seen)])
    async with httpx.AsyncClient(transport=transport) as client:
        async with client.stream("GET", "http://x/") as response:
            assert transport.load == [1, 0]
            await client.get("http://x/")  # goes to the free shard
            assert seen == {"a": 1, "b": 1}
            await response.aread()
        assert transport.load == [0, 0]


async def test_a_failed_request_frees_its_slot():
    seen: Counter[str] = Counter()
    shard = Shard("a", seen)
    shard.fail = True
    transport = ShardedTransport([shard])
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://x/")
    assert transport.load == [0]


def test_http_factory_splits_connections_into_small_pools():
    transport = ShardedTransport.http(64, per_shard=4)
    assert len(transport.shards) == 16
    assert len(ShardedTransport.http(10, per_shard=4).shards) == 3
    with pytest.raises(ValueError):
        ShardedTransport.http(0)


async def test_keep_alive_connections_against_the_simulator():
    with Simulator(SimulatorConfig(manual_clock=True, latency_ms=5.0)) as sim:
        job_ids = [sim.create_servers(1) for _ in range(12)]
        transport = ShardedTransport.http(8, per_shard=2)
        headers = {"X-Auth-Token": sim.credentials.token}
        async with httpx.AsyncClient(transport=transport, headers=headers) as client:
            for _ in range(3):
                responses = await asyncio.gather(
                    *(client.get(f"{sim.url}/v1/{sim.project_id}/jobs/{j}") for j in job_ids)
                )
                assert [r.json()["job_id"] for r in responses] == job_ids
        stats = sim.stats()
    assert stats["by_status"] == {"200": 36}
    assert stats["connections_max"] <= 8
    # connections were kept alive and reused across the three rounds
    assert stats["connections_total"] <= 8
