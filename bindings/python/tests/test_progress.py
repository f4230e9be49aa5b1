"""Sync you can see, from Python, against the reference server and real SQLite files: download
progress through a long pull (seen by a status listener), ``has_synced`` and
``wait_for_first_sync`` (persisted across a reopen), and ``sync_once`` for background tasks,
bounded against a server that hangs."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

from conftest import HangingServer, Server, wait_until
from mizu_sync import Client, MizuError, SyncProgress, SyncReport, SyncStatus

MakeClient = Callable[..., Client]

PULL_LIMIT = 100
LONG_PULL = 1_200


@dataclass
class Todo:
    title: str
    completed: bool = False


def test_download_progress_rises_monotonically_to_complete_through_a_long_pull(
    server: Server, make_client: MakeClient
) -> None:
    writer = make_client(server)
    todos = writer.collection("todo", Todo)
    # A first change, so the reader's cursor is past 0 and it pulls (a cursor of 0 snapshots).
    todos.create("first", Todo("x"))
    writer.flush(timeout=20)
    reader = make_client(server, pull_limit=PULL_LIMIT)
    reader.sync()
    assert reader.cursor > 0
    reader.pause()
    seen: List[SyncProgress] = []
    lock = threading.Lock()

    def record(status: SyncStatus) -> None:
        with lock:
            seen.append(status.download)

    subscription = reader.subscribe_status(record)
    for i in range(LONG_PULL):
        todos.create(f"t{i:04}", Todo("x"))
    writer.flush(timeout=30)
    with lock:
        seen.clear()
    reader.resume()
    reader.sync()
    assert len(reader.collection("todo", Todo)) == LONG_PULL + 1
    wait_until(
        "the listener saw the pull complete",
        lambda: bool(seen) and seen[-1].is_complete and seen[-1].total >= LONG_PULL,
    )
    subscription.cancel()

    with lock:
        downloads = list(seen)
    # At least one status per page of PULL_LIMIT changes.
    assert len(downloads) >= LONG_PULL // PULL_LIMIT, downloads
    for before, after in zip(downloads, downloads[1:]):
        assert after.done >= before.done, f"never backwards: {downloads}"
        assert after.done <= after.total, downloads
    last = downloads[-1]
    assert last.is_complete and last.total >= LONG_PULL, f"ends complete: {last}"
    assert last.fraction == 1.0
    partway = [d for d in downloads if 0 < d.done < d.total]
    assert len(partway) >= 5, f"partway shown page by page: {downloads}"
    assert all(0.0 < d.fraction < 1.0 for d in partway), partway
    assert reader.status.download.is_complete


def test_has_synced_is_false_before_true_after_wait_for_first_sync_and_persisted(
    server: Server, make_client: MakeClient, tmp_path: Path
) -> None:
    db = str(tmp_path / "store.db")
    client = make_client(server, storage_path=db, start=False)
    assert client.status.has_synced is False
    with pytest.raises(MizuError.Offline):
        client.wait_for_first_sync(timeout=1)
    client.start()
    client.wait_for_first_sync()
    status = client.status
    assert isinstance(status, SyncStatus) and status.has_synced is True
    assert status.download.is_complete and status.upload == SyncProgress(0, 0)
    client.close()

    reopened = make_client(server, storage_path=db, start=False)
    assert reopened.status.has_synced is True, "persisted with the store"
    started = time.monotonic()
    reopened.wait_for_first_sync(timeout=0)
    assert time.monotonic() - started < 0.5, "at once, even before start"
    reopened.clear()
    assert reopened.status.has_synced is False, "cleared with the store"


def test_wait_for_first_sync_times_out_against_a_hanging_server(
    hanging_server: HangingServer, make_client: MakeClient
) -> None:
    client = make_client(hanging_server, request_timeout=30.0)
    started = time.monotonic()
    with pytest.raises(MizuError.Timeout):
        client.wait_for_first_sync(timeout=0.3)
    took = time.monotonic() - started
    assert 0.25 <= took < 2.3, took
    assert client.status.has_synced is False


def test_wait_for_first_sync_async_returns_and_cancels_at_once(
    server: Server, hanging_server: HangingServer, make_client: MakeClient
) -> None:
    synced = make_client(server)
    waiting = make_client(hanging_server, request_timeout=30.0)

    async def main() -> float:
        await asyncio.wait_for(synced.wait_for_first_sync_async(), 20)
        task = asyncio.ensure_future(waiting.wait_for_first_sync_async(timeout=30))
        await asyncio.sleep(0.2)
        assert not task.done()
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    took = asyncio.run(main())
    assert synced.status.has_synced is True
    assert took < 1.0, took


def test_sync_once_catches_up_a_stopped_client_and_leaves_it_stopped(
    server: Server, make_client: MakeClient
) -> None:
    other = make_client(server)
    other.collection("todo", Todo).create("from-other", Todo("remote"))
    other.flush(timeout=20)

    client = make_client(server, start=False)
    todos = client.collection("todo", Todo)
    for i in range(5):
        todos.create(f"t{i}", Todo("offline"))
    assert client.pending_count == 5

    report = client.sync_once(within=20)

    assert isinstance(report, SyncReport)
    assert report.caught_up, report
    assert report.pushed == 5, report
    assert report.pulled > 0, report
    assert report.error is None, report
    assert 0 <= report.elapsed < 20, report
    assert not client.started, "stopped again"
    assert client.pending_count == 0
    assert todos.get("from-other") == Todo("remote")
    other.sync()
    assert other.collection("todo", Todo).get("t4") == Todo("offline"), "on the server"


def test_sync_once_returns_at_its_deadline_against_a_hanging_server(
    hanging_server: HangingServer, make_client: MakeClient
) -> None:
    client = make_client(hanging_server, request_timeout=30.0, start=False)
    client.collection("todo", Todo).create("t1", Todo("waits"))
    within = 0.5
    started = time.monotonic()

    report = client.sync_once(within)

    took = time.monotonic() - started
    assert took < within + 2.0, f"returned at its deadline: {took:.2f} s"
    assert report.elapsed >= within * 0.9, report
    assert not report.caught_up, report
    assert report.pushed == 0, report
    assert not client.started
    assert client.pending_count == 1, "the write waits for the next chance"


def test_sync_once_async_runs_off_the_loop(server: Server, make_client: MakeClient) -> None:
    client = make_client(server, start=False)
    client.collection("todo", Todo).create("t1", Todo("queued"))

    async def main() -> Tuple[SyncReport, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.ensure_future(tick())
        report = await client.sync_once_async(within=20)
        ticker.cancel()
        return report, ticks

    report, ticks = asyncio.run(main())
    assert report.caught_up and report.pushed == 1, report
    assert ticks > 0, "the loop kept running"
