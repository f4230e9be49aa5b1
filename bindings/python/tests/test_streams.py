"""The async iterators never buffer without bound: a consumer that stops taking items while a
thread writes 10,000 times finds at most the bound waiting (one value for state streams,
EVENT_BUFFER events for event streams), and what it then takes ends at the right state."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Coroutine, Dict, Iterator, List, Tuple

import pytest

from mizu_sync import (
    EVENT_BUFFER,
    Change,
    Client,
    Collection,
    QueryDiff,
    QueryResult,
    Signal,
    Stream,
    apply_diff,
)

WRITES = 10_000


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 120))


@pytest.fixture
def todos() -> Iterator[Collection[Any]]:
    # An in-memory store that never syncs: every write is local and notifies at once.
    with Client("http://127.0.0.1:9/_sync") as client:
        yield client.collection("todo")


def write_many(todos: Collection[Any]) -> None:
    """WRITES writes over 150 ids: creates, updates and deletes, each its own transaction."""
    for i in range(WRITES):
        id = f"e{i % 150:03}"
        if i % 7 == 3 and id in todos:
            todos.delete(id)
        else:
            todos.set(id, {"n": i})


def test_event_buffer_is_64() -> None:
    assert EVENT_BUFFER == 64


def test_a_slow_consumer_of_signal_changes_finds_only_the_latest_value() -> None:
    async def main() -> None:
        count = Signal(0)
        stream = count.changes()
        assert isinstance(stream, Stream)
        assert await stream.__anext__() == 0

        def write() -> None:
            for i in range(1, WRITES + 1):
                count.set(i)

        await asyncio.to_thread(write)
        assert stream._high_water == 1
        assert stream._buffered == 1
        assert await stream.__anext__() == WRITES
        assert stream._buffered == 0
        count.set(-1)
        assert await stream.__anext__() == -1
        await stream.aclose()

    run(main)


def test_a_slow_consumer_of_entity_changes_and_query_results_finds_only_the_latest(
    todos: Collection[Any],
) -> None:
    async def main() -> None:
        entity = todos.entity("e000")
        values = entity.changes()
        query = todos.query().order_by("n")
        results = query.results()
        assert await values.__anext__() is None
        assert await results.__anext__() == []

        await asyncio.to_thread(write_many, todos)
        for stream in (values, results):
            assert stream._high_water == 1  # type: ignore[attr-defined]
        assert await values.__anext__() == todos.get("e000")
        assert await results.__anext__() == query.get()
        await values.aclose()  # type: ignore[attr-defined]
        await results.aclose()  # type: ignore[attr-defined]

    run(main)


def test_a_slow_consumer_of_query_diffs_restarts_from_a_fresh_result(
    todos: Collection[Any],
) -> None:
    async def main() -> None:
        query = todos.query().order_by("n", "desc")
        events = query.diffs()
        first = await events.__anext__()
        assert first == QueryResult([])

        await asyncio.to_thread(write_many, todos)
        assert events._high_water == EVENT_BUFFER  # type: ignore[attr-defined]
        assert events._buffered == 0, "the full buffer was dropped"  # type: ignore[attr-defined]
        fresh = await events.__anext__()
        assert isinstance(fresh, QueryResult)
        rows = list(fresh.rows)
        assert rows == query.get()
        assert events._buffered == 0  # type: ignore[attr-defined]

        # The diffs after it apply to it, in order.
        todos.set("last", {"n": WRITES + 1})
        todos.delete(rows[-1][0])
        for _ in range(2):
            diff = await events.__anext__()
            assert isinstance(diff, QueryDiff)
            apply_diff(rows, diff)
        assert rows == query.get()
        await events.aclose()  # type: ignore[attr-defined]

    run(main)


def test_query_diffs_within_the_buffer_arrive_one_by_one(todos: Collection[Any]) -> None:
    async def main() -> None:
        query = todos.query().order_by("n")
        events = query.diffs()
        assert await events.__anext__() == QueryResult([])
        for i in range(EVENT_BUFFER):
            todos.set(f"e{i:03}", {"n": i})
        assert events._buffered == EVENT_BUFFER  # type: ignore[attr-defined]
        rows: List[Tuple[str, Any]] = []
        for _ in range(EVENT_BUFFER):
            event = await events.__anext__()
            assert isinstance(event, QueryDiff)
            apply_diff(rows, event)
        assert rows == query.get()
        await events.aclose()  # type: ignore[attr-defined]

    run(main)


def test_a_slow_consumer_of_collection_changes_gets_them_merged(
    todos: Collection[Any],
) -> None:
    async def main() -> None:
        todos.set("kept", {"n": -1})
        changes = todos.changes()
        entries: Dict[str, Any] = {}
        first = await changes.__anext__()
        assert first == Change(changed=[("kept", {"n": -1})], removed=[])
        first.apply_to(entries)

        await asyncio.to_thread(write_many, todos)
        assert changes._high_water <= 64  # type: ignore[attr-defined]
        taken = 0
        while changes._buffered:  # type: ignore[attr-defined]
            (await changes.__anext__()).apply_to(entries)
            taken += 1
        assert 1 <= taken <= 64
        assert sorted(entries.items()) == todos.items()
        await changes.aclose()  # type: ignore[attr-defined]

    run(main)


def test_dropping_a_stream_after_break_cancels_its_subscription() -> None:
    count = Signal(0)

    async def main() -> None:
        stream = count.changes()
        channel = stream._channel  # type: ignore[attr-defined]
        async for value in stream:
            assert value == 0
            break
        count.set(1)
        assert len(channel.items) == 1, "still subscribed while the stream is referenced"
        await stream.__anext__()
        del stream  # the generator is finalized: asyncio schedules a task that closes it
        cancelled = False
        for n in range(2, 100):
            # A yield to the loop (not a timed wait) lets that task run.
            await asyncio.sleep(0)
            count.set(n)
            cancelled = not channel.items
            if cancelled:
                break
            channel.items.clear()
        assert cancelled, "the subscription was cancelled"

    run(main)
