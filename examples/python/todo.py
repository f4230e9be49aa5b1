"""A todo list synced between two clients, with reactive state, in Python.

Run against a server you started:

    mizu-sync-server --addr 127.0.0.1:8080 &
    python examples/python/todo.py http://127.0.0.1:8080/_sync

or let the example start one (the binary from ``cargo build --features server --bin
mizu-sync-server``, found through $MIZU_SYNC_SERVER_BIN or PATH):

    python examples/python/todo.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from mizu_sync import Client, Computed, Effect, QueryDiff, batch, field


@dataclass
class Todo:
    title: str
    completed: bool = False


def start_server() -> tuple[subprocess.Popen[str], str]:
    binary = os.environ.get("MIZU_SYNC_SERVER_BIN") or shutil.which("mizu-sync-server")
    if not binary:
        sys.exit("pass a server URL, or set MIZU_SYNC_SERVER_BIN to mizu-sync-server")
    proc = subprocess.Popen([binary, "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    addr = proc.stdout.readline().strip().removeprefix("listening on http://")
    return proc, f"http://{addr}/_sync"


async def tablet(url: str) -> None:
    """A third device on asyncio: awaited writes and syncs never block the loop, and its
    listeners run on the loop (``delivery``), where a UI would update."""
    with Client(url, scope="user:demo", delivery=asyncio.get_running_loop(), start=True) as tablet:
        todos = tablet.collection("todo", Todo)
        await tablet.sync_async()
        changes = todos.subscribe(lambda change: print(f"tablet: {len(todos)} todos"))
        await todos.create_async("tea", Todo("Make tea"))
        await tablet.flush_async()
        changes.cancel()
        await tablet.close_async()


def main(url: Optional[str]) -> None:
    server = None
    if url is None:
        server, url = start_server()
    storage = Path(tempfile.mkdtemp(prefix="mizu-todo-")) / "phone.db"
    try:
        # The phone keeps its data in SQLite; the laptop in memory.
        with (
            Client(url, scope="user:demo", storage_path=str(storage), start=True) as phone,
            Client(url, scope="user:demo", start=True) as laptop,
        ):
            phone_todos = phone.collection("todo", Todo)
            laptop_todos = laptop.collection("todo", Todo)

            # A live query, kept up to date in Rust: the computed re-runs only when the number
            # of open todos changes, never by scanning the collection.
            open_todos = laptop_todos.query().where(field("completed") == False)  # noqa: E712
            remaining = Computed(lambda: open_todos.count())
            summary = Effect(lambda: print(f"laptop: {remaining.get()} to do"))

            # The phone's list of open todos by title, as keyed diffs a list UI would apply.
            def on_diff(diff: QueryDiff[Todo]) -> None:
                print("phone's open todos changed:", diff)

            phone_list = (
                phone_todos.query()
                .where(field("completed") == False)  # noqa: E712
                .order_by("title")
                .subscribe(lambda rows: print(f"phone's open todos: {len(rows)}"), on_diff)
            )

            @phone.on_sync
            def synced(cursor: int) -> None:
                print(f"phone synced up to {cursor}")

            def plan() -> None:
                phone_todos.create("milk", Todo("Buy milk"))
                phone_todos.create("docs", Todo("Read the sync docs"))

            batch(plan)
            phone.flush(timeout=10)
            laptop.sync()

            laptop_todos.update("milk", Todo("Buy milk", completed=True))
            laptop.flush(timeout=10)
            phone.sync()
            print("phone sees:", phone_todos["milk"])

            summary.stop()
            phone_list.cancel()
            synced.cancel()
            print(f"{len(phone_todos)} todos, {phone.pending_count} pending")
        asyncio.run(tablet(url))
    finally:
        if server is not None:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
