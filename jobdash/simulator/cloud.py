"""The simulated cloud's state and its Python API: jobs, servers, tokens, faults, counters.

All state sits behind one lock, so the public methods may be called from any thread while
the server loop answers requests (`jobdash.simulator.app`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from jobdash.simulator.clock import SimClock, format_api_time
from jobdash.simulator.config import SimulatorConfig, make_accounts
from jobdash.simulator.faults import FaultBook, make_fault
from jobdash.simulator.flow import FlowLimit
from jobdash.simulator.iam import TokenBook
from jobdash.simulator.jobs import (
    ACTION_TYPES,
    CREATE_TYPES,
    DEFAULT_DURATION,
    DELETE_TYPES,
    JobBook,
    JobPlan,
)
from jobdash.simulator.servers import ServerBook
from jobdash.simulator.service_jobs import ServiceJobBook


class SimulatedCloud:
    """The jobs, servers, tokens and faults of the simulated cloud, and its Python API.

    `SimulatorApp` adds the HTTP side; tests and tooling call these methods through `Simulator`.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.clock = SimClock(
            start=config.start_time, speed=config.speed, manual=config.manual_clock
        )
        self.region = config.region
        #: Every account; the first is the main one (`credentials`, `project_id`).
        self.accounts = make_accounts(config)
        self.project_id = self.accounts[0].project_id
        self.credentials = self.accounts[0].credentials
        self.base_url = f"http://{config.host}:{config.port}"
        #: Connection figures from the HTTP server, merged into stats().
        self.connection_stats: Callable[[], dict[str, int]] = dict
        self._lock = threading.RLock()
        # Each region's job and server ids are its own, as in a cloud.
        self._jobs = JobBook(
            seed=config.seed,
            fail_rate=config.fail_rate,
            purge_after=config.purge_after,
            region=config.region,
        )
        self._servers = ServerBook()
        #: The jobs of EVS, BMS, IMS, VBS, CCE, RDS, DDS, DCS, CBR, SFS Turbo and ELB.
        self._services = ServiceJobBook(
            seed=config.seed,
            fail_rate=config.fail_rate,
            purge_after=config.purge_after,
            region=config.region,
        )
        self._faults = FaultBook()
        #: The gateway's flow control, a bucket per account (by user name; "" for
        #: requests it cannot tell the caller of), as the cloud limits each account.
        self._flows: dict[str, FlowLimit] = {}
        self._account_of_project = {
            project_id: account.credentials.username
            for account in self.accounts
            for project_id in account.projects.values()
        }
        self._account_of_key = {
            account.credentials.access_key: account.credentials.username
            for account in self.accounts
        }
        self._tokens = TokenBook(
            seed=config.seed,
            ttl=config.token_ttl,
            static_tokens={a.credentials.token: a.project_id for a in self.accounts},
        )
        self._by_route: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._job_gets: Counter[str] = Counter()
        self._server_gets: Counter[str] = Counter()
        self._requests = 0

    # -- the Python API ---------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> datetime:
        return self.clock.advance(seconds)

    def create_servers(
        self,
        count: int,
        name: str = "web",
        *,
        fail_count: int | None = None,
        duration: tuple[float, float] = DEFAULT_DURATION,
    ) -> str:
        return self._create_servers(count, name, fail_count=fail_count, duration=duration).job_id

    def batch_action(
        self,
        action: str,
        server_ids: Sequence[str],
        *,
        fail_count: int | None = None,
        duration: tuple[float, float] = DEFAULT_DURATION,
    ) -> str:
        if action not in ACTION_TYPES:
            raise ValueError(f"unknown action {action!r}; expected one of {sorted(ACTION_TYPES)}")
        with self._lock:
            plan = self._jobs.create(
                ACTION_TYPES[action],
                list(server_ids),
                self.clock.now_ms(),
                fail_count=fail_count,
                duration=duration,
            )
            self._servers.acted_on(plan.sub_jobs)
        return plan.job_id

    def delete_servers(
        self,
        server_ids: Sequence[str],
        *,
        fail_count: int | None = None,
        duration: tuple[float, float] = DEFAULT_DURATION,
    ) -> str:
        with self._lock:
            plan = self._jobs.create(
                DELETE_TYPES,
                list(server_ids),
                self.clock.now_ms(),
                fail_count=fail_count,
                duration=duration,
            )
            self._servers.acted_on(plan.sub_jobs)
        return plan.job_id

    def create_service_job(
        self,
        service: str,
        count: int = 1,
        *,
        kind: str | None = None,
        name: str | None = None,
        fail_count: int | None = None,
        duration: tuple[float, float] = DEFAULT_DURATION,
        project_id: str | None = None,
        resource_ids: list[str] | None = None,
    ) -> str:
        """Start a job of `service` (`jobdash.simulator.service_jobs.SERVICES`) acting on
        `count` new resources (or on `resource_ids`, one per resource); its id, as that
        service's job API knows it."""
        with self._lock:
            job = self._services.create(
                service,
                count,
                self.clock.now_ms(),
                project_id=project_id or self.project_id,
                kind=kind,
                name=name,
                fail_count=fail_count,
                duration=duration,
                created_by="python",
                resource_ids=resource_ids,
            )
        return job.plan.job_id

    def put_job(self, body: dict[str, Any]) -> str:
        with self._lock:
            return self._jobs.put_raw(body)

    def inject(
        self,
        fault: str,
        *,
        count: int | None = 1,
        job_id: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        latency_ms: float | None = None,
    ) -> None:
        made = make_fault(
            fault,
            count=count,
            job_id=job_id,
            status=status,
            retry_after=retry_after,
            latency_ms=latency_ms,
        )
        with self._lock:
            if made.kind == "expire_tokens":
                self._tokens.expire_all()
            else:
                self._faults.add(made)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def request_count(self, job_id: str | None = None) -> int:
        with self._lock:
            if job_id is None:
                return sum(self._job_gets.values())
            return self._job_gets[job_id]

    def server_request_count(self, server_id: str | None = None) -> int:
        """How often the server details call was made (for `server_id`, or for any)."""
        with self._lock:
            if server_id is None:
                return sum(self._server_gets.values())
            return self._server_gets[server_id]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            stats: dict[str, Any] = {
                "requests": self._requests,
                "job_gets": sum(self._job_gets.values()),
                "server_gets": sum(self._server_gets.values()),
                "by_route": dict(self._by_route),
                "by_status": dict(self._by_status),
                "tokens_issued": self._tokens.issued,
                "tokens_issued_by_project": self._tokens.issued_by_project(),
                "jobs": len(self._jobs),
                "service_jobs": len(self._services),
                "faults_pending": self._faults.pending(),
                "now": format_api_time(self.clock.now_ms()),
            }
            if self.config.rate_limit is not None:
                flows = self._flows.values()
                stats["rate_limit"] = {
                    "rate": self.config.rate_limit,
                    "answer": self.config.rate_limit_answer,
                    "served": sum(flow.served for flow in flows),
                    "limited": sum(flow.limited for flow in flows),
                    "by_account": {
                        name: {"served": flow.served, "limited": flow.limited}
                        for name, flow in self._flows.items()
                    },
                }
        stats.update(self.connection_stats())
        return stats

    def _create_servers(
        self,
        count: int,
        name: str = "ecs",
        *,
        fail_count: int | None,
        duration: tuple[float, float],
        flavor: str | None = None,
    ) -> JobPlan:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        with self._lock:
            server_ids = [self._jobs.new_server_id() for _ in range(count)]
            plan = self._jobs.create(
                CREATE_TYPES,
                server_ids,
                self.clock.now_ms(),
                fail_count=fail_count,
                duration=duration,
            )
            self._servers.created(plan.sub_jobs, name, flavor)
            return plan

    def _flow_for(self, account: str) -> FlowLimit | None:
        """The flow control bucket of `account` (caller holds the lock); None: no limit."""
        if self.config.rate_limit is None:
            return None
        flow = self._flows.get(account)
        if flow is None:
            flow = self._flows[account] = FlowLimit(
                self.config.rate_limit, answer=self.config.rate_limit_answer
            )
        return flow

    def pending_faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._faults.pending()
