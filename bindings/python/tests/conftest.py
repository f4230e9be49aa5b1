"""Fixtures: the reference server (``mizu-sync-server --admin``) as a subprocess, a server that
hangs, a bearer-token gate in front of the reference server, clients with fast timers, and
bounded waits."""

from __future__ import annotations

import http.client
import http.server
import itertools
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Set

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


class HangingServer:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers: every request
    to it waits for the client's request timeout. ``accepted`` is set by the first connection."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.addr = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.accepted = threading.Event()
        self.connections: List[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, name="hanging-server", daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed by stop()
                return
            self.connections.append(connection)
            self.accepted.set()

    @property
    def base_url(self) -> str:
        return f"http://{self.addr}/_sync"

    def stop(self) -> None:
        """Closes the listener and every connection (the waiting requests fail at once)."""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        for connection in self.connections:
            connection.close()
        self.thread.join(5)


class TokenGate:
    """An HTTP proxy in front of a reference server that forwards only requests carrying
    ``Authorization: Bearer <a token in accepted>`` and answers 401 to the others. ``seen``
    lists every token it was sent, in order (``None`` for none)."""

    def __init__(self, upstream: Server, accepted: Set[str]) -> None:
        self.upstream = upstream
        self.accepted = accepted
        self.seen: List[Optional[str]] = []
        self.forwarded = 0
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server convention
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorization = self.headers.get("Authorization")
                token = None
                if authorization is not None and authorization.startswith("Bearer "):
                    token = authorization[len("Bearer ") :]
                gate.seen.append(token)
                if token not in gate.accepted:
                    self._reply(401, b"authentication failed", "text/plain")
                    return
                gate.forwarded += 1
                upstream = http.client.HTTPConnection(gate.upstream.addr, timeout=WAIT)
                try:
                    upstream.request("POST", self.path, body, {"Content-Type": "application/json"})
                    reply = upstream.getresponse()
                    self._reply(
                        reply.status,
                        reply.read(),
                        reply.getheader("Content-Type") or "application/json",
                    )
                finally:
                    upstream.close()

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.addr = "127.0.0.1:%d" % self.http.server_address[1]
        self.thread = threading.Thread(
            target=self.http.serve_forever, name="token-gate", daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://{self.addr}/_sync"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    s = HangingServer()
    yield s
    s.stop()


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

    def make(server: "Server | HangingServer | TokenGate", **options: object) -> mizu_sync.Client:
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
