"""The web server of `jobdash serve`: textual-serve's page and per-tab app processes,
behind an access token, on an aiohttp runner this module owns (so it knows the bound
port and stops every tab's dashboard on the way out)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from textual_serve.server import Server

from jobdash.web.page import (
    FONT_SIZE_TEXT,
    FontSizeError,
    TabPage,
    font_size,
    tabs_full_html,
    tabs_full_text,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: How long the tabs' dashboards get to quit when the server stops.
STOP_TIMEOUT = 3.0

#: The signals that stop the server cleanly (SIGHUP: its terminal went away).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

FORBIDDEN_TEXT = (
    "403: jobdash serve needs the access token: open the full URL it printed at start "
    "(the part after ?token=).\n"
)


class DashboardServer(Server):
    """textual-serve's `Server`, with every route behind `token`.

    The token arrives in the URL (`/?token=...`); the page answer sets it as an
    HttpOnly, same-site cookie and sends the browser on to `/`, so the token leaves the
    address bar (a shared screen shows it) while the websocket, the scripts and
    downloads carry the cookie.
    """

    def __init__(
        self, command: str, *, host: str, port: int, token: str, title: str, max_tabs: int
    ) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.token = token
        self.max_tabs = max_tabs
        self._sessions: set[asyncio.Task[Any]] = set()
        self.bound_port: int | None = None
        self.tabs_started = 0

    # -- the token ----------------------------------------------------------------------

    def _token_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def require_token(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        from_query = request.query.get("token")
        from_cookie = request.cookies.get(self.cookie_name)
        if not (self._token_matches(from_query) or self._token_matches(from_cookie)):
            raise web.HTTPForbidden(text=FORBIDDEN_TEXT)
        if request.headers.get("Upgrade", "").lower() == "websocket" and not _same_origin(request):
            raise web.HTTPForbidden(text="403: websocket from another origin\n")
        if from_query is not None and request.path == "/":
            # Keep the token off the screen and out of the history: cookie, then `/`.
            kept = [(k, v) for k, v in request.query.items() if k != "token"]
            location = request.rel_url.with_query(kept)
            redirect = web.Response(status=303, headers={"Location": str(location)})
            redirect.set_cookie(
                self.cookie_name,
                self.token,
                httponly=True,
                samesite="Strict",
                path="/",
                secure=request.scheme == "https",
            )
            response: web.StreamResponse = redirect
        else:
            response = await handler(request)
        if not response.prepared:
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @property
    def cookie_name(self) -> str:
        # Cookies ignore the port: one name per port keeps two servers on a host apart.
        return f"jobdash-serve-{self.bound_port or self.port}"

    # -- the page -----------------------------------------------------------------------

    @property
    def tabs_full(self) -> bool:
        return len(self._sessions) >= self.max_tabs

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        """The tab's page (`jobdash.web.page`), with its URLs taken from the address the
        browser used (the server may listen on 0.0.0.0 and be reached by any of the host's
        names); a page that says why instead when every tab is taken."""
        try:
            size = font_size(request.query.get("fontsize"))
        except FontSizeError:
            raise web.HTTPBadRequest(text=FONT_SIZE_TEXT) from None
        if self.tabs_full:
            return web.Response(
                status=503, text=tabs_full_html(self.title, self.max_tabs), content_type="text/html"
            )
        ws_scheme = "wss" if request.scheme == "https" else "ws"
        page = TabPage(
            title=self.title,
            websocket_url=f"{ws_scheme}://{request.host}/ws",
            static_url=f"{request.scheme}://{request.host}/static/",
            font_size=size,
        )
        return web.Response(text=page.html(), content_type="text/html")

    async def websocket_session(self, request: web.Request) -> web.StreamResponse:
        """One tab: textual-serve starts its dashboard process and relays it. Tracked so
        that stopping the server stops the dashboards too, and counted against the limit
        (checked here too: a script can open websockets without the page)."""
        if self.tabs_full:
            raise web.HTTPServiceUnavailable(text=tabs_full_text(self.max_tabs))
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        self.tabs_started += 1
        try:
            return await self.handle_websocket(request)
        finally:
            self._sessions.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        # A cancelled session tells its dashboard to quit and waits until it has.
        sessions = set(self._sessions)
        for task in sessions:
            task.cancel()
        if sessions:
            await asyncio.wait(sessions, timeout=STOP_TIMEOUT)

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self.require_token])
        # Route names as textual-serve's handlers expect them.
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.websocket_session, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    # -- running ------------------------------------------------------------------------

    async def run(self, ready: Callable[[int], None]) -> bool:
        """Serve until SIGINT (Ctrl-C), SIGTERM or SIGHUP; `ready` gets the bound port.
        Returns True when interrupted by Ctrl-C. Raises OSError when the address cannot be
        bound."""
        runner = web.AppRunner(
            self.build_app(),
            access_log=None,
            logger=server_log(self.token),
            shutdown_timeout=2.0,
        )
        await runner.setup()
        stop = asyncio.Event()
        received: list[int] = []
        loop = asyncio.get_running_loop()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            self.bound_port = _port_of(runner.addresses[0])
            for signum in STOP_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(
                        signum, lambda n=signum: (received.append(n), stop.set())
                    )
            ready(self.bound_port)
            await stop.wait()
        finally:
            for signum in STOP_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            await runner.cleanup()
        return signal.SIGINT in received


def _port_of(address: Any) -> int:
    return int(address[1]) if isinstance(address, tuple) else 0


def _same_origin(request: web.Request) -> bool:
    """A browser's websocket names the page it came from; it must be this server."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: the token alone decides
    return urlsplit(origin).netloc.lower() == request.host.lower()


class _SafeServerFormatter(logging.Formatter):
    """aiohttp's error log without what the client sent.

    A request it cannot parse (a line over 8 KB, a bad header) is logged with the start of
    the offending line, which carries the token when it is in the URL or the cookie: such
    a request becomes one line naming only the kind of error. Anything else keeps its
    traceback, with the token masked.
    """

    def __init__(self, token: str) -> None:
        super().__init__("%(message)s")
        self._token = token

    def format(self, record: logging.LogRecord) -> str:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            return (
                f"jobdash serve: refused a malformed request from {remote} ({type(error).__name__})"
            )
        return super().format(record).replace(self._token, "<token>")


def server_log(token: str) -> logging.Logger:
    """The logger aiohttp reports request errors to: this server's own, not the shared
    `aiohttp.server` one (a second server in the process has another token)."""
    logger = logging.Logger("jobdash.serve.http", logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeServerFormatter(token))
    logger.addHandler(handler)
    return logger
