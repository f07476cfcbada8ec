"""How the request rate and throttling read in the progress line (and the header's words)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from jobdash.cli.status_view import Results, progress_line, rate_text
from jobdash.text.format import request_rate_text, throttle_text
from jobdash.watch.values import EndpointState

SINCE = datetime(2024, 5, 1, 12, 4, 31, tzinfo=UTC)


def test_rate_alone_while_answers_are_clean() -> None:
    states = [EndpointState("https://a", request_rate=14.2), EndpointState("https://b")]
    assert rate_text(states).plain == "14 req/s"
    assert request_rate_text([EndpointState("https://a", request_rate=0.5)]) == "0.5 req/s"
    assert throttle_text(states) is None


def test_throttled_says_how_often_since_when_and_the_back_off() -> None:
    pushed = EndpointState(
        "https://a",
        request_rate=14.0,
        backoff_seconds=3.6,
        throttled=True,
        throttled_since=SINCE,
        throttle_count=3,
    )
    assert rate_text([pushed]).plain == "14 req/s · throttled ×3 since 12:04:31, backing off 3s"
    # still in the spell, no pause left: no back-off part
    settled = EndpointState("https://a", request_rate=24.0, throttled_since=SINCE, throttle_count=5)
    assert rate_text([settled]).plain == "24 req/s · throttled ×5 since 12:04:31"
    # of several endpoints, the one paused longest speaks
    assert throttle_text([settled, pushed]) == "throttled ×3 since 12:04:31, backing off 3s"


def test_progress_line_carries_the_rate_and_offline_reason() -> None:
    states = [
        EndpointState("https://a", request_rate=2.0, throttled_since=SINCE, throttle_count=1),
        EndpointState("https://b", offline_reason="connection refused"),
    ]
    line = progress_line(Results([]), time.monotonic(), states).plain
    assert "0/0 jobs finished" in line
    assert "2.0 req/s · throttled ×1 since 12:04:31" in line
    assert "offline: connection refused" in line
