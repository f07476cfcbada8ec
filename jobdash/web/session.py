"""What `jobdash serve` tells each tab's dashboard: a small JSON file, readable only by
the user, whose path is the tab's only argument (so no secret shows in a process list)."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jobdash.simulator.clock import from_ms, to_ms

#: The module each browser tab runs (`python -m ...`): the dashboard in Textual's web driver.
TAB_MODULE = "jobdash.tui.web_tab"


@dataclass(frozen=True, slots=True)
class SharedDemo:
    """The demo simulator that the serve process runs, as a tab's dashboard sees it.

    Has what `launch.run_demo_on` asks of a simulator: where it is, who, and its clock,
    carried over as (simulated ms, wall-clock seconds, speed) taken at the same moment.
    """

    url: str
    project_id: str
    project_name: str
    region: str
    token: str = field(repr=False)
    watchlist: str
    clock_ms: int
    clock_wall: float
    speed: float
    interval: float = 1.0

    def now(self) -> datetime:
        elapsed = (time.time() - self.clock_wall) * self.speed
        return from_ms(self.clock_ms + round(elapsed * 1000))

    @classmethod
    def of(cls, sim: Any, watchlist: Path, *, interval: float = 1.0) -> SharedDemo:
        """From a running `Simulator`."""
        return cls(
            url=sim.url,
            project_id=sim.project_id,
            project_name=sim.project_name,
            region=sim.region,
            token=sim.credentials.token,
            watchlist=str(watchlist),
            clock_ms=to_ms(sim.now()),
            clock_wall=time.time(),
            speed=sim.config.speed,
            interval=interval,
        )


@dataclass(frozen=True, slots=True)
class TabSession:
    """One of: `argv` for `jobdash` (the saved watchlist), or `demo`."""

    serve_pid: int
    argv: list[str] | None = None
    demo: SharedDemo | None = None

    def write(self, path: Path) -> Path:
        # Created 0600 from the start: the demo's token must not be readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(asdict(self), file)
        return path

    @classmethod
    def read(cls, path: Path) -> TabSession:
        data = json.loads(path.read_text(encoding="utf-8"))
        demo = data.get("demo")
        return cls(
            serve_pid=int(data["serve_pid"]),
            argv=[str(a) for a in data["argv"]] if data.get("argv") is not None else None,
            demo=SharedDemo(**demo) if demo is not None else None,
        )


def tab_command(session_file: Path) -> str:
    """The shell command textual-serve runs per tab; `exec` makes the dashboard a direct
    child of the serve process, so it can be told when its parent is gone."""
    return "exec " + shlex.join([sys.executable, "-m", TAB_MODULE, str(session_file)])
