"""The bodies the simulated cloud answers with, in the shapes the real services use."""

from __future__ import annotations

import json
from typing import Any

from jobdash.simulator.http import Response

AUTH_PREFIX = "Incorrect IAM authentication information: "
_MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><h1>Service Temporarily Unavailable</h1>"
    "<p>The server is temporarily unable to service your request. Please try again later.</p>"
    "<hr><address>gateway</address></body></html>\n"
)


def json_response(status: int, body: Any) -> Response:
    return Response(status, json.dumps(body).encode())


def apigw_error(status: int, code: str, message: str, request_id: str) -> Response:
    """The API gateway's own shape: `{"error_code", "error_msg", "request_id"}`."""
    return json_response(
        status, {"error_code": code, "error_msg": message, "request_id": request_id}
    )


def unauthorized(problem: str, request_id: str) -> Response:
    return apigw_error(401, "APIGW.0301", AUTH_PREFIX + problem, request_id)


def project_mismatch() -> Response:
    return json_response(
        403,
        {
            "error": {
                "code": "Ecs.0023",
                "message": "project_id in token mismatches with project_id in url.",
            }
        },
    )


def keystone_error(status: int, message: str, title: str) -> Response:
    return json_response(status, {"error": {"code": status, "message": message, "title": title}})


def unknown_api(request_id: str) -> Response:
    return apigw_error(
        404,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
        request_id,
    )


def method_not_allowed(allowed: str) -> Response:
    response = json_response(
        405, {"error": {"code": "Common.0405", "message": "Method not allowed."}}
    )
    response.headers.append(("Allow", allowed))
    return response


def bad_parameter(code: str, message: str) -> Response:
    return json_response(400, {"error": {"code": code, "message": message}})


def job_not_found(job_id: str, style: str) -> Response:
    status = 400 if style == "400" else 404
    # The id is echoed as data only; the client never interprets it.
    message = f"Failed to query system tasks. job_id: {job_id[:64]}"
    return json_response(status, {"error": {"code": "Common.0011", "message": message}})


def server_not_found(server_id: str) -> Response:
    """What the server details call answers for a server that does not exist (any more)."""
    return json_response(
        404,
        {"itemNotFound": {"message": f"Instance {server_id} could not be found.", "code": 404}},
    )


def resource_not_found(service: str, resource_id: str) -> Response:
    """What a service answers for a volume, image, node or cluster that does not exist."""
    shown = resource_id[:64]  # echoed as data only
    if service == "cce":
        return json_response(
            404, {"errorCode": "CCE.01404001", "errorMessage": f"Resource not found: {shown}"}
        )
    if service == "ims":
        return json_response(
            404, {"error": {"code": "IMG.0027", "message": f"Image {shown} not found."}}
        )
    return json_response(
        404, {"itemNotFound": {"message": f"Volume {shown} could not be found.", "code": 404}}
    )


def throttled(as_202: bool, retry_after: float | None) -> Response:
    if as_202:
        # The job API's own top-level `code`/`message` fields, with a success status.
        response = json_response(202, {"code": "Common.0024", "message": "Flow limit exceeded."})
    else:
        response = json_response(
            429,
            {
                "error": {
                    "code": "Common.1503",
                    "message": "Api flow control Error because the request rate is too high.",
                }
            },
        )
    if retry_after is not None:
        response.headers.append(("Retry-After", f"{retry_after:g}"))
    return response


def server_error(status: int) -> Response:
    return json_response(
        status,
        {
            "error": {
                "code": "Common.0001",
                "message": "A system exception occurred. Try again later or contact customer service.",
            }
        },
    )


def broken_body(kind: str, job_id: str, body: str | None) -> Response:
    """200 answers whose body is not a job: truncated JSON, an HTML page, a JSON array."""
    if kind == "html":
        return Response(200, _MAINTENANCE_PAGE.encode(), content_type="text/html; charset=utf-8")
    if kind == "wrong_shape":
        return json_response(200, [{"job_id": job_id, "status": "RUNNING"}])
    text = body or json.dumps({"status": "RUNNING", "job_id": job_id, "entities": {}})
    # Cut inside the JSON so it can never parse, as a reset mid-transfer would leave it.
    return Response(200, text[: max(1, len(text) // 2)].encode())


def server_ids(servers: Any) -> list[str]:
    """The ids out of `[{"id": ...}, ...]`; ValueError when the list is unusable."""
    if not isinstance(servers, list) or not servers:
        raise ValueError("servers must be a non-empty list of {'id': ...}")
    ids = []
    for item in servers:
        value = item.get("id") if isinstance(item, dict) else None
        if not isinstance(value, str) or not value:
            raise ValueError("every server needs a non-empty string id")
        ids.append(value)
    return ids


def service_job_not_found(service: str, job_id: str, request_id: str) -> Response:
    """What a service's job API answers for a job id it does not know, in its own shape."""
    shown = job_id[:64]  # echoed as data only
    if service == "evs":
        return json_response(400, {"error": {"code": "Common.0011", "message": "query job fail."}})
    if service in ("rds", "dds"):
        return json_response(
            400, {"error_code": "DBS.200543", "error_msg": "The job does not exist."}
        )
    if service == "cce":
        return json_response(
            404,
            {"errorCode": "CCE.01404001", "errorMessage": f"Resource not found: job {shown}"},
        )
    if service == "dcs":
        return json_response(
            400, {"error_code": "DCS.4070", "error_msg": "Invalid job ID.", "error_ext_msg": None}
        )
    if service == "cbr":
        return json_response(
            404, {"error_code": "BackupService.6500", "error_msg": "Operation log does not exist."}
        )
    if service == "sfs_turbo":
        return json_response(404, {"errCode": "SFS.TURBO.0019", "errMsg": "Invalid Job Id"})
    if service == "elb":
        return json_response(
            404,
            {
                "request_id": request_id,
                "error_code": "ELB.8904",
                "error_msg": f"Job {shown} could not be found.",
            },
        )
    raise ValueError(f"no not-found answer for {service!r}")


def service_bad_query(service: str, message: str) -> Response:
    """A list or query call with an unusable parameter, in the service's error shape."""
    if service in ("rds", "dds"):
        return json_response(400, {"error_code": "DBS.200001", "error_msg": message})
    if service == "cbr":
        return json_response(400, {"error_code": "BackupService.0001", "error_msg": message})
    if service == "elb":
        return json_response(400, {"error_code": "ELB.8001", "error_msg": message})
    return bad_parameter("Common.0002", message)
