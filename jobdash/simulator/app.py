"""The simulated cloud over HTTP: routes, authentication and the answers faults make.

The state and the Python API are `SimulatedCloud`'s (`jobdash.simulator.cloud`); every
request is answered from it under its lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable
from urllib.parse import unquote

import jobdash.simulator.responses as r
from jobdash.auth.aksk import parse_sdk_authorization
from jobdash.simulator.cloud import SimulatedCloud
from jobdash.simulator.control import CONTROL_PREFIX, control_response
from jobdash.simulator.faults import Fault
from jobdash.simulator.http import Request, Response
from jobdash.simulator.iam import Identity, password_auth, token_body, verify_aksk
from jobdash.simulator.jobs import ACTION_TYPES, sim_options
from jobdash.simulator.resources import (
    ResourceRoute,
    match_resource,
    owner_project,
    resource_body,
)
from jobdash.simulator.service_api import SHARED_V1, JobRoute, job_body, list_body, match_route
from jobdash.simulator.service_bodies import render

_JOB = re.compile(r"/v1/([^/]+)/jobs/([^/]+)")
_CREATE = re.compile(r"/v1(?:\.1)?/([^/]+)/cloudservers")
_DELETE = re.compile(r"/v1/([^/]+)/cloudservers/delete")
_ACTION = re.compile(r"/v1/([^/]+)/cloudservers/action")
_SERVER = re.compile(r"/v1/([^/]+)/cloudservers/([^/]+)")


class SimulatorApp(SimulatedCloud):
    """`SimulatedCloud` answering HTTP requests: IAM tokens, jobs, servers, control."""

    async def handle(self, request: Request) -> Response | None:
        with self._lock:
            self._requests += 1
            request_id = hashlib.sha256(
                f"{self.config.seed}:{self._requests}".encode()
            ).hexdigest()[:32]
        route, response = await self._dispatch(request, request_id)
        with self._lock:
            self._by_route[route] += 1
            self._by_status["dropped" if response is None else str(response.status)] += 1
        if response is not None:
            response.headers.append(("X-Request-Id", request_id))
        return response

    async def _dispatch(self, request: Request, request_id: str) -> tuple[str, Response | None]:
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            return "control", control_response(self, request)
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        if path in ("/v3/auth/tokens", "/v3/auth/tokens/"):
            return "iam_tokens", self._issue_token(request)
        if match := _JOB.fullmatch(path):
            project_id, job_id = (unquote(part) for part in match.groups())
            if request.method not in ("GET", "HEAD"):
                return "job_get", r.method_not_allowed("GET")
            return "job_get", await self._get_job(request, project_id, job_id, request_id)
        if (route := match_route(path, request.query)) is not None:
            return route.route, await self._service_call(request, route, request_id)
        if (found := match_resource(path, request.query)) is not None and request.method in (
            "GET",
            "HEAD",
        ):
            return found.route, self._get_resource(request, found, request_id)
        if (match := _SERVER.fullmatch(path)) and request.method in ("GET", "HEAD"):
            project_id, server_id = (unquote(part) for part in match.groups())
            return "server_get", self._get_server(request, project_id, server_id, request_id)
        for route, pattern in (
            ("delete_servers", _DELETE),
            ("server_action", _ACTION),
            ("create_servers", _CREATE),
        ):
            if match := pattern.fullmatch(path):
                if request.method != "POST":
                    return route, r.method_not_allowed("POST")
                project_id = unquote(match.group(1))
                denied = self._authenticate(request, project_id, request_id)
                if denied is not None:
                    return route, denied
                return route, self._create(route, request)
        return "unknown", r.unknown_api(request_id)

    async def _get_job(
        self, request: Request, project_id: str, job_id: str, request_id: str
    ) -> Response | None:
        def body() -> str | None:
            now_ms = self.clock.now_ms()
            text = self._jobs.render(job_id, now_ms)
            if text is not None:
                return text
            # The same path serves EVS, BMS, IMS and VBS jobs: ids are unique across them.
            found = self._services.find(SHARED_V1, job_id, now_ms)
            return json.dumps(render(found[0], found[1], now_ms)) if found else None

        def missing() -> Response:
            if (request.header("host") or "").lower().startswith("evs."):
                return r.service_job_not_found("evs", job_id, request_id)
            return r.job_not_found(job_id, self.config.not_found_style)

        return await self._guarded(request, project_id, job_id, request_id, body, missing)

    async def _service_call(
        self, request: Request, route: JobRoute, request_id: str
    ) -> Response | None:
        """A job or list call of another service, behind the same gateway as ECS's."""
        if request.method not in ("GET", "HEAD"):
            return r.method_not_allowed("GET")
        service = route.services[0]
        if route.job_id is None:

            def listed() -> str | None:
                try:
                    answer = list_body(
                        route, self._services, request.query, self.clock.now_ms(), request_id
                    )
                except ValueError as exc:
                    bad.append(r.service_bad_query(service, str(exc)))
                    return None
                return json.dumps(answer)

            bad: list[Response] = []
            return await self._guarded(
                request, route.project_id, "", request_id, listed, lambda: bad[0]
            )
        job_id = route.job_id

        def body() -> str | None:
            now_ms = self.clock.now_ms()
            found = self._services.find(route.services, job_id, now_ms) if job_id else None
            return json.dumps(job_body(route, found, now_ms, request_id)) if found else None

        def missing() -> Response:
            if not job_id:
                return r.service_bad_query(service, "The job ID is missing.")
            return r.service_job_not_found(service, job_id, request_id)

        return await self._guarded(request, route.project_id, job_id, request_id, body, missing)

    async def _guarded(
        self,
        request: Request,
        project_id: str,
        key: str,
        request_id: str,
        body: Callable[[], str | None],
        missing: Callable[[], Response],
    ) -> Response | None:
        """Flow control, faults and authentication, then `body()` (under the lock) or
        `missing()` when it has none; `key` is the job id faults may target."""
        with self._lock:
            self._job_gets[key] += 1
            # The gateway's flow control comes first: a limited request reaches nothing else.
            flow = self._flow_for(self._caller(request)) if self.config.rate_limit else None
            if flow is not None and not flow.admit():
                return r.throttled(flow.answer == "202", None)
            delay_ms, fault = self._faults.take(key)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if fault is not None:
            return self._fault_response(fault, key, body)
        denied = self._authenticate(request, project_id, request_id)
        if denied is not None:
            return denied
        with self._lock:
            text = body()
        if text is None:
            return missing()
        return Response(200, text.encode())

    def _get_server(
        self, request: Request, project_id: str, server_id: str, request_id: str
    ) -> Response:
        with self._lock:
            self._server_gets[server_id] += 1
            _delay, fault = self._faults.take(server_id)
        if fault is not None and fault.kind in ("throttle", "throttle_202", "server_error"):
            answer = self._fault_response(fault, server_id)
            if answer is not None:
                return answer
        denied = self._authenticate(request, project_id, request_id)
        if denied is not None:
            return denied
        with self._lock:
            body = self._servers.render(server_id, self.clock.now_ms())
        if body is None:
            return r.server_not_found(server_id)
        return r.json_response(200, body)

    def _get_resource(self, request: Request, route: ResourceRoute, request_id: str) -> Response:
        """Another service's resource call (`jobdash.simulator.resources`); counted with the
        server calls, by resource id."""
        with self._lock:
            self._server_gets[route.resource_id] += 1
            _delay, fault = self._faults.take(route.resource_id)
            project_id = route.project_id or owner_project(self._services, route)
        if fault is not None and fault.kind in ("throttle", "throttle_202", "server_error"):
            answer = self._fault_response(fault, route.resource_id)
            if answer is not None:
                return answer
        if project_id is None:
            return r.resource_not_found(route.service, route.resource_id)
        denied = self._authenticate(request, project_id, request_id)
        if denied is not None:
            return denied
        with self._lock:
            body = resource_body(self._services, route, self.clock.now_ms())
        if body is None:
            return r.resource_not_found(route.service, route.resource_id)
        return r.json_response(200, body)

    def _fault_response(
        self, fault: Fault, job_id: str, body: Callable[[], str | None] = lambda: None
    ) -> Response | None:
        if fault.kind == "drop":
            return None
        if fault.kind in ("throttle", "throttle_202"):
            return r.throttled(fault.kind == "throttle_202", fault.retry_after)
        if fault.kind == "server_error":
            return r.server_error(fault.status or 500)
        with self._lock:
            text = body()
        return r.broken_body(fault.kind, job_id, text)

    def _caller(self, request: Request) -> str:
        """The account a request claims to come from, as the gateway's flow control tells
        callers apart (caller holds the lock): by its token or access key; "" if neither."""
        token = request.header("x-auth-token")
        if token:
            identity = self._tokens.check(token, self.clock.now_ms())
            return self._account_of_project.get(identity.project_id or "", "")
        parsed = parse_sdk_authorization(request.header("authorization") or "")
        return self._account_of_key.get(parsed[0], "") if parsed is not None else ""

    def _authenticate(self, request: Request, project_id: str, request_id: str) -> Response | None:
        """None when the request may act on `project_id`, else the error to answer with."""
        token = request.header("x-auth-token")
        authorization = request.header("authorization")
        if token:
            with self._lock:
                identity = self._tokens.check(token, self.clock.now_ms())
        elif authorization and authorization.startswith("SDK-HMAC-SHA256"):
            identity = verify_aksk(
                authorization=authorization,
                method=request.method,
                path=request.path,
                query=request.query,
                headers=request.header_map(),
                body=request.body,
                accounts=self.accounts,
            )
        else:
            identity = Identity(None, "x-auth-token not found")
        if not identity.ok:
            return r.unauthorized(identity.problem or "", request_id)
        if identity.project_id != project_id:
            return r.project_mismatch()
        return None

    def _issue_token(self, request: Request) -> Response:
        if request.method != "POST":
            return r.method_not_allowed("POST")
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return r.keystone_error(400, "The request body is not valid JSON.", "Bad Request")
        problem, account, project_id = password_auth(body, self.accounts)
        if problem == "malformed":
            return r.keystone_error(
                400, "Expecting to find identity.password.user in auth.", "Bad Request"
            )
        if problem is not None:
            return r.keystone_error(
                401, "The request you have made requires authentication.", "Unauthorized"
            )
        assert account is not None
        with self._lock:
            token, record = self._tokens.issue(self.clock.now_ms(), project_id)
        answer = token_body(
            record,
            account=account,
            project_id=project_id,
            region=self.region,
            base_url=self.base_url,
        )
        response = r.json_response(201, answer)
        response.headers.append(("X-Subject-Token", token))
        return response

    def _create(self, route: str, request: Request) -> Response:
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body:
            return r.bad_parameter("Common.0002", "The request body cannot be left blank.")
        try:
            fail_count, duration = sim_options(body.get("_sim"))
            if route == "create_servers":
                server = body.get("server")
                count = server.get("count", 1) if isinstance(server, dict) else None
                name = server.get("name") if isinstance(server, dict) else None
                flavor = server.get("flavorRef") if isinstance(server, dict) else None
                plan = self._create_servers(
                    count,
                    name if isinstance(name, str) and name else "ecs",
                    fail_count=fail_count,
                    duration=duration,
                    flavor=flavor if isinstance(flavor, str) else None,
                )
                server_ids = [sub.server_id for sub in plan.sub_jobs]
                return r.json_response(200, {"job_id": plan.job_id, "serverIds": server_ids})
            if route == "delete_servers":
                job_id = self.delete_servers(
                    r.server_ids(body.get("servers")), fail_count=fail_count, duration=duration
                )
                return r.json_response(200, {"job_id": job_id})
            actions = [key for key in body if key in ACTION_TYPES]
            if len(actions) != 1 or not isinstance(body[actions[0]], dict):
                raise ValueError("exactly one of os-start, os-stop, reboot is required")
            servers = r.server_ids(body[actions[0]].get("servers"))
            job_id = self.batch_action(
                actions[0], servers, fail_count=fail_count, duration=duration
            )
            return r.json_response(200, {"job_id": job_id})
        except (ValueError, TypeError, AttributeError) as exc:
            return r.bad_parameter("Ecs.0005", f"Invalid parameter values: {exc}")
