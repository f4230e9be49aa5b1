"""The engine's log records reach Python's ``logging``: every decision kind under the
``mizu_sync`` logger's children, at the mapped levels, never a token or a header value."""

from __future__ import annotations

import logging
from typing import Callable, Iterator, List, Optional

import pytest

import mizu_sync
from conftest import Server, TokenGate, wait_until

STALE = "py-stale-token-marker-3e9a"
FRESH = "py-fresh-token-marker-c51d"
HEADER = "py-header-marker-8b20"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def has(self, logger: str, text: str) -> bool:
        return any(r.name == logger and text in r.getMessage() for r in list(self.records))


@pytest.fixture
def captured(scope: str) -> Iterator[tuple[logging.Logger, Capture]]:
    logger = logging.getLogger(f"test_logging.{scope}")
    logger.propagate = False
    handler = Capture()
    logger.addHandler(handler)
    yield logger, handler
    logger.removeHandler(handler)


def test_every_engine_decision_is_logged_and_no_secret(
    server: Server,
    scope: str,
    make_client: Callable[..., mizu_sync.Client],
    captured: tuple[logging.Logger, Capture],
) -> None:
    logger, capture = captured
    logger.setLevel(mizu_sync.TRACE)
    server.reject("todo.create", "reject-me", "refused for the log")
    gate = TokenGate(server, {FRESH})
    refreshed: List[bool] = []

    def token(refresh: bool) -> Optional[str]:
        if refresh:
            refreshed.append(True)
        return FRESH if refreshed else STALE

    try:
        client = make_client(
            gate,
            token_provider=token,
            headers={"X-App-Secret": HEADER},
            live_url=server.ws_url(scope),
            logger=logger,
        )
        todos = client.collection("todo")
        todos.create("kept", {"title": "fine"})
        todos.create("doomed", {"title": "reject-me"})
        client.flush()
        wait_until("the live connection is logged", lambda: capture.has(logger.name + ".live", "open"))
        client.close()
    finally:
        gate.stop()

    name = logger.name
    assert capture.has(name + ".auth", "retrying once with a refreshed token")
    assert capture.has(name + ".snapshot", "applying a snapshot")
    assert capture.has(name + ".push", "pushing")
    assert capture.has(name + ".pull", "pulled from cursor")
    assert capture.has(name + ".pull", "caught up at cursor")
    assert capture.has(name + ".rejection", "refused for the log")
    assert capture.has(name + ".http", "POST /push")
    levels = {r.name.rpartition(".")[2]: r.levelno for r in capture.records}
    assert levels["rejection"] == logging.WARNING
    assert mizu_sync.TRACE in {r.levelno for r in capture.records}
    for record in capture.records:
        for secret in (STALE, FRESH, HEADER):
            assert secret not in record.getMessage(), record.getMessage()


def test_the_mizu_sync_logger_is_the_default_and_its_level_is_the_minimum(
    server: Server, make_client: Callable[..., mizu_sync.Client]
) -> None:
    root = logging.getLogger("mizu_sync")
    capture = Capture()
    root.addHandler(capture)
    old_level = root.level
    try:
        root.setLevel(logging.INFO)
        client = make_client(server)
        client.collection("todo").create("a", {"title": "one"})
        client.flush()
        client.close()
        assert capture.has("mizu_sync.push", "pushed 1 mutations: 1 acknowledged")
        assert all(r.levelno >= logging.INFO for r in capture.records)

        capture.records.clear()
        root.setLevel(logging.CRITICAL)
        quiet = make_client(server)
        quiet.collection("todo").create("b", {"title": "two"})
        quiet.flush()
        quiet.close()
        assert capture.records == []
    finally:
        root.setLevel(old_level)
        root.removeHandler(capture)


def test_logger_none_logs_nothing(
    server: Server, make_client: Callable[..., mizu_sync.Client]
) -> None:
    root = logging.getLogger("mizu_sync")
    capture = Capture()
    root.addHandler(capture)
    old_level = root.level
    try:
        root.setLevel(mizu_sync.TRACE)
        client = make_client(server, logger=None)
        client.collection("todo").create("a", {"title": "one"})
        client.flush()
        client.close()
        assert [r for r in capture.records if r.name != "mizu_sync"] == []
    finally:
        root.setLevel(old_level)
        root.removeHandler(capture)
