"""Start the dashboard: on the user's watchlist (`jobdash`, `jobdash ui`), or on the
in-process simulator (`jobdash demo`). Builds the dependencies and injects them."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from jobdash.api.client import JobsClient
from jobdash.api.errors import ApiError, ConfigError, InvalidIdError
from jobdash.api.ids import validate_job_id
from jobdash.auth.methods import TokenAuth
from jobdash.config.config_file import Config, load_config
from jobdash.connections.connection import http_pool
from jobdash.connections.registry import Connections
from jobdash.poll.options import PollerOptions
from jobdash.poll.poller import Poller
from jobdash.poll.ratelimit import RateGroup, endpoint_group
from jobdash.services.registry import service as lookup_service
from jobdash.store.core import Store
from jobdash.text.safe import one_line, printable
from jobdash.tui.app import JobDashApp
from jobdash.tui.context import DashboardContext, utc_now
from jobdash.tui.demo import demo_world
from jobdash.tui.deps import PollerFactory
from jobdash.watch.values import PollUpdate, WatchEntry, WatchKey

EXIT_OK = 0
#: The documented code for an interrupt (SIGINT, from the keyboard or `kill -INT`).
EXIT_INTERRUPTED = 130
#: Signals that end the dashboard as `q` does: the updates still waiting are written and
#: the terminal is restored (SIGHUP: the terminal was closed). Their default actions would
#: kill the process in the alternate screen with mouse reporting on, losing those updates.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def ui_preferences(config: Config | None = None) -> dict[str, bool]:
    """`[ui] notify` and `[ui] bell` from config.toml; both default to on."""
    ui = (config or load_config()).ui
    return {"notify": ui.notify, "bell": ui.bell}


def _poller_factory(
    client_for: Callable[[WatchKey], JobsClient],
    options: PollerOptions,
    rate_group: Callable[[WatchKey], RateGroup] = endpoint_group,
) -> PollerFactory:
    # No store: the dashboard's watchlist writes each update, on the store's own thread.
    def make(on_update: Callable[[PollUpdate], None]) -> Poller:
        return Poller(
            client_for,
            on_update=on_update,
            now=utc_now,  # fetch times are this machine's; job times the cloud's
            rate_group=rate_group,
            **options.as_kwargs(),
        )

    return make


def _client_for(
    http: httpx.AsyncClient,
    default: JobsClient | None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Callable[[WatchKey], JobsClient]:
    def client_for(key: WatchKey) -> JobsClient:
        if (
            default is not None
            and key.endpoint.rstrip("/") == default.endpoint
            and key.project_id == default.project_id
            and key.service == default.service.name
        ):
            return default
        return JobsClient(
            http,
            key.endpoint,
            key.project_id,
            transport=transport,
            service=lookup_service(key.service),
        )

    return client_for


async def _run_app(app: JobDashApp) -> int:
    received = _quit_on_signals(app)
    try:
        await app.run_async()
    finally:
        try:
            if app.poller is not None:
                await app.poller.aclose()
            # However the app ended, the updates still waiting for the store are written.
            await app.watchlist.aclose()
        finally:
            _restore_signals()
    if signal.SIGINT in received:
        return EXIT_INTERRUPTED
    return app.return_code or EXIT_OK


def _quit_on_signals(app: JobDashApp) -> list[int]:
    """Quit `app` on any of `STOP_SIGNALS` as `q` would; a second one ends it at once.
    Returns the signals received, as they come."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            app.call_later(app.action_quit)
        elif app.is_running:
            app.exit(app.return_code or EXIT_OK)

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    return received


def _restore_signals() -> None:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.remove_signal_handler(signum)


# -- jobdash / jobdash ui ----------------------------------------------------------------


def run_dashboard(args: argparse.Namespace, job_ids: list[str]) -> int:
    return asyncio.run(_dashboard(args, job_ids))


def _valid_ids(job_ids: list[str]) -> tuple[list[str], list[str]]:
    valid: list[str] = []
    notices: list[str] = []
    for value in job_ids:
        try:
            job_id = validate_job_id(value)
        except InvalidIdError as exc:
            notices.append(f"Skipped {exc.message}")
            continue
        if job_id not in valid:
            valid.append(job_id)
    return valid, notices


async def _dashboard(args: argparse.Namespace, job_ids: list[str]) -> int:
    store = Store()
    connection: Any = None
    alert: str | None = None
    ids, notices = _valid_ids(job_ids)
    config = load_config()
    # Each entry is fetched with its own connection's credentials, opened on first need.
    connections = Connections(args, config=config)
    template: WatchEntry | None = None
    try:
        # Entries that recorded their connection poll without the command's own.
        recorded = any(e.profile or e.auth_method for e in store.entries())
        if not getattr(args, "offline", False):
            try:
                connection = await connections.open_current()
            except (ConfigError, ApiError) as exc:
                if ids:
                    raise  # ids cannot be resolved without a connection: say so and stop
                problem = one_line(getattr(exc, "message", None) or str(exc), 300)
                if recorded and isinstance(exc, ConfigError):
                    # Nothing watched depends on it: only `a` without a selected job does.
                    notices.append(
                        f"No connection of its own ({problem}); a adds to the selected "
                        "job's connection."
                    )
                else:
                    # Still open on the saved snapshots; the header says what is wrong.
                    # The header shows its first line; the banner under it lists the rest.
                    alert = printable(getattr(exc, "message", None) or str(exc), keep_newlines=True)
        if connection is not None:
            notices.extend(one_line(w, 200) for w in getattr(connection, "warnings", []) or [])
            template = _entry_template(connection)
            if ids:
                label = getattr(args, "label", None)
                store.add(
                    replace(template, key=replace(template.key, job_id=i), label=label) for i in ids
                )
        factory = None
        if not getattr(args, "offline", False) and (connection is not None or recorded):
            factory = _poller_factory(
                connections.client_for,
                config.poller_with(getattr(args, "interval", None)),
                rate_group=connections.rate_group,
            )
        prefs = ui_preferences(config)
        app = JobDashApp(
            DashboardContext(
                store=store,
                poller_factory=factory,
                connection_description=(
                    connection.description if connection is not None else "not connected"
                ),
                endpoint=connection.endpoint if connection is not None else None,
                project_id=connection.project_id if connection is not None else None,
                profile=template.profile if template is not None else None,
                connection=template,
                client_for=connections.client_for if template is not None else None,
                notify_finished=prefs["notify"],
                bell_on_fail=prefs["bell"],
                alert=alert,
                notices=notices,
            )
        )
        connections.entry_for = lambda key: app.watchlist.entries.get(key)
        return await _run_app(app)
    finally:
        await connections.aclose()  # the command's own connection with the rest
        store.close()


def _entry_template(connection: Any) -> WatchEntry:
    """The connection new ids are added with, recorded with each entry (never a secret)."""
    settings = connection.settings
    token = getattr(connection.auth, "token_info", None)
    return WatchEntry(
        WatchKey(connection.endpoint, connection.project_id, ""),
        profile=settings.profile,
        auth_method=settings.auth_method,
        region=settings.region,
        project_name=settings.project_name or getattr(token, "project_name", None),
    )


# -- jobdash demo ------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    """Simulator on a free loopback port, demo jobs, a throwaway watchlist; all gone after."""
    speed, seed = getattr(args, "speed", 2.0), getattr(args, "seed", 7)
    with demo_world(speed=speed, seed=seed, open_store=Store) as (sim, store):
        return run_demo_on(args, sim, store, sim.credentials.token)


def run_demo_on(args: argparse.Namespace, sim: Any, store: Store, token: str) -> int:
    """The demo dashboard on a simulator that may run elsewhere: `sim` needs `url`,
    `project_id`, `project_name` and `region` (`jobdash serve --demo` tabs)."""
    return asyncio.run(_demo(args, sim, store, token))


def _clock_note(sim: Any) -> str:
    """The header's note that the demo's jobs run on a simulated clock faster than the wall's,
    and the dashboard shows their times on it."""
    speed = getattr(sim, "speed", None)
    if speed is None:
        speed = getattr(getattr(sim, "config", None), "speed", None)
    if not isinstance(speed, int | float) or speed == 1:
        return ""
    if speed <= 0:
        return " · clock stopped"
    return f" · clock runs {speed:g}× fast" if speed > 1 else f" · clock runs {speed:g}× slow"


def demo_app(
    args: argparse.Namespace,
    sim: Any,
    store: Store,
    http: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport | None = None,
) -> JobDashApp:
    """The demo's dashboard, sending through `http`. Its clock is the wall's: how long ago
    a job was fetched is a fact of this machine; the jobs' own times are the simulator's,
    which runs fast, and the dashboard reads that clock from its answers as it reads any
    cloud's."""
    default = JobsClient(http, sim.url, sim.project_id, transport=transport)
    client_for = _client_for(http, default, transport)
    return JobDashApp(
        DashboardContext(
            store=store,
            client_for=client_for,
            poller_factory=_poller_factory(
                client_for, PollerOptions(interval=getattr(args, "interval", 1.0))
            ),
            connection_description=(
                f"demo{_clock_note(sim)} · project {sim.project_name} ({sim.region})"
                f" · simulator {sim.url}"
            ),
            endpoint=sim.url,
            project_id=sim.project_id,
            notify_finished=True,
            bell_on_fail=False,
            notices=["Demo: jobs run on a local simulator; nothing touches a real cloud."],
        )
    )


async def _demo(args: argparse.Namespace, sim: Any, store: Store, token: str) -> int:
    http, transport = http_pool(20, True, auth=TokenAuth(token))
    async with http:
        return await _run_app(demo_app(args, sim, store, http, transport))
