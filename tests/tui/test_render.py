"""The pure renderers: tree labels, header, detail panel. No app needed."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

from rich.console import Console, RenderableType
from rich.style import Style
from rich.text import Text
from tui_sample import (
    BATCH_ID,
    ENDPOINT,
    FROZEN,
    MARKUP_REASON,
    PROJECT,
    STOP_ID,
    batch_body,
    stop_body,
)

from jobdash.api.catalog import lookup
from jobdash.api.model import parse_job
from jobdash.text.format import progress_text as progress
from jobdash.text.statuses import DEFAULT_PALETTE, Palette, Role, status_role
from jobdash.tui.render import (
    counts_text,
    job_label,
    poller_text,
    sub_job_label,
)
from jobdash.tui.render_details import failure_summary, job_details, raw_json, sub_job_details
from jobdash.watch.values import EndpointState, Snapshot, WatchEntry, WatchKey

KEY = WatchKey(ENDPOINT, PROJECT, BATCH_ID)
STOP_KEY = WatchKey(ENDPOINT, PROJECT, STOP_ID)


def plain(renderable: RenderableType, width: int = 160) -> str:
    """What a terminal would show, without any styling codes."""
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


def styled(renderable: RenderableType, width: int = 160) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system="truecolor", force_terminal=True).print(renderable)
    return out.getvalue()


def snapshot_of(body: dict, key: WatchKey = KEY, **kwargs: object) -> Snapshot:
    return Snapshot(key, parse_job(body), FROZEN - timedelta(seconds=4), **kwargs)  # type: ignore[arg-type]


def test_progress_counts_finished_of_total_then_successes_and_failures() -> None:
    job = parse_job(batch_body())
    assert progress(job).plain == "14/20  ✓12 ✗2"


def test_job_label_shows_icon_type_short_id_label_progress_and_running_time() -> None:
    label = job_label(WatchEntry(KEY, "web tier"), snapshot_of(batch_body()), FROZEN)
    assert label.plain == f"● createServer {BATCH_ID[:8]} 14/20  ✓12 ✗2 12m00s «web tier»"


def test_job_label_uses_the_short_id_it_is_given() -> None:
    label = job_label(WatchEntry(KEY), snapshot_of(batch_body()), FROZEN, short_id="ff80…e20001")
    assert "ff80…e20001" in label.plain


def test_each_status_has_its_own_icon_and_colour_role() -> None:
    icons = {}
    for status in ("SUCCESS", "FAIL", "RUNNING", "INIT", "PENDING_PAYMENT", "PAUSED_BY_OPS"):
        body = {"job_id": "j1", "job_type": "t", "status": status}
        icons[status] = job_label(WatchEntry(KEY), snapshot_of(body), FROZEN).plain[0]
    assert icons == {
        "SUCCESS": "✓",
        "FAIL": "✗",
        "RUNNING": "●",
        "INIT": "○",
        "PENDING_PAYMENT": "$",
        "PAUSED_BY_OPS": "?",
    }
    roles = {status: status_role(status) for status in icons}
    assert roles["SUCCESS"] is Role.SUCCESS
    assert roles["FAIL"] is Role.ERROR
    assert roles["RUNNING"] is Role.ACCENT
    assert roles["INIT"] is Role.MUTED
    assert roles["PENDING_PAYMENT"] is Role.WARNING


def test_colours_come_from_the_palette_given() -> None:
    palette = Palette(
        success=Style(color="#00ff00"),
        warning=Style(color="#ffff00"),
        error=Style(color="#ff0000"),
        muted=Style(color="#808080"),
        accent=Style(color="#0000ff"),
    )
    job = parse_job(stop_body())
    label = sub_job_label(job.sub_jobs[1], FROZEN, palette)
    icon_styles = [span.style for span in label.spans if span.start == 0]
    assert icon_styles == [palette.error]
    assert label.plain == "✗ server 01c0ffee 30s Ecs.0603 stopServer"


def test_api_text_with_markup_and_escapes_is_shown_literally() -> None:
    entry = WatchEntry(STOP_KEY, "[bold]label[/]")
    snapshot = snapshot_of(stop_body(MARKUP_REASON), STOP_KEY)
    label = job_label(entry, snapshot, FROZEN)
    assert "«[bold]label[/]»" in label.plain
    details = job_details(entry, snapshot, FROZEN, lookup=lookup)
    shown = plain(details)
    assert "[bold red]boom[/] \\x1b[2J" in shown
    assert "\x1b" not in shown
    # With colours on, the only escape sequences are the console's own styling.
    assert "\x1b[2J" not in styled(details)
    sub = parse_job(stop_body(MARKUP_REASON)).sub_jobs[1]
    assert "[bold red]boom[/] \\x1b[2J" in plain(sub_job_details(entry, sub, FROZEN))


def test_job_details_show_every_field_of_the_api_tables() -> None:
    body = stop_body()
    body["message"] = "Query failed"
    body["code"] = "Ecs.0114"
    entry = WatchEntry(STOP_KEY, "stop workers")
    shown = plain(job_details(entry, snapshot_of(body, STOP_KEY), FROZEN, lookup=lookup))
    for field in (
        "job_id",
        "status",
        "job_type",
        "begin_time",
        "end_time",
        "duration",
        "sub_jobs_total",
        "error_code",
        "fail_reason",
        "message",
        "code",
        "endpoint",
        "project_id",
    ):
        assert f"\n{field} " in "\n" + shown, field
    assert STOP_ID in shown
    assert "✗ FAIL" in shown
    assert "2026-03-02 09:15:00.000Z" in shown  # begin_time
    assert "1m18s" in shown  # duration
    assert "Query failed" in shown and "Ecs.0114" in shown
    assert "Error code Ecs.0603" in shown


def test_sub_job_details_show_entities_error_code_meaning_and_parent() -> None:
    job = parse_job(batch_body())
    failed = job.sub_jobs[3]
    shown = plain(sub_job_details(WatchEntry(KEY, "web tier"), failed, FROZEN, lookup=lookup))
    assert "server_id" in shown and "03c0ffee-5e4f-4a3b-9c2d-1e0f00000003" in shown
    # The API's message equals the reason here: said once, under fail_reason.
    assert failed.errorcode_message and failed.errorcode_message == failed.fail_reason
    assert shown.replace("\n", " ").count(failed.errorcode_message) == 1
    assert "errorcode_message" not in shown
    assert "Ecs.0319" in shown
    info = lookup("Ecs.0319")
    assert info is not None
    assert info.meaning in shown.replace("\n", " ") or info.message in shown.replace("\n", " ")
    assert "parent job" in shown and BATCH_ID in shown


def test_failure_summary_groups_failed_sub_jobs_by_error_code() -> None:
    job = parse_job(batch_body())
    summary = failure_summary(job, lookup).plain
    assert summary == "Ecs.0319 × 2: Insufficient resources for this flavor. Try another flavor."
    # Codes the catalogue does not know fall back to what the API said.
    unknown = batch_body()
    for sub in unknown["entities"]["sub_jobs"]:
        if sub["error_code"]:
            sub["error_code"] = "Xyz.0001"
    summary = failure_summary(parse_job(unknown), lookup).plain
    assert summary == "Xyz.0001 × 2: Insufficient resources for flavor s3.xlarge.2 in eu-de-01."
    details = plain(job_details(WatchEntry(KEY), snapshot_of(batch_body()), FROZEN, lookup=lookup))
    assert "Failures by error code" in details


def test_fetch_error_is_shown_with_the_last_snapshot_kept() -> None:
    snapshot = snapshot_of(
        batch_body(), error_kind="server", error_message="server error (HTTP 503)"
    )
    label = job_label(WatchEntry(KEY), snapshot, FROZEN).plain
    assert label.startswith("● createServer")
    assert "! server: server error (HTTP 503)" in label
    details = plain(job_details(WatchEntry(KEY), snapshot, FROZEN))
    assert "Last fetch failed (server): server error (HTTP 503)" in details


def test_expired_job_says_expired_not_error() -> None:
    snapshot = snapshot_of(stop_body(), STOP_KEY, expired=True)
    label = job_label(WatchEntry(STOP_KEY), snapshot, FROZEN).plain
    assert label.endswith("expired")
    assert "error" not in label
    assert "Expired" in plain(job_details(WatchEntry(STOP_KEY), snapshot, FROZEN))


def test_entry_without_snapshot_waits_for_its_first_fetch() -> None:
    label = job_label(WatchEntry(KEY, "new"), None, FROZEN).plain
    assert label == f"… job {BATCH_ID[:8]} «new»  waiting for the first fetch"


def test_counts_text_lists_statuses_in_a_fixed_order() -> None:
    counts = Counter({"SUCCESS": 5, "RUNNING": 2, "FAIL": 1, "expired": 1, "WEIRD": 1})
    assert counts_text(counts).plain == ("● 2 running  ✗ 1 failed  ✓ 5 ok  ⊘ 1 expired  ? 1 weird")
    assert "press a to add" in counts_text(Counter()).plain


def test_poller_text_says_live_paused_throttled_or_offline() -> None:
    refreshed = FROZEN - timedelta(seconds=7)
    live = poller_text(paused=False, endpoints=[], last_refresh=refreshed, now=FROZEN)
    assert live.plain == "● live · refreshed 7s ago"
    paused = poller_text(paused=True, endpoints=[], last_refresh=None, now=FROZEN)
    assert paused.plain == "⏸ paused · refreshed never"
    throttled = poller_text(
        paused=False,
        endpoints=[EndpointState(ENDPOINT, backoff_seconds=12.2, throttled=True)],
        last_refresh=refreshed,
        now=FROZEN,
    )
    assert throttled.plain.startswith("⚠ throttled, backing off 12s · 0 req/s")
    offline = poller_text(
        paused=False,
        endpoints=[EndpointState(ENDPOINT, offline_reason="connection refused")],
        last_refresh=refreshed,
        now=FROZEN,
    )
    assert offline.plain.startswith("⚠ offline: connection refused")
    idle = poller_text(polling=False, paused=False, endpoints=[], last_refresh=None, now=FROZEN)
    assert idle.plain.startswith("○ not polling")


def test_raw_json_is_indented_and_escapes_control_characters() -> None:
    job = parse_job(stop_body(MARKUP_REASON + "\x9b31m"))
    text = raw_json(job.raw)
    assert isinstance(text, Text)
    assert '"job_type": "batchStopServer"' in text.plain
    assert "[bold red]boom[/]" in text.plain
    assert "\x1b" not in text.plain and "\x9b" not in text.plain
    assert "\\x9b31m" in text.plain


def test_default_palette_is_plain_rich_styles() -> None:
    assert DEFAULT_PALETTE.style(Role.ERROR) == DEFAULT_PALETTE.error
