"""Messages from the core to the app. Posted on the app's own event loop."""

from __future__ import annotations

from textual.message import Message

from jobdash.watch.values import PollUpdate


class JobUpdated(Message):
    """The poller fetched a job (or failed to)."""

    def __init__(self, update: PollUpdate) -> None:
        super().__init__()
        self.update = update
