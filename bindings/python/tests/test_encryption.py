"""Encryption at rest from Python: an encrypted store's file and WAL hold none of the written
text, it reopens with its key only (``MizuError.WrongKey`` otherwise), ``rekey`` changes the key,
and a store without a key stays plain SQLite that the stock ``sqlite3`` module reads."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List

import pytest

from conftest import Server
from mizu_sync import Client, Durability, MizuError

KEY = "correct horse battery staple"
LOCAL_SECRET = "py-local-secret-3e9d1"
PULLED_SECRET = "py-pulled-secret-77ac0"

MakeClient = Callable[..., Client]


@dataclass
class Todo:
    title: str
    completed: bool = False


def files_holding(db: Path, needle: str) -> List[str]:
    """Which of the store file and its WAL hold ``needle`` in clear (raw bytes)."""
    found = []
    for path in (db, Path(f"{db}-wal")):
        if path.exists() and needle.encode() in path.read_bytes():
            found.append(path.name)
    return found


def offline(db: Path, **options: object) -> Client:
    """A client on ``db`` that never reaches a server (it is not started)."""
    return Client("http://127.0.0.1:9/_sync", storage_path=str(db), **options)  # type: ignore[arg-type]


def write_secrets(server: Server, make_client: MakeClient, db: Path, **options: object) -> Client:
    """A synced client on ``db`` holding a local write and a change pulled from another writer."""
    client = make_client(server, storage_path=str(db), **options)
    client.collection("todo", Todo).create("t1", Todo(LOCAL_SECRET))
    other = make_client(server)
    other.collection("todo", Todo).create("t2", Todo(PULLED_SECRET))
    other.flush(20)
    client.flush(20)
    client.sync()
    assert client.collection("todo", Todo)["t2"] == Todo(PULLED_SECRET)
    return client


def test_an_encrypted_store_holds_no_plaintext_and_reopens_with_its_key(
    server: Server, make_client: MakeClient, tmp_path: Path
) -> None:
    db = tmp_path / "encrypted.db"
    client = write_secrets(server, make_client, db, encryption_key=KEY)
    for phase in ("open", "closed"):
        assert not db.read_bytes().startswith(b"SQLite format 3"), phase
        for secret in (LOCAL_SECRET, PULLED_SECRET, "CREATE TABLE"):
            assert files_holding(db, secret) == [], (phase, secret)
        client.close()
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(db).execute("SELECT count(*) FROM sqlite_master").fetchone()
    with offline(db, encryption_key=KEY) as reopened:
        todos = reopened.collection("todo", Todo)
        assert dict(todos.items()) == {"t1": Todo(LOCAL_SECRET), "t2": Todo(PULLED_SECRET)}


def test_a_plain_store_is_stock_sqlite_with_the_text_in_clear(
    server: Server, make_client: MakeClient, tmp_path: Path
) -> None:
    db = tmp_path / "plain.db"
    write_secrets(server, make_client, db).close()
    assert files_holding(db, LOCAL_SECRET) != []
    rows = sqlite3.connect(db).execute("SELECT id, value FROM base ORDER BY id").fetchall()
    assert [row[0] for row in rows] == ["t1", "t2"]
    assert PULLED_SECRET in rows[1][1]


def test_a_wrong_or_missing_key_raises_wrong_key(tmp_path: Path) -> None:
    db = tmp_path / "keyed.db"
    with offline(db, encryption_key=KEY) as client:
        client.collection("todo", Todo).create("t1", Todo(LOCAL_SECRET))
    before = db.read_bytes()
    with pytest.raises(MizuError.WrongKey, match="does not decrypt"):
        offline(db, encryption_key="not the key")
    with pytest.raises(MizuError.WrongKey, match="is encrypted"):
        offline(db)
    assert db.read_bytes() == before
    with offline(db, encryption_key=KEY) as client:
        assert client.collection("todo", Todo)["t1"] == Todo(LOCAL_SECRET)
        assert client.pending_count == 1


def test_rekey_then_only_the_new_key_opens_the_store(tmp_path: Path) -> None:
    db = tmp_path / "rekey.db"
    with offline(db, encryption_key=KEY) as client:
        todos = client.collection("todo", Todo)
        for i in range(100):
            todos.create(f"t{i:03}", Todo(f"before-{i}"))
        client.rekey("the new key")
        todos.create("after", Todo(LOCAL_SECRET))
    assert files_holding(db, LOCAL_SECRET) == []
    with pytest.raises(MizuError.WrongKey):
        offline(db, encryption_key=KEY)
    with offline(db, encryption_key="the new key") as client:
        todos = client.collection("todo", Todo)
        assert len(todos) == 101
        assert todos["after"] == Todo(LOCAL_SECRET)


def test_rekey_and_key_misuse_raise_invalid_argument(tmp_path: Path) -> None:
    with offline(tmp_path / "plain.db") as plain:
        with pytest.raises(MizuError.InvalidArgument, match="not encrypted"):
            plain.rekey("k")
    with offline(tmp_path / "keyed.db", encryption_key=KEY) as keyed:
        with pytest.raises(MizuError.InvalidArgument, match="must not be empty"):
            keyed.rekey("")
    with pytest.raises(MizuError.InvalidArgument, match="needs a storage_path"):
        Client("http://127.0.0.1:9/_sync", encryption_key=KEY)
    with pytest.raises(MizuError.InvalidArgument, match="must not be empty"):
        offline(tmp_path / "empty.db", encryption_key="")


def test_the_durability_option_is_the_store_files_synchronous_mode(tmp_path: Path) -> None:
    """FULL by default, NORMAL when asked, as SQLite reports the file; no file in memory."""
    for asked, expected in [
        ({}, Durability.FULL),
        ({"durability": Durability.NORMAL}, Durability.NORMAL),
        ({"durability": Durability.FULL}, Durability.FULL),
    ]:
        client = offline(tmp_path / "durability.db", **asked)
        assert client.durability == expected
        client.close()
        with pytest.raises(MizuError.Closed):
            client.durability
    in_memory = Client("http://127.0.0.1:9/_sync", durability=Durability.NORMAL)
    assert in_memory.durability is None
    in_memory.close()


def test_a_normal_durability_store_keeps_every_write_across_reopens(tmp_path: Path) -> None:
    db = tmp_path / "normal.db"
    client = offline(db, durability=Durability.NORMAL)
    todos = client.collection("todo", Todo)
    for i in range(50):
        todos.create(f"t{i}", Todo(f"title {i}"))
    client.close()
    reopened = offline(db, durability=Durability.NORMAL)
    assert reopened.collection("todo", Todo).count() == 50
    assert reopened.pending_count == 50
    reopened.close()
