"""The client from Python against the reference server: the quick example, convergence,
offline and back, rejections, failing listeners, threads, closing, bad inputs."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional

import pytest

from conftest import Server, wait_until
from mizu_sync import Change, Client, Computed, Effect, MizuError, Signal


@dataclass
class Todo:
    title: str
    completed: bool = False


MakeClient = Callable[..., Client]


def test_quick_example_with_a_todo_collection(server: Server, make_client: MakeClient) -> None:
    client = make_client(server)
    todos = client.collection("todo", Todo)
    todo = todos.create("todo-1", Todo("Learn sync"))
    printed: List[str] = []

    def show() -> None:
        t = todo.get()
        if t is not None:
            printed.append(f"{t.title} [{'done' if t.completed else 'pending'}]")

    e = Effect(show)
    todo.set(Todo("Learn sync", completed=True))
    client.flush(timeout=20)
    e.stop()
    assert printed == ["Learn sync [pending]", "Learn sync [done]"]
    assert client.pending_count == 0
    assert todos["todo-1"] == Todo("Learn sync", True)
    assert client.status.online


def test_two_clients_converge(server: Server, make_client: MakeClient) -> None:
    alice, bob = make_client(server), make_client(server)
    alice_todos = alice.collection("todo", Todo)
    bob_todos = bob.collection("todo", Todo)
    changes: List[Change[Todo]] = []
    sub = bob_todos.subscribe(changes.append)
    alice_todos.create("a", Todo("from alice"))
    bob_todos["b"] = Todo("from bob")
    alice.flush(20)
    bob.flush(20)
    alice.sync()
    bob.sync()
    wait_until("both see both", lambda: len(alice_todos) == 2 and len(bob_todos) == 2)
    assert alice_todos.items() == bob_todos.items()
    assert dict(bob_todos.items()) == {"a": Todo("from alice"), "b": Todo("from bob")}
    wait_until(
        "bob's listener saw alice's todo",
        lambda: any(id == "a" for c in list(changes) for id, _ in c.changed),
    )
    sub.cancel()


def test_offline_writes_reach_the_server_after_it_comes_back(
    durable_server: Server, make_client: MakeClient, tmp_path: Path
) -> None:
    writer = make_client(durable_server, storage_path=str(tmp_path / "writer.db"))
    went_offline, came_online = threading.Event(), threading.Event()
    # Keep the subscriptions: dropping one cancels its listener.
    subs = [writer.on_connectivity(lambda online: (came_online if online else went_offline).set())]
    todos = writer.collection("todo", Todo)
    todos.create("before", Todo("before the outage"))
    writer.flush(20)
    wait_until("the writer is online", lambda: writer.online)

    durable_server.stop()
    todos.create("during", Todo("written offline"))
    assert todos["during"] == Todo("written offline")  # local writes never wait
    assert went_offline.wait(20)
    assert writer.pending_count == 1

    durable_server.start()  # same address, same database
    assert came_online.wait(20)
    writer.flush(20)
    reader = make_client(durable_server)
    reader.sync()
    wait_until("the reader has both", lambda: len(reader.collection("todo")) == 2)
    assert reader.collection("todo")["during"] == {"title": "written offline", "completed": False}
    for sub in subs:
        sub.cancel()


def test_rejected_mutation_surfaces_as_event_and_error(
    server: Server, make_client: MakeClient
) -> None:
    server.reject("todo.create", "forbidden", "titles may not say forbidden")
    client = make_client(server)
    rejected: List[Any] = []
    errors: List[MizuError] = []
    subs = [client.on_rejected(rejected.append), client.on_error(errors.append)]
    todos = client.collection("todo", Todo)
    todos.create("bad", Todo("forbidden"))
    wait_until("the rejection arrives", lambda: len(rejected) == 1)
    assert rejected[0].name == "todo.create"
    assert "titles may not say forbidden" in rejected[0].reason
    wait_until("rolled back", lambda: "bad" not in todos)
    wait_until(
        "reported as an error",
        lambda: any(
            isinstance(e, MizuError.Rejected) and e.mutation_id == rejected[0].mutation_id
            for e in list(errors)
        ),
    )
    assert all(not sub.cancelled for sub in subs)


def test_a_raising_listener_does_not_break_sync(server: Server, make_client: MakeClient) -> None:
    client = make_client(server)
    errors: List[MizuError] = []
    on_error = client.on_error(errors.append)
    calls: List[int] = []

    def failing(cursor: int) -> None:
        calls.append(cursor)
        raise ValueError("listener bug")

    on_sync = client.on_sync(failing)
    todos = client.collection("todo")
    for i in range(3):
        todos[f"t{i}"] = {"n": i}
        client.flush(20)
    wait_until("several syncs", lambda: len(calls) >= 2)
    assert any(isinstance(e, MizuError.Callback) and "listener bug" in str(e) for e in errors)
    assert client.pending_count == 0
    assert client.online
    on_sync.cancel()
    on_error.cancel()


def test_sync_thread_callbacks_while_the_main_thread_calls_in(
    server: Server, make_client: MakeClient
) -> None:
    writer, reader = make_client(server), make_client(server)
    reader_todos = reader.collection("todo")
    seen_threads: set[str] = set()
    counts: List[int] = []

    def on_change(change: Change[Any]) -> None:
        # Runs on the reader's sync thread; calls back into the library.
        seen_threads.add(threading.current_thread().name)
        counts.append(len(reader_todos))
        reader.status  # noqa: B018

    sub = reader_todos.subscribe(on_change)
    writer_todos = writer.collection("todo")
    for i in range(20):
        writer_todos[f"t{i}"] = i
    writer.flush(20)
    # Meanwhile this thread keeps calling in (holding and releasing the GIL).
    wait_until(
        "the reader has all twenty",
        lambda: len(reader_todos) == 20 and bool(counts) and counts[-1] == 20,
    )
    sub.cancel()
    assert len(seen_threads - {threading.current_thread().name}) >= 1


def test_python_computed_depends_on_a_collection_count_and_a_signal(
    server: Server, make_client: MakeClient
) -> None:
    client = make_client(server)
    todos = client.collection("todo", Todo)
    per_todo = Signal(10)
    cost = Computed(lambda: len(todos) * per_todo.get())
    seen: List[int] = []
    sub = cost.subscribe(seen.append)
    todos.create("a", Todo("a"))
    todos.set("a", Todo("a", True))  # not a membership change
    per_todo.set(3)
    del todos["a"]
    sub.cancel()
    assert seen == [0, 10, 3, 0]


def test_entity_async_iterator_sees_server_changes(server: Server, make_client: MakeClient) -> None:
    writer, reader = make_client(server), make_client(server)

    async def main() -> List[Optional[Todo]]:
        seen: List[Optional[Todo]] = []
        entity = reader.collection("todo", Todo).entity("x")
        async for value in entity.changes():
            seen.append(value)
            if value is None:
                writer.collection("todo", Todo).create("x", Todo("first"))
                await asyncio.to_thread(writer.flush, 20)
            elif not value.completed:
                writer.collection("todo", Todo).update("x", Todo("first", True))
                await asyncio.to_thread(writer.flush, 20)
            else:
                break
        return seen

    seen = asyncio.run(asyncio.wait_for(main(), 30))
    assert seen[0] is None
    assert seen[-1] == Todo("first", True)


def test_closing_the_client_makes_calls_raise_closed(server: Server) -> None:
    with Client(server.base_url, scope="closing") as client:
        todos = client.collection("todo")
        status_seen: List[Any] = []
        sub = client.subscribe_status(status_seen.append)
        assert len(status_seen) == 1
    assert client.closed
    assert sub.cancelled
    with pytest.raises(MizuError.Closed):
        client.start()
    with pytest.raises(MizuError.Closed):
        todos["a"] = 1
    with pytest.raises(MizuError.Closed):
        client.collection("todo")


def test_bad_inputs_raise_clear_python_exceptions(server: Server) -> None:
    with pytest.raises(MizuError.InvalidArgument):
        Client("not a url")
    with Client(server.base_url) as client:
        todos = client.collection("todo", Todo)
        with pytest.raises(TypeError, match="expected Todo"):
            todos.create("a", {"title": "a dict"})  # type: ignore[arg-type]
        todos.create("a", Todo("ok"))
        with pytest.raises(MizuError.InvalidArgument):
            todos.create("a", Todo("again"))
        with pytest.raises(MizuError.InvalidArgument):
            todos.create("", Todo("empty id"))
        with pytest.raises(MizuError.NotFound):
            todos.update("missing", Todo("x"))
        with pytest.raises(KeyError):
            todos["missing"]
        with pytest.raises(MizuError.Offline):
            client.flush(0.1)  # never started
        with pytest.raises(TypeError):
            client.mutate("todo.archive", {1, 2})
        with pytest.raises(ValueError):
            client.flush(-1)


def test_a_snapshot_over_max_snapshot_bytes_is_reported_and_the_client_stays_online(
    server: Server, make_client: MakeClient
) -> None:
    writer = make_client(server)
    notes = writer.collection("note")
    for i in range(3):
        notes.create(f"n{i}", {"text": "x" * 2000})
    writer.flush(20)
    reader = make_client(server, max_snapshot_bytes=1000)
    errors: List[MizuError] = []
    sub = reader.on_error(errors.append)
    wait_until(
        "the limit is reported",
        lambda: any(
            isinstance(e, MizuError.SnapshotTooLarge) and e.limit == 1000 for e in list(errors)
        ),
    )
    status = reader.status
    assert status.online
    assert status.last_error is not None and "limit of 1000 bytes" in status.last_error
    assert len(reader.collection("note")) == 0
    sub.cancel()
