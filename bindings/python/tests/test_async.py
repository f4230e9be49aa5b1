"""The awaitable forms, the delivery context and the token provider, against the reference
server, a server that hangs, a token gate and real SQLite files. Each test runs its coroutine
with ``asyncio.run`` (no pytest plugin), bounded by ``wait_for``."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Coroutine, List, Optional, Set, Tuple

import pytest

from conftest import WAIT, HangingServer, Server, TokenGate, wait_until
from mizu_sync import EVENT_BUFFER, Client, Effect, MizuError, Stream
from mizu_sync._stream import drop_oldest

MakeClient = Callable[..., Client]


def run(main: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(main(), timeout))


def test_an_awaited_sync_flush_mutate_and_close_complete(
    server: Server, make_client: MakeClient
) -> None:
    writer, reader = make_client(server), make_client(server)

    async def main() -> None:
        todos = writer.collection("todo")
        entity = await todos.create_async("a", {"title": "awaited"})
        assert entity.get() == {"title": "awaited"}
        await todos.set_async("b", {"title": "set"})
        await entity.set_async({"title": "awaited, then set"})
        await todos.create_async("c", {"title": "to delete"})
        await todos.delete_async("c")
        await todos.entity("b").delete_async()
        mutation = await writer.mutate_async("note.create", {"id": "n1", "data": {"t": 1}})
        assert mutation.startswith(writer.client_id)
        await writer.flush_async(WAIT)
        assert writer.pending_count == 0
        await reader.sync_async()
        assert reader.collection("todo").items() == [("a", {"title": "awaited, then set"})]
        assert reader.collection("note")["n1"] == {"t": 1}
        await reader.close_async()
        assert reader.closed
        with pytest.raises(MizuError.Closed):
            await reader.sync_async()

    run(main)


@pytest.mark.parametrize("operation", ["sync", "flush"])
def test_cancelling_an_awaited_sync_or_flush_on_a_hanging_server_returns_at_once(
    hanging_server: HangingServer, make_client: MakeClient, operation: str
) -> None:
    client = make_client(hanging_server, request_timeout=20.0)
    client.collection("todo").set("a", {"pending": True})  # something for flush to wait for

    async def main() -> Tuple[float, float]:
        # The engine's first request is in flight, and will hang for the request timeout.
        assert await asyncio.to_thread(hanging_server.accepted.wait, WAIT)
        started = time.monotonic()
        awaited = client.sync_async() if operation == "sync" else client.flush_async(30.0)
        task = asyncio.ensure_future(awaited)
        await asyncio.sleep(0)  # one loop step: the task runs up to its first await
        assert not task.done()
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        returned_at = time.monotonic()
        assert client.pending_count == 1  # still waiting: cancelling stopped only the wait
        return returned_at - cancelled_at, returned_at - started

    after_cancel, in_all = run(main)
    print(f"\n{operation}_async cancelled: returned {after_cancel * 1000:.1f} ms after cancel()")
    assert after_cancel < 2.0
    assert in_all < 2.0  # far below the 20 s request timeout


def test_awaited_writes_commit_off_the_event_loop_which_keeps_ticking(tmp_path: Path) -> None:
    path = str(tmp_path / "client.db")
    writes = 200

    async def main() -> Tuple[int, float, float, Set[int]]:
        loop_thread = threading.get_ident()
        commit_threads: Set[int] = set()
        with Client("http://127.0.0.1:9/_sync", storage_path=path) as client:
            todos = client.collection("todo")
            # Without a delivery context, an awaited write's listeners run on the thread that
            # committed it.
            sub = todos.subscribe(lambda change: commit_threads.add(threading.get_ident()))
            commit_threads.clear()  # the first call (every entity, now) ran here
            ticks: List[float] = []
            done = False

            async def ticker() -> None:
                while not done:
                    ticks.append(time.monotonic())
                    await asyncio.sleep(0.001)

            ticking = asyncio.ensure_future(ticker())
            await asyncio.sleep(0)
            started = time.monotonic()
            for i in range(writes - 2):
                await todos.set_async(f"t{i:03}", {"n": i})
            await todos.create_async("created", {"n": -1})
            await todos.delete_async("t000")
            took = time.monotonic() - started
            done = True
            await ticking
            sub.cancel()
            assert todos.get("t197") == {"n": 197}  # visible once awaited
            assert "t000" not in todos
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        assert loop_thread not in commit_threads
        return len(ticks), max(gaps), took, commit_threads

    ticks, max_gap, took, commit_threads = run(main)
    print(
        f"\n{writes} awaited writes took {took * 1000:.0f} ms; the loop ticked {ticks} times, "
        f"its longest gap {max_gap * 1000:.1f} ms"
    )
    assert commit_threads, "the listeners of the awaited writes ran"
    assert ticks >= 20
    assert max_gap < took / 4
    # Durable: a new client on the same file finds the writes.
    with Client("http://127.0.0.1:9/_sync", storage_path=path) as reopened:
        todos = reopened.collection("todo")
        assert len(todos) == writes - 2  # 198 set, 1 created, 1 deleted
        assert todos["t197"] == {"n": 197}
        assert todos["created"] == {"n": -1}
        assert reopened.pending_count > 0  # queued durably too, never synced


def test_server_changes_reach_listeners_on_the_delivery_loop_only_when_it_dispatches(
    server: Server, make_client: MakeClient
) -> None:
    writer = make_client(server)

    async def main() -> None:
        loop_thread = threading.get_ident()
        reader = make_client(server, delivery=asyncio.get_running_loop())
        todos = reader.collection("todo")
        calls: List[Tuple[str, int]] = []
        all_called = asyncio.Event()
        kinds = {"entity", "collection", "query", "effect", "sync", "status"}

        def record(kind: str) -> None:
            calls.append((kind, threading.get_ident()))
            if {k for k, _ in calls} >= kinds:
                all_called.set()

        subs = [
            todos.entity("x").subscribe(lambda value: value and record("entity")),
            todos.subscribe(lambda change: change.changed and record("collection")),
            todos.query().subscribe(lambda rows: None, lambda diff: record("query")),
            reader.on_sync(lambda cursor: record("sync")),
            reader.subscribe_status(lambda status: record("status")),
        ]
        effect = Effect(lambda: todos.get("x") and record("effect"))
        await reader.sync_async()
        calls.clear()

        # The loop's thread is busy here (blocking calls): nothing may run listeners.
        writer.collection("todo").create("x", {"title": "from the writer"})
        writer.flush(WAIT)
        reader.sync()
        assert reader.collection("todo").items() == [("x", {"title": "from the writer"})]
        assert calls == [], "listeners ran before the loop dispatched them"

        await asyncio.wait_for(all_called.wait(), WAIT)  # the loop is free: it dispatches
        assert {thread for _, thread in calls} == {loop_thread}
        effect.stop()
        for sub in subs:
            sub.cancel()

    run(main)


def test_awaited_writes_and_client_events_run_on_an_executor_delivery(
    server: Server, make_client: MakeClient
) -> None:
    with ThreadPoolExecutor(1, thread_name_prefix="mizu-delivery") as executor:
        client = make_client(server, delivery=executor)
        todos = client.collection("todo")
        threads: List[Tuple[str, str]] = []
        subs = [
            todos.subscribe(lambda change: threads.append(("change", _thread()))),
            client.on_sync(lambda cursor: threads.append(("sync", _thread()))),
        ]
        threads.clear()

        async def write() -> None:
            await todos.set_async("a", {"n": 1})
            await client.flush_async(WAIT)

        run(write)
        wait_until(
            "the write's listener and a sync ran",
            lambda: {k for k, _ in threads} >= {"change", "sync"},
        )
        assert {name for _, name in threads} == {"mizu-delivery_0"}
        assert client.dispatch_pending() >= 0
        for sub in subs:
            sub.cancel()
        client.close()


def _thread() -> str:
    return threading.current_thread().name


def test_an_async_token_provider_is_awaited_on_the_loop_and_refreshed_after_a_401(
    server: Server, make_client: MakeClient
) -> None:
    gate = TokenGate(server, accepted={"fresh"})
    asked: List[Tuple[bool, int]] = []

    async def main() -> None:
        loop_thread = threading.get_ident()
        refreshed = False

        async def token(refresh: bool) -> Optional[str]:
            nonlocal refreshed
            asked.append((refresh, threading.get_ident()))
            await asyncio.sleep(0)  # a real await on the loop (a refresh request would be here)
            refreshed = refreshed or refresh
            return "fresh" if refreshed else "stale"

        client = make_client(gate, token_provider=token)
        await client.collection("todo").set_async("a", {"title": "behind the gate"})
        await client.flush_async(WAIT)
        assert {thread for _, thread in asked} == {loop_thread}
        await client.close_async()

    try:
        run(main)
    finally:
        gate.stop()
    assert asked[0][0] is False
    assert [refresh for refresh, _ in asked].count(True) >= 1
    assert gate.seen[0] == "stale" and "fresh" in gate.seen
    reader = make_client(server)
    reader.sync()
    assert reader.collection("todo")["a"] == {"title": "behind the gate"}


def test_an_async_token_provider_without_a_running_loop_runs_on_the_io_thread(
    server: Server, make_client: MakeClient
) -> None:
    gate = TokenGate(server, accepted={"fresh"})
    threads: Set[str] = set()

    async def token(refresh: bool) -> str:
        threads.add(_thread())
        await asyncio.sleep(0)
        return "fresh" if refresh else "stale"

    try:
        client = make_client(gate, token_provider=token)
        client.collection("todo")["a"] = 1
        client.flush(WAIT)
    finally:
        gate.stop()
    assert threads and threading.current_thread().name not in threads
    assert "stale" in gate.seen and "fresh" in gate.seen


def test_a_synchronous_token_provider_still_works(server: Server, make_client: MakeClient) -> None:
    gate = TokenGate(server, accepted={"fresh"})
    asked: List[bool] = []

    def token(refresh: bool) -> str:
        asked.append(refresh)
        return "fresh" if True in asked else "stale"

    try:
        client = make_client(gate, token_provider=token)
        client.collection("todo")["a"] = 1
        client.flush(WAIT)
    finally:
        gate.stop()
    assert asked[0] is False and True in asked
    assert gate.forwarded > 0


def test_a_hanging_async_token_provider_fails_the_request_within_the_request_timeout(
    server: Server, make_client: MakeClient
) -> None:
    async def main() -> float:
        async def token(refresh: bool) -> str:
            await asyncio.Event().wait()  # never answers
            return "never"

        client = make_client(server, token_provider=token, request_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(MizuError.Unauthorized, match="did not answer"):
            await client.sync_async()
        return time.monotonic() - started

    took = run(main)
    print(f"\nthe hanging provider failed the sync after {took * 1000:.0f} ms")
    assert took < 10.0


def test_client_event_streams_and_status_changes(server: Server, make_client: MakeClient) -> None:
    server.reject("todo.create", "forbidden", "no")
    client = make_client(server)

    async def main() -> None:
        statuses = client.status_changes()
        first = await statuses.__anext__()
        assert first.pending >= 0
        syncs, rejections, errors = client.syncs(), client.rejections(), client.errors()
        syncing = asyncio.ensure_future(syncs.__anext__())
        rejected = asyncio.ensure_future(rejections.__anext__())
        failed = asyncio.ensure_future(errors.__anext__())
        await asyncio.sleep(0)  # the three streams subscribe
        await client.collection("todo").create_async("bad", {"title": "forbidden"})
        assert (await asyncio.wait_for(rejected, WAIT)).name == "todo.create"
        assert isinstance(await asyncio.wait_for(failed, WAIT), MizuError.Rejected)
        assert await asyncio.wait_for(syncing, WAIT) >= 0
        for stream in (statuses, syncs, rejections, errors):
            await stream.aclose()  # type: ignore[attr-defined]
        online = client.connectivity()
        assert isinstance(online, Stream)
        await online.aclose()

    run(main)


def test_a_plain_event_stream_keeps_the_newest_events_when_full() -> None:
    async def main() -> List[int]:
        sinks: List[Callable[[int], None]] = []

        class _Sub:
            def cancel(self) -> None:
                pass

        def subscribe(push: Callable[[int], None]) -> Any:
            sinks.append(push)
            return _Sub()

        stream: Stream[int] = Stream(subscribe, EVENT_BUFFER, drop_oldest)
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)  # subscribes
        sinks[0](0)
        assert await first == 0
        for i in range(1, 101):
            sinks[0](i)
        taken = [await stream.__anext__() for _ in range(EVENT_BUFFER)]
        assert stream._buffered == 0
        return taken

    assert run(main) == list(range(101 - EVENT_BUFFER, 101))
