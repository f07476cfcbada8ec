"""Fixed job bodies for the dashboard tests: every status, failures, odd text. No timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobdash.api.errors import NetworkError
from jobdash.api.model import parse_job
from jobdash.api.server import ServerInfo, parse_server
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

#: The frozen "now" of the dashboard in these tests.
FROZEN = datetime(2026, 3, 2, 9, 45, 0, tzinfo=UTC)
ENDPOINT = "https://ecs.eu-de.otc.t-systems.com"
PROJECT = "5d3a6f1c2b8e4e0f9a7b6c5d4e3f2a1b"

BATCH_ID = "ff80808288d41e1b0188d5a3c4e20001"
STOP_ID = "ff80808288d41e1b0188d5a3c4e20002"
DELETE_ID = "ff80808288d41e1b0188d5a3c4e20003"
EXPIRED_ID = "ff80808288d41e1b0188d5a3c4e20004"
UNREACHABLE_ID = "ff80808288d41e1b0188d5a3c4e20005"
WAITING_ID = "ff80808288d41e1b0188d5a3c4e20006"
SINGLE_ID = "ff80808288d41e1b0188d5a3c4e20007"
MARKUP_REASON = "[bold red]boom[/] \x1b[2J"


def api_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def at(minutes: float) -> datetime:
    """`minutes` before the frozen now."""
    return FROZEN - timedelta(minutes=minutes)


FAILURES = {
    3: ("Ecs.0319", "Insufficient resources for flavor s3.xlarge.2 in eu-de-01."),
    11: ("Ecs.0319", "Insufficient resources for flavor s3.xlarge.2 in eu-de-01."),
    16: ("Ecs.0021", "Insufficient EVS disk quota."),
}


def sub_job(
    job_id: str,
    index: int,
    status: str,
    *,
    begin: datetime | None,
    end: datetime | None,
    job_type: str = "createSingleServer",
    code: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    entities: dict[str, Any] = {"server_id": f"{index:02d}c0ffee-5e4f-4a3b-9c2d-1e0f{index:08d}"}
    if reason:
        entities["errorcode_message"] = reason
    return {
        "status": status,
        "entities": entities,
        "job_id": f"{job_id[:-6]}{job_id[-2:]}{index:04d}",
        "job_type": job_type,
        "begin_time": api_time(begin),
        "end_time": api_time(end),
        "error_code": code,
        "fail_reason": reason,
    }


def batch_body() -> dict[str, Any]:
    """createServer x20, still running: 14 ended (12 ok, 2 failed), 6 running."""
    subs = []
    for i in range(20):
        begin = at(12 - i * 0.1)
        if i >= 14:
            subs.append(sub_job(BATCH_ID, i, "RUNNING", begin=begin, end=None))
        elif i in FAILURES and i != 16:
            code, reason = FAILURES[i]
            subs.append(
                sub_job(
                    BATCH_ID, i, "FAIL", begin=begin, end=at(10 - i * 0.2), code=code, reason=reason
                )
            )
        else:
            subs.append(sub_job(BATCH_ID, i, "SUCCESS", begin=begin, end=at(9 - i * 0.3)))
    return {
        "status": "RUNNING",
        "entities": {"sub_jobs_total": 20, "sub_jobs": subs},
        "job_id": BATCH_ID,
        "job_type": "createServer",
        "begin_time": api_time(at(12)),
        "end_time": "",
        "error_code": None,
        "fail_reason": None,
    }


def stop_body(
    reason: str = "Ecs.0603: the server is locked by another operation.",
) -> dict[str, Any]:
    subs = [
        sub_job(STOP_ID, 0, "SUCCESS", begin=at(30), end=at(29), job_type="stopServer"),
        sub_job(
            STOP_ID,
            1,
            "FAIL",
            begin=at(30),
            end=at(29.5),
            job_type="stopServer",
            code="Ecs.0603",
            reason=reason,
        ),
        sub_job(STOP_ID, 2, "SUCCESS", begin=at(30), end=at(28.7), job_type="stopServer"),
    ]
    return {
        "status": "FAIL",
        "entities": {"sub_jobs_total": 3, "sub_jobs": subs},
        "job_id": STOP_ID,
        "job_type": "batchStopServer",
        "begin_time": api_time(at(30)),
        "end_time": api_time(at(28.7)),
        "error_code": "Ecs.0603",
        "fail_reason": reason,
    }


def delete_body() -> dict[str, Any]:
    subs = [
        sub_job(DELETE_ID, i, "SUCCESS", begin=at(40), end=at(39), job_type="deleteSingleServer")
        for i in range(2)
    ]
    return {
        "status": "SUCCESS",
        "entities": {"sub_jobs_total": 2, "sub_jobs": subs},
        "job_id": DELETE_ID,
        "job_type": "deleteServer",
        "begin_time": api_time(at(40)),
        "end_time": api_time(at(39)),
        "error_code": None,
        "fail_reason": None,
    }


def single_body() -> dict[str, Any]:
    return {
        "status": "INIT",
        "entities": {"server_id": "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b"},
        "job_id": SINGLE_ID,
        "job_type": "attachVolume",
        "begin_time": api_time(at(0.5)),
        "end_time": None,
    }


def expired_body() -> dict[str, Any]:
    body = delete_body()
    body["job_id"] = EXPIRED_ID
    body["begin_time"] = api_time(at(26 * 60))
    body["end_time"] = api_time(at(26 * 60 - 2))
    return body


def fill_store(store: Store, *, markup_reason: bool = False) -> list[WatchKey]:
    """Watch seven jobs covering every state; returns their keys in watchlist order."""
    labels = {
        BATCH_ID: "web tier",
        STOP_ID: "stop workers",
        DELETE_ID: None,
        EXPIRED_ID: "yesterday",
        UNREACHABLE_ID: None,
        WAITING_ID: "just added",
        SINGLE_ID: None,
    }
    keys = [WatchKey(ENDPOINT, PROJECT, job_id) for job_id in labels]
    store.add(
        WatchEntry(key, labels[key.job_id], added_at=at(60 - i)) for i, key in enumerate(keys)
    )
    by_id = {key.job_id: key for key in keys}
    fetched = FROZEN - timedelta(seconds=4)
    stop = stop_body(MARKUP_REASON) if markup_reason else stop_body()
    for body in (batch_body(), stop, delete_body(), single_body()):
        store.record(PollUpdate(by_id[body["job_id"]], fetched, job=parse_job(body)))
    expired_key = by_id[EXPIRED_ID]
    store.record(PollUpdate(expired_key, at(24 * 60), job=parse_job(expired_body())))
    store.record(PollUpdate(expired_key, fetched, job=parse_job(expired_body()), expired=True))
    store.record(
        PollUpdate(
            by_id[UNREACHABLE_ID],
            fetched,
            error=NetworkError("cannot connect to ecs.eu-de.otc.t-systems.com: connection refused"),
        )
    )
    for info in sample_servers():
        store.record_server(info)
    fill_history(store)
    return keys


def sample_servers() -> list[ServerInfo]:
    """The servers behind the batch's failures: one in ERROR with a fault, one gone."""
    subs = batch_body()["entities"]["sub_jobs"]
    fetched = FROZEN - timedelta(seconds=30)
    broken = subs[3]
    server = parse_server(
        {
            "server": {
                "id": broken["entities"]["server_id"],
                "name": "web-0004",
                "status": "ERROR",
                "OS-EXT-STS:vm_state": "error",
                "OS-EXT-STS:task_state": None,
                "fault": {
                    "code": 500,
                    "message": "No valid host was found. There are not enough hosts available.",
                    "created": api_time(at(10.6)),
                },
                "flavor": {"id": "s3.xlarge.2", "name": "s3.xlarge.2"},
                "created": "2026-03-02T09:33:00Z",
                "updated": "2026-03-02T09:34:24Z",
            }
        },
        broken["entities"]["server_id"],
    )
    gone = subs[11]["entities"]["server_id"]
    return [
        ServerInfo(ENDPOINT, PROJECT, server.server_id, fetched, server, False, broken["job_id"]),
        ServerInfo(ENDPOINT, PROJECT, gone, fetched, None, True, subs[11]["job_id"]),
    ]


HISTORY_MINUTES = (14.0, 15.0, 16.0, 16.5, 18.0)


def fill_history(store: Store) -> None:
    """Batches watched (and removed) before: five createServer x20 jobs that took 14 to 18
    minutes, so the running batch gets an estimate."""
    for n, minutes in enumerate(HISTORY_MINUTES):
        job_id = f"ee80808288d41e1b0188d5a3c4e3{n:04d}"
        key = WatchKey(ENDPOINT, PROJECT, job_id)
        begin = at(24 * 60 + n * 60)
        end = begin + timedelta(minutes=minutes)
        # Most servers come up within the first two thirds; the last one straggles.
        ends = [begin + timedelta(minutes=minutes * (0.3 + 0.02 * i)) for i in range(19)]
        ends.append(end)
        subs = [
            sub_job(job_id, i, "SUCCESS", begin=begin, end=ended) for i, ended in enumerate(ends)
        ]
        body = {
            "status": "SUCCESS",
            "entities": {"sub_jobs_total": 20, "sub_jobs": subs},
            "job_id": job_id,
            "job_type": "createServer",
            "begin_time": api_time(begin),
            "end_time": api_time(end),
        }
        store.add([WatchEntry(key)])
        store.record(PollUpdate(key, end, job=parse_job(body)))
        store.remove([key])
