"""Logout and the queue from Python, against the reference server and real SQLite files: clear
(checked on disk), its refusal without consent, each entity's sync state as a tracked read,
the queued mutations and discarding one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List

import pytest

from conftest import Server, wait_until
from mizu_sync import Client, Effect, MizuError, QueuedMutation, SyncState

MakeClient = Callable[..., Client]


@dataclass
class Todo:
    title: str
    completed: bool = False


class Unreachable:
    """Where nothing listens: every request fails at once."""

    base_url = "http://127.0.0.1:9/_sync"


def on_disk(db: Path) -> bytes:
    """The bytes of the store file and its WAL, as found on disk."""
    found = b""
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            found += path.read_bytes()
    return found


def test_clear_deletes_the_files_and_starts_afresh_with_a_new_client_id(
    server: Server, make_client: MakeClient, tmp_path: Path
) -> None:
    db = tmp_path / "store.db"
    client = make_client(server, storage_path=str(db))
    todos = client.collection("todo", Todo)
    todos.create("t1", Todo("secret-groceries-7f3a"))
    client.flush(timeout=20)
    assert b"secret-groceries-7f3a" in on_disk(db)
    old_id = client.client_id
    counts: List[int] = []
    effect = Effect(lambda: counts.append(todos.count()))

    client.clear()

    assert b"secret-groceries-7f3a" not in on_disk(db), "the old file and its WAL are gone"
    assert client.client_id != old_id
    assert len(todos) == 0
    assert counts[-1] == 0, "readers woke to the empty store"
    assert client.cursor == 0
    assert client.started, "syncing again, as before"
    client.sync()
    assert todos.get("t1") == Todo("secret-groceries-7f3a"), "caught up as a new installation"
    assert client.mutate("todo.noop").startswith(client.client_id)
    effect.stop()
    client.close()
    with Client(server.base_url, storage_path=str(db)) as reopened:
        assert reopened.client_id not in (old_id, "")


def test_clear_with_pending_writes_refuses_without_consent_and_keeps_everything(
    make_client: MakeClient, tmp_path: Path
) -> None:
    db = tmp_path / "store.db"
    client = make_client(Unreachable(), storage_path=str(db), start=False)
    todos = client.collection("todo", Todo)
    todos.create("t1", Todo("typed offline"))
    todos.create("t2", Todo("also offline"))
    client_id = client.client_id

    with pytest.raises(MizuError.PendingWrites) as refused:
        client.clear()
    assert refused.value.count == 2
    assert todos.get("t1") == Todo("typed offline")
    assert len(todos) == 2
    assert client.pending_count == 2
    assert client.client_id == client_id
    assert b"typed offline" in on_disk(db)

    client.clear(discard_pending=True)
    assert len(todos) == 0
    assert client.pending_count == 0
    assert client.client_id != client_id
    assert b"typed offline" not in on_disk(db)


def test_clear_can_flush_first_and_then_needs_no_consent(
    server: Server, make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(server, storage_path=str(tmp_path / "store.db"))
    client.collection("todo", Todo).create("t1", Todo("pushed before the wipe"))
    client.clear(flush_within=20)
    assert client.pending_count == 0
    other = make_client(server)
    other.sync()
    assert other.collection("todo", Todo).get("t1") == Todo("pushed before the wipe")


def test_sync_state_goes_pending_then_synced_and_an_effect_follows_it(
    server: Server, make_client: MakeClient
) -> None:
    client = make_client(server)
    todos = client.collection("todo", Todo)
    entity = todos.entity("t1")
    assert entity.sync_state == SyncState.Synced()
    states: List[SyncState] = []
    effect = Effect(lambda: states.append(entity.sync_state))

    client.pause()
    entity.set(Todo("first"))
    entity.set(Todo("second"))
    assert entity.sync_state == SyncState.Pending(mutations=2)
    assert todos.sync_state("t1") == SyncState.Pending(mutations=2)
    assert states[-1] == SyncState.Pending(2)
    client.resume()
    client.flush(timeout=20)
    wait_until("the effect sees Synced", lambda: states[-1] == SyncState.Synced())
    assert entity.sync_state == SyncState.Synced()
    assert isinstance(entity.sync_state, SyncState)
    effect.stop()


def test_a_rejected_write_shows_as_rejected_until_written_again(
    server: Server, make_client: MakeClient
) -> None:
    server.reject("todo.create", "reject-me", "sync: not allowed")
    client = make_client(server)
    entity = client.collection("todo", Todo).entity("t1")
    entity.set(Todo("reject-me"))
    wait_until("the write is rejected", lambda: isinstance(entity.sync_state, SyncState.Rejected))
    state = entity.sync_state
    assert isinstance(state, SyncState.Rejected)
    assert "not allowed" in state.reason
    assert entity.get() is None, "rolled back"

    entity.set(Todo("fine"))
    assert entity.sync_state == SyncState.Pending(mutations=1)
    client.flush(timeout=20)
    assert entity.sync_state == SyncState.Synced()


def test_pending_lists_the_queue_and_discard_rolls_one_back_like_a_rejection(
    durable_server: Server, make_client: MakeClient, scope: str
) -> None:
    client = make_client(durable_server)
    errors: List[MizuError] = []
    rejected: List[object] = []
    subs = [client.on_error(errors.append), client.on_rejected(rejected.append)]
    client.sync()
    durable_server.stop()
    todos = client.collection("todo", Todo)
    todos.create("t1", Todo("stuck"))
    todos.create("t2", Todo("kept"))
    wait_until(
        "a push was attempted", lambda: all(m.attempts >= 1 for m in client.pending())
    )

    queued = client.pending()
    assert [m.name for m in queued] == ["todo.create", "todo.create"]
    first = queued[0]
    assert isinstance(first, QueuedMutation)
    assert first.scope == scope
    assert 0 <= first.age < 60
    assert first.id.startswith(client.client_id)

    client.discard(first.id)
    assert todos.get("t1") is None, "rolled back"
    assert todos.sync_state("t1") == SyncState.Rejected("discarded by the app")
    assert client.pending_count == 1
    assert [m.id for m in client.pending()] == [queued[1].id]
    wait_until(
        "on_error is told",
        lambda: any(
            isinstance(e, MizuError.Rejected) and e.mutation_id == first.id for e in list(errors)
        ),
    )
    wait_until("on_rejected is told", lambda: any(r.mutation_id == first.id for r in rejected))
    with pytest.raises(MizuError.InvalidArgument):
        client.discard(first.id)

    durable_server.start()
    client.flush(timeout=20)
    other = make_client(durable_server)
    other.sync()
    others = other.collection("todo", Todo)
    assert others.get("t1") is None
    assert others.get("t2") == Todo("kept")
    for sub in subs:
        sub.cancel()
