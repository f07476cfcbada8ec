"""Rate limiting and throttling per endpoint and account.

The cloud limits each account on its own, so two accounts (or key pairs) watched at one
endpoint each get their own adaptive rate: one being throttled does not slow the other.
The decisions on a fake clock against a scripted API; then the simulator, whose gateway
limits each account, over a real loopback socket with clouds from a real clouds.yaml.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from poller_helpers import ENDPOINT, NOW, PROJECT, FakeApi, FakeClock, job_body, key, throttled
from test_connections import STAGING, both_clouds, write_clouds

from jobdash.api.errors import ErrorKind
from jobdash.cli.status_view import Results, progress_line, rate_text
from jobdash.connections.groups import connection_states
from jobdash.connections.registry import Connections
from jobdash.poll.poller import Poller
from jobdash.poll.ratelimit import RateGroup
from jobdash.simulator import Simulator
from jobdash.watch.values import EndpointState, WatchEntry, WatchKey

OTHER_PROJECT = "fedcba9876543210fedcba9876543210"
SINCE = datetime(2024, 5, 1, 12, 4, 31, tzinfo=UTC)


@pytest.fixture
async def api() -> AsyncIterator[FakeApi]:
    fake = FakeApi()
    yield fake
    await fake.aclose()


def by_project(key: WatchKey) -> RateGroup:
    """Each project its own account, labelled like a cloud."""
    label = "prod" if key.project_id == PROJECT else "team"
    return RateGroup(key.endpoint, account=label + "-account", label=label)


def make_poller(api: FakeApi, clock: FakeClock, **kwargs: object) -> Poller:
    return Poller(
        api.client_for,
        clock=clock,
        now=lambda: NOW,
        rng=random.Random(7),
        max_rps=1000.0,
        **kwargs,  # type: ignore[arg-type]
    )


# -- the decisions, on a fake clock ------------------------------------------------------------


async def test_a_throttled_account_does_not_pause_another_at_the_same_endpoint(
    api: FakeApi,
) -> None:
    clock = FakeClock()
    prod, team = key("a"), WatchKey(ENDPOINT, OTHER_PROJECT, "b")
    api.jobs["a"], api.jobs["b"] = job_body("a"), job_body("b")
    api.then("a", throttled(retry_after="30"))
    poller = make_poller(api, clock, rate_group=by_project, interval=1.0, max_interval=1.0)
    poller.set_watchlist([prod, team])

    first = {update.key: update for update in await poller.poll_due()}
    assert first[prod].error is not None and first[prod].error.kind is ErrorKind.THROTTLED
    assert first[team].job is not None
    states = {state.accounts: state for state in poller.endpoint_states()}
    assert set(states) == {("prod",), ("team",)}
    assert states[("prod",)].throttled and states[("prod",)].backoff_seconds == 30.0
    assert not states[("team",)].throttled and states[("team",)].throttle_count == 0
    assert {state.endpoint for state in states.values()} == {prod.endpoint}

    # For the 30 s prod is paused, team goes on at its interval.
    for _ in range(10):
        clock.advance(1.0)
        await poller.poll_due()
    assert api.counts["b"] == 11 and api.counts["a"] == 1
    assert poller.next_due_in(prod) == pytest.approx(20.0)
    assert poller.next_due_in(team) == pytest.approx(1.0)


async def test_without_accounts_the_endpoint_shares_one_rate_as_before(api: FakeApi) -> None:
    clock = FakeClock()
    prod, team = key("a"), WatchKey(ENDPOINT, OTHER_PROJECT, "b")
    api.jobs["a"], api.jobs["b"] = job_body("a"), job_body("b")
    api.then("a", throttled(retry_after="30"))
    poller = make_poller(api, clock, interval=1.0, max_interval=1.0, max_in_flight=1)
    poller.set_watchlist([prod, team])
    await poller.poll_due()
    for _ in range(10):
        clock.advance(1.0)
        await poller.poll_due()
    (state,) = poller.endpoint_states()
    assert state.accounts == () and state.name == prod.endpoint
    assert api.counts["b"] == 0 and poller.next_due_in(team) == pytest.approx(20.0)


async def test_two_clouds_of_one_account_share_its_rate_and_name_both(api: FakeApi) -> None:
    clock = FakeClock()
    prod, staging = key("a"), WatchKey(ENDPOINT, OTHER_PROJECT, "b")
    api.jobs["a"], api.jobs["b"] = job_body("a"), job_body("b")
    api.then("a", throttled(retry_after="30"))

    def one_account(key: WatchKey) -> RateGroup:
        label = "prod" if key.project_id == PROJECT else "staging"
        return RateGroup(key.endpoint, account="same-user", label=label)

    poller = make_poller(api, clock, rate_group=one_account, max_in_flight=1)
    poller.set_watchlist([prod, staging])
    await poller.poll_due()
    (state,) = poller.endpoint_states()
    assert state.accounts == ("prod", "staging") and state.throttled
    assert state.name == f"{prod.endpoint} · prod, staging"
    assert state.extra["watched"] == 2.0
    poller.remove([staging])
    assert poller.endpoint_states()[0].accounts == ("prod",)


async def test_a_rate_group_that_fails_falls_back_to_the_endpoint(api: FakeApi) -> None:
    api.jobs["a"] = job_body("a")

    def broken(_key: WatchKey) -> RateGroup:
        raise RuntimeError("boom")

    poller = make_poller(api, FakeClock(), rate_group=broken)
    poller.set_watchlist([key("a")])
    (update,) = await poller.poll_due()
    assert update.job is not None
    (state,) = poller.endpoint_states()
    assert state.endpoint == key("a").endpoint and state.accounts == ()


def test_throttle_text_names_the_account_when_accounts_are_told_apart() -> None:
    pushed = EndpointState(
        "https://ecs.example.test",
        request_rate=4.0,
        backoff_seconds=3.6,
        throttled=True,
        throttled_since=SINCE,
        throttle_count=3,
        accounts=("prod",),
    )
    clean = EndpointState("https://ecs.example.test", request_rate=10.0, accounts=("team",))
    assert rate_text([pushed, clean]).plain == (
        "14 req/s · throttled ×3 (prod) since 12:04:31, backing off 3s"
    )
    # One group: nothing to tell apart.
    assert rate_text([pushed]).plain == "4.0 req/s · throttled ×3 since 12:04:31, backing off 3s"
    # Several endpoints: the host too.
    elsewhere = EndpointState("https://ecs.eu-nl.example.test", accounts=("prod",))
    assert "(prod at ecs.example.test)" in rate_text([pushed, elsewhere]).plain
    # Two accounts at an unreachable endpoint: the reason once.
    down = [
        EndpointState("https://x", offline_reason="connection refused", accounts=(name,))
        for name in ("prod", "team")
    ]
    line = progress_line(Results([]), time.monotonic(), down).plain
    assert line.count("offline: connection refused") == 1


def test_each_connection_takes_its_own_accounts_state() -> None:
    endpoint = "https://ecs.example.test"
    groups = {("prod", endpoint, PROJECT): "prod", ("team", endpoint, OTHER_PROJECT): "team"}
    fetched = dict.fromkeys(groups, 1)
    states = [
        EndpointState(endpoint, throttled=True, accounts=("prod",)),
        EndpointState(endpoint, accounts=("team",)),
    ]
    found = connection_states(groups, {}, {}, fetched, states)
    assert [(s.label, s.state) for s in found] == [("prod", "throttled"), ("team", "ok")]
    # A poller that does not tell accounts apart: the endpoint's state is everyone's.
    shared = [EndpointState(endpoint, throttled=True)]
    found = connection_states(groups, {}, {}, fetched, shared)
    assert [s.state for s in found] == ["throttled", "throttled"]


# -- the connections' accounts -----------------------------------------------------------------


def test_connections_group_entries_by_the_account_they_are_sent_as(
    simulator_factory: Callable[..., Simulator],
) -> None:
    sim = simulator_factory(extra_projects=(STAGING,), extra_accounts=1)
    clouds = both_clouds(sim)
    write_clouds(clouds)
    staging_id = sim.accounts[0].projects[STAGING]
    team_project = sim.accounts[1].project_id
    entries = {
        e.key: e
        for e in (
            WatchEntry(WatchKey(sim.url, sim.project_id, "a" * 32), profile="prod"),
            WatchEntry(WatchKey(sim.url, staging_id, "b" * 32), profile="prod"),
            WatchEntry(WatchKey(sim.url, team_project, "c" * 32), profile="team"),
            WatchEntry(WatchKey(sim.url, team_project, "d" * 32), profile="gone"),
        )
    }
    connections = Connections(None, env={}, entry_for=entries.get)
    prod, staging, team, gone = (connections.rate_group(key) for key in entries)
    assert prod == staging  # one IAM user, two projects: one account
    assert prod != team and team != gone and prod != gone
    assert (prod.label, team.label, gone.label) == ("prod", "team", "gone")
    assert {prod.endpoint, team.endpoint} == {sim.url}
    # Only hashes: no user name, password, key or secret in the group.
    shown = repr([prod, team, gone])
    creds, team_creds = sim.credentials, sim.accounts[1].credentials
    for secret in (
        creds.username,
        creds.password,
        creds.user_domain_name,
        team_creds.access_key,
        team_creds.secret_key,
    ):
        assert secret not in shown
    assert sim.stats()["tokens_issued"] == 0  # finding the account opens nothing


# -- over a real socket --------------------------------------------------------------------------


def test_the_simulator_limits_each_account_on_its_own(
    simulator_factory: Callable[..., Simulator],
) -> None:
    sim = simulator_factory(rate_limit=3.0, extra_accounts=1)
    job = sim.create_servers(1)
    main, other = sim.accounts
    with httpx.Client() as http:

        def get(account_token: str, project: str) -> int:
            url = f"{sim.url}/v1/{project}/jobs/{job}"
            return http.get(url, headers={"X-Auth-Token": account_token}).status_code

        main_answers = [get(main.credentials.token, main.project_id) for _ in range(5)]
        other_answers = [get(other.credentials.token, other.project_id) for _ in range(3)]
    assert main_answers[:3] == [200] * 3 and 429 in main_answers[3:]
    # The other account's bucket is its own: full, though the first one's is empty.
    assert other_answers[0] == 404 or other_answers[0] == 200
    assert 429 not in other_answers
    flow = sim.stats()["rate_limit"]
    assert flow["by_account"][other.credentials.username] == {"served": 3, "limited": 0}
    assert flow["by_account"][main.credentials.username]["limited"] >= 1
    assert flow["served"] + flow["limited"] == 8


#: The simulated gateway's limit per account (requests/s).
LIMIT = 10.0
#: Account A wants far more than its limit; B a little under it.
A_JOBS, B_JOBS, INTERVAL = 30, 1, 0.25
WINDOW = 4.0


async def test_throttling_one_account_does_not_slow_another_over_a_real_socket(
    simulator_factory: Callable[..., Simulator],
) -> None:
    sim = simulator_factory(rate_limit=LIMIT, extra_accounts=1)
    write_clouds(both_clouds(sim))  # prod: IAM password; team: access key pair
    a_keys = [
        WatchKey(sim.url, sim.project_id, sim.create_servers(1, duration=(1e6, 1e6)))
        for _ in range(A_JOBS)
    ]
    b_keys = [
        WatchKey(sim.url, sim.accounts[1].project_id, sim.create_servers(1, duration=(1e6, 1e6)))
        for _ in range(B_JOBS)
    ]
    entries = {k: WatchEntry(k, profile="prod") for k in a_keys}
    entries.update({k: WatchEntry(k, profile="team") for k in b_keys})
    connections = Connections(None, env={}, entry_for=entries.get)
    poller = Poller(
        connections.client_for,
        rate_group=connections.rate_group,
        interval=INTERVAL,
        max_interval=INTERVAL,
        max_in_flight=8,
        max_rps=1000.0,
    )
    poller.set_watchlist([*a_keys, *b_keys])
    a_user, b_user = (account.credentials.username for account in sim.accounts)

    def limited(user: str) -> int:
        return sim.stats()["rate_limit"]["by_account"].get(user, {}).get("limited", 0)

    def b_requests() -> int:
        return sum(sim.request_count(k.job_id) for k in b_keys)

    runner = asyncio.create_task(poller.run())
    try:
        deadline = time.monotonic() + 60
        while limited(a_user) == 0:  # A meets its limit
            assert time.monotonic() < deadline, "account A was never throttled"
            await asyncio.sleep(0.05)
        b_before, started = b_requests(), time.monotonic()
        await asyncio.sleep(WINDOW)
        b_during, elapsed = b_requests() - b_before, time.monotonic() - started
        states = {state.accounts: state for state in poller.endpoint_states()}
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await poller.aclose()
        await connections.aclose()

    assert set(states) == {("prod",), ("team",)}
    a_state, b_state = states[("prod",)], states[("team",)]
    # A was pushed back and slowed to its limit ...
    assert a_state.extra["throttled_total"] >= 1 and a_state.allowed_rate < 1000.0
    # ... while B, at the same endpoint, was never throttled nor slowed by A: it kept
    # its interval (a rate shared with A would have given it a thirtieth of A's limit).
    assert limited(b_user) == 0
    assert b_state.extra["throttled_total"] == 0 and b_state.allowed_rate == 1000.0
    wanted = B_JOBS * elapsed / INTERVAL
    assert b_during >= 0.5 * wanted, (b_during, wanted)
