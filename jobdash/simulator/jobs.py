"""Simulated ECS jobs: planned up front from a seeded random stream, rendered at any moment.

A job is a pure function of the simulated time: its plan fixes when the parent
leaves INIT, when each sub-job starts and ends and how. Rendering never draws
random numbers, so polling more or less often changes nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from jobdash.simulator.clock import format_api_time
from jobdash.simulator.config import FIRST_REGION, hex_id, region_purpose, seeded_random
from jobdash.simulator.failures import Failure, draw_failure

#: Draws the failure of one sub-job: (rng, operation, resource id, sub-job id) -> Failure.
FailureDraw = Callable[[random.Random, str, str, str], Failure]

MAX_SUB_JOBS = 500
DEFAULT_DURATION = (20.0, 90.0)

#: Batch action name in the request body -> (job type, sub-job type, operation text).
ACTION_TYPES = {
    "os-start": ("batchStartServer", "startServer", "start server"),
    "os-stop": ("batchStopServer", "stopServer", "stop server"),
    "reboot": ("batchRebootServer", "rebootServer", "reboot server"),
}
CREATE_TYPES = ("createServer", "createSingleServer", "create server")
DELETE_TYPES = ("deleteServer", "deleteSingleServer", "delete server")


def phase(now_ms: int, running_ms: int, end_ms: int, *, failed: bool) -> str:
    """INIT until `running_ms`, RUNNING until `end_ms`, then how it ended."""
    if now_ms < running_ms:
        return "INIT"
    if now_ms < end_ms:
        return "RUNNING"
    return "FAIL" if failed else "SUCCESS"


@dataclass(frozen=True, slots=True)
class SubJobPlan:
    job_id: str
    job_type: str
    server_id: str
    begin_ms: int  # listed from here on, INIT
    start_ms: int  # RUNNING from here on
    end_ms: int  # SUCCESS or FAIL from here on
    failure: Failure | None

    def status(self, now_ms: int) -> str:
        return phase(now_ms, self.start_ms, self.end_ms, failed=self.failure is not None)

    def render(self, now_ms: int) -> dict[str, Any]:
        status = self.status(now_ms)
        entities: dict[str, Any] = {"server_id": self.server_id}
        if status == "FAIL" and self.failure is not None:
            entities["errorcode_message"] = self.failure.errorcode_message
        return job_body(self, status, entities, now_ms)


@dataclass(frozen=True, slots=True)
class JobPlan:
    job_id: str
    job_type: str
    begin_ms: int
    running_ms: int
    end_ms: int
    sub_jobs: tuple[SubJobPlan, ...]
    failure: Failure | None  # the first sub-job failure, reported by the parent at the end

    def status(self, now_ms: int) -> str:
        return phase(now_ms, self.running_ms, self.end_ms, failed=self.failure is not None)

    def render(self, now_ms: int) -> dict[str, Any]:
        status = self.status(now_ms)
        entities: dict[str, Any] = {"sub_jobs_total": len(self.sub_jobs)}
        if status != "INIT":
            entities["sub_jobs"] = [sub.render(now_ms) for sub in self.sub_jobs]
        return job_body(self, status, entities, now_ms)


def job_body(
    plan: JobPlan | SubJobPlan, status: str, entities: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    """The API's shape of a job or sub-job, as `GET .../jobs/{job_id}` answers it."""
    failure = plan.failure if status == "FAIL" else None
    return {
        "status": status,
        "entities": entities,
        "job_id": plan.job_id,
        "job_type": plan.job_type,
        "begin_time": format_api_time(plan.begin_ms),
        "end_time": format_api_time(plan.end_ms) if now_ms >= plan.end_ms else "",
        "error_code": failure.error_code if failure else None,
        "fail_reason": failure.fail_reason if failure else None,
    }


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


class JobBook:
    """All jobs of one simulator. Not thread-safe: the caller holds a lock."""

    def __init__(
        self,
        *,
        seed: int,
        fail_rate: float,
        purge_after: float,
        stream: str = "",
        uuid_ids: bool = False,
        draw: FailureDraw | None = None,
        region: str = FIRST_REGION,
    ) -> None:
        # Another service's book draws from streams of its own, so ECS jobs stay the same
        # for a seed whatever else is created.
        suffix = f":{stream}" if stream else ""
        self._ids = seeded_random(region_purpose("ids" + suffix, region), seed)
        self._plans = seeded_random(region_purpose("plans" + suffix, region), seed)
        self._uuid_ids = uuid_ids
        self._draw = draw
        self._fail_rate = fail_rate
        self._purge_after_ms = _ms(purge_after)
        self._jobs: dict[str, JobPlan] = {}
        self._sub_jobs: dict[str, tuple[JobPlan, int]] = {}
        self._raw: dict[str, str] = {}

    def new_job_id(self) -> str:
        # ECS job ids are 32 lowercase hex characters; some services use UUIDs.
        return self.new_server_id() if self._uuid_ids else hex_id(self._ids)

    def new_server_id(self) -> str:
        value = hex_id(self._ids)
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"

    def create(
        self,
        types: tuple[str, str, str],
        server_ids: Sequence[str],
        now_ms: int,
        *,
        fail_count: int | None = None,
        duration: tuple[float, float] = DEFAULT_DURATION,
    ) -> JobPlan:
        """Plan a job with one sub-job per server, starting now."""
        job_type, sub_type, operation = types
        count = len(server_ids)
        if not 1 <= count <= MAX_SUB_JOBS:
            raise ValueError(f"a job needs 1 to {MAX_SUB_JOBS} servers, got {count}")
        low, high = (float(duration[0]), float(duration[1]))
        if not 0 <= low <= high:
            raise ValueError("duration must be (low, high) with 0 <= low <= high")
        if fail_count is not None and not 0 <= fail_count <= count:
            raise ValueError(f"fail_count must be between 0 and {count}")
        job_id = self.new_job_id()
        sub_ids = [self.new_job_id() for _ in range(count)]
        rng = self._plans
        if fail_count is None:
            failing = {i for i in range(count) if rng.random() < self._fail_rate}
        else:
            failing = set(rng.sample(range(count), fail_count))
        running_ms = now_ms + _ms(rng.uniform(1.0, 3.0))
        subs: list[SubJobPlan] = []
        for index, (sub_id, server_id) in enumerate(zip(sub_ids, server_ids, strict=True)):
            start_ms = running_ms + _ms(rng.uniform(0.5, 6.0))
            run_s = rng.uniform(low, high)
            failure = None
            if index in failing:
                # Failures tend to surface before a successful run would have finished.
                run_s *= rng.uniform(0.3, 1.0)
                if self._draw is not None:
                    failure = self._draw(rng, operation, server_id, sub_id)
                else:
                    failure = draw_failure(
                        rng, operation=operation, resource_id=server_id, job_id=sub_id
                    )
            subs.append(
                SubJobPlan(
                    job_id=sub_id,
                    job_type=sub_type,
                    server_id=server_id,
                    begin_ms=running_ms,
                    start_ms=start_ms,
                    end_ms=start_ms + _ms(run_s),
                    failure=failure,
                )
            )
        end_ms = max(sub.end_ms for sub in subs) + _ms(rng.uniform(0.5, 2.0))
        failed = sorted(
            (sub.end_ms, index, sub.failure)
            for index, sub in enumerate(subs)
            if sub.failure is not None
        )
        plan = JobPlan(
            job_id=job_id,
            job_type=job_type,
            begin_ms=now_ms,
            running_ms=running_ms,
            end_ms=end_ms,
            sub_jobs=tuple(subs),
            failure=failed[0][2] if failed else None,
        )
        self._forget_purged(now_ms)
        self._jobs[job_id] = plan
        for index, sub in enumerate(subs):
            self._sub_jobs[sub.job_id] = (plan, index)
        return plan

    def put_raw(self, body: dict[str, Any]) -> str:
        """Serve `body` verbatim for its `job_id` from now on."""
        job_id = body.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            raise ValueError("the body needs a non-empty string job_id")
        text = json.dumps(body, ensure_ascii=False)
        if not text.isascii() and not _encodable(text):
            # Lone surrogates go out as `\udc00` escapes, as a backend cutting UTF-16 sends them.
            text = json.dumps(body)
        self._raw[job_id] = text
        return job_id

    def render(self, job_id: str, now_ms: int) -> str | None:
        """The JSON body for `job_id` at `now_ms`, or None if unknown or purged."""
        raw = self._raw.get(job_id)
        if raw is not None:
            return raw
        plan = self._jobs.get(job_id)
        if plan is not None:
            if self._purged(plan, now_ms):
                return None
            return json.dumps(plan.render(now_ms))
        found = self._sub_jobs.get(job_id)
        if found is not None:
            parent, index = found
            if self._purged(parent, now_ms):
                return None
            return json.dumps(parent.sub_jobs[index].render(now_ms))
        return None

    def plan(self, job_id: str, now_ms: int) -> tuple[JobPlan, int | None] | None:
        """The plan behind `job_id` and, for a sub-job, its index; None if unknown or purged."""
        plan = self._jobs.get(job_id)
        index: int | None = None
        if plan is None:
            found = self._sub_jobs.get(job_id)
            if found is None:
                return None
            plan, index = found
        return None if self._purged(plan, now_ms) else (plan, index)

    def plans(self, now_ms: int) -> Iterator[JobPlan]:
        """Every parent job not purged yet, oldest first."""
        return (plan for plan in self._jobs.values() if not self._purged(plan, now_ms))

    def __len__(self) -> int:
        return len(self._jobs) + len(self._raw)

    def _purged(self, plan: JobPlan, now_ms: int) -> bool:
        return now_ms >= plan.end_ms + self._purge_after_ms

    def _forget_purged(self, now_ms: int) -> None:
        gone = [job_id for job_id, plan in self._jobs.items() if self._purged(plan, now_ms)]
        for job_id in gone:
            plan = self._jobs.pop(job_id)
            for sub in plan.sub_jobs:
                self._sub_jobs.pop(sub.job_id, None)


def sim_options(value: Any) -> tuple[int | None, tuple[float, float]]:
    """The optional `"_sim": {"fail_count", "duration": [low, high]}` of a create request."""
    if value is None:
        return None, DEFAULT_DURATION
    if not isinstance(value, dict):
        raise ValueError("_sim must be an object")
    fail_count = value.get("fail_count")
    if fail_count is not None and (not isinstance(fail_count, int) or isinstance(fail_count, bool)):
        raise ValueError("_sim.fail_count must be an integer")
    duration = value.get("duration", DEFAULT_DURATION)
    if not isinstance(duration, list | tuple) or len(duration) != 2:
        raise ValueError("_sim.duration must be [low, high] in seconds")
    return fail_count, (float(duration[0]), float(duration[1]))
