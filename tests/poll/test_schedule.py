"""`due_entries`: which watched jobs the poller fetches now, in which order."""

from __future__ import annotations

from jobdash.poll.schedule import Entry, due_entries
from jobdash.watch.values import WatchKey


def entry(job_id: str, due: float | None, *, priority: int = 0, in_flight: bool = False) -> Entry:
    made = Entry(WatchKey("https://ecs.example", "proj", job_id), interval=3.0, due=due)
    made.priority = priority
    made.in_flight = in_flight
    return made


def ids(entries: list[Entry]) -> list[str]:
    return [e.key.job_id for e in entries]


def test_refreshes_first_in_the_order_asked_then_the_most_overdue() -> None:
    entries = [
        entry("late", 5.0),
        entry("later-refresh", 50.0, priority=2),
        entry("overdue", 1.0),
        entry("first-refresh", 60.0, priority=1),
        entry("future", 14.0),
        entry("busy", 0.0, in_flight=True),
        entry("finished", None),
    ]
    due, next_wake = due_entries(entries, 10.0, paused=False)
    assert ids(due) == ["first-refresh", "later-refresh", "overdue", "late"]
    assert next_wake == 4.0


def test_while_paused_only_refreshes_are_due_and_nothing_wakes_the_loop() -> None:
    entries = [entry("overdue", 1.0), entry("refresh", 99.0, priority=1), entry("future", 20.0)]
    due, next_wake = due_entries(entries, 10.0, paused=True)
    assert ids(due) == ["refresh"]
    assert next_wake is None
