"""Another process polling the watchlist, for tests of the processes that follow it."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from jobdash.api.client import JobsClient
from jobdash.poll.poller import Poller
from jobdash.poll.sharing import SharedPoller
from jobdash.simulator import Simulator
from jobdash.store.core import Store
from jobdash.watch.values import PollUpdate, WatchKey


class PollingElsewhere:
    """A dashboard's poller on the user's watchlist, in a thread with its own loop and its
    own database connection: to the command under test, another process."""

    def __init__(self, sim: Simulator, path: Path | None = None) -> None:
        self.sim = sim
        self.path = path
        self.shared: SharedPoller | None = None
        self.fetches: Counter[str] = Counter()
        self.polling = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> PollingElsewhere:
        self._thread.start()
        assert self.polling.wait(10), "the other poller never took the lease"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    async def _main(self) -> None:
        headers = {"X-Auth-Token": self.sim.credentials.token}
        with Store(self.path) as store:
            async with httpx.AsyncClient(headers=headers) as http:

                def client_for(key: WatchKey) -> JobsClient:
                    client = JobsClient(http, key.endpoint, key.project_id)
                    get_job = client.get_job

                    async def counted(job_id: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
                        self.fetches[job_id] += 1
                        return await get_job(job_id, *args, **kwargs)  # type: ignore[arg-type]

                    client.get_job = counted  # type: ignore[method-assign]
                    return client

                def make(on_update: Callable[[PollUpdate], None]) -> Poller:
                    return Poller(client_for, on_update=on_update, interval=0.1, max_interval=0.1)

                def record(update: PollUpdate) -> None:
                    if not update.followed:
                        store.record(update)

                shared = self.shared = SharedPoller(make, store, record, check_every=0.1)
                shared.set_watchlist([e.key for e in store.entries()], store.snapshots())
                task = asyncio.create_task(shared.run())
                while not self._stop.is_set():
                    if shared.polling:
                        self.polling.set()
                    await asyncio.sleep(0.05)
                await shared.aclose()
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
