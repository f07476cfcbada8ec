"""What the dashboard needs from the core, as protocols: the app takes these injected,
so tests and the screenshot script can hand it a still poller or a fixed store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from jobdash.poll.sharing import InnerPoller, SharingStore
from jobdash.watch.values import PollUpdate
from jobdash.watch.watchlist import WatchStore


class StoreLike(WatchStore, SharingStore, Protocol):
    """The app's store: the watchlist's, and the lease and change feed that let one
    process poll for every dashboard on it."""


#: Makes the poller the app's `SharedPoller` runs while this process polls.
PollerFactory = Callable[[Callable[[PollUpdate], None]], InnerPoller]
