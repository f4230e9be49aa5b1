"""Fixtures: the reference server (``mizu-sync-server --admin``) as a subprocess, clients with
fast timers, and bounded waits."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

import mizu_sync

WAIT = 20.0
_scopes = itertools.count()


def wait_until(what: str, condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Polls ``condition`` until it holds; fails the test with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.01)


def server_binary() -> str:
    path = os.environ.get("MIZU_SYNC_SERVER_BIN") or shutil.which("mizu-sync-server")
    if not path:
        raise RuntimeError(
            "set MIZU_SYNC_SERVER_BIN to the reference server "
            "(cargo build --features server --bin mizu-sync-server)"
        )
    return path


class Server:
    """A reference server process; ``stop()`` and ``start()`` keep the address and (with a
    database file) the data."""

    def __init__(self, db: Optional[Path] = None) -> None:
        self.db = db
        self.addr = "127.0.0.1:0"
        self.proc: Optional[subprocess.Popen[str]] = None
        self.start()

    def start(self) -> None:
        args = [server_binary(), "--addr", self.addr, "--admin"]
        if self.db is not None:
            args += ["--db", str(self.db)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on http://"):
            self.proc.kill()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.addr = line.strip().removeprefix("listening on http://")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    @property
    def base_url(self) -> str:
        return f"http://{self.addr}/_sync"

    def ws_url(self, scope: str) -> str:
        return f"ws://{self.addr}/ws?scope={scope}"

    def reject(self, name: str, arg_contains: str, error: str) -> None:
        self._post("/_admin/reject", {"name": name, "arg_contains": arg_contains, "error": error})

    def _post(self, path: str, body: object) -> object:
        request = urllib.request.Request(
            f"http://{self.addr}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as reply:
            return json.loads(reply.read() or b"null")


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def durable_server(tmp_path: Path) -> Iterator[Server]:
    s = Server(db=tmp_path / "server.db")
    yield s
    s.stop()


@pytest.fixture
def scope(request: pytest.FixtureRequest) -> str:
    return f"{request.node.name}-{os.getpid()}-{next(_scopes)}"


@pytest.fixture
def make_client(scope: str) -> Iterator[Callable[..., mizu_sync.Client]]:
    """Creates started clients with fast timers; closes them after the test."""
    made: list[mizu_sync.Client] = []

    def make(server: Server, **options: object) -> mizu_sync.Client:
        settings: dict[str, object] = dict(
            scope=scope,
            push_interval=0.2,
            pull_interval=0.3,
            request_timeout=5.0,
            backoff=(0.02, 0.2),
            start=True,
        )
        settings.update(options)
        client = mizu_sync.Client(server.base_url, **settings)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
