"""The fast path (direct calls, ``mizu_sync._hot``) through the public API: typed values and
the version cache, typed errors, callbacks from other threads and failing ones, and handles
given back when wrappers are collected."""

from __future__ import annotations

import gc
import json
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest

from conftest import Server, wait_until
from mizu_sync import (
    Client,
    Collection,
    Computed,
    Effect,
    MizuError,
    Signal,
    _hot,
    batch,
    on_unhandled_error,
)

SCALARS: List[Any] = [
    None,
    True,
    False,
    0,
    -1,
    42,
    2**63 - 1,
    -(2**63),
    2.5,
    -0.0,
    1e300,
    5.0,
    "",
    "short",
    'é ✓ "quoted" \\ \n\t',
    "🎉 emoji and \u0000 NUL",
]
BIG_INTS = [2**63, 2**64 - 1]  # past i64: JSON text (past u64 the library keeps a float)
JSON_VALUES: List[Any] = [[], {}, [1, "a", None, True], {"a": {"b": [1.5, None]}, "z": "é"}]


@dataclass
class Todo:
    title: str
    completed: bool = False


@dataclass
class Tag:
    name: str


@dataclass
class Tagged:
    title: str
    tags: List[Tag] = field(default_factory=list)
    main: Optional[Tag] = None


@pytest.fixture
def client() -> Iterator[Client]:
    # An in-memory store that never syncs: every write is local and notifies at once.
    with Client("http://127.0.0.1:9/_sync") as c:
        yield c


@pytest.fixture
def todos(client: Client) -> Collection[Todo]:
    return client.collection("todo", Todo)


def same(a: Any, b: Any) -> bool:
    """Equal, of the same type, and the same sign for zeros."""
    return type(a) is type(b) and a == b and repr(a) == repr(b)


@pytest.mark.parametrize("value", SCALARS + BIG_INTS + JSON_VALUES, ids=repr)
def test_every_scalar_and_json_value_round_trips(value: Any) -> None:
    s = Signal(value)
    assert same(s.get(), value)  # the first read fetches
    assert same(s.get(), value)  # later ones are served from the cache (or decoded again)
    assert same(s.peek(), value)
    s.set("other")
    s.set(value)
    assert same(s.get(), value)
    assert same(s.value, value)
    seen: List[Any] = []
    sub = s.subscribe(seen.append)
    s.set(0 if value != 0 else 1)
    s.set(value)
    sub.cancel()
    assert len(seen) == 3 and same(seen[0], value) and same(seen[2], value)


@pytest.mark.parametrize("value", SCALARS + BIG_INTS + JSON_VALUES + [10**30, -(2**63) - 1])
def test_the_fast_path_reads_what_the_generated_layer_reads(value: Any) -> None:
    s = Signal(0)
    s.set(value)
    assert same(s.get(), json.loads(s._native.get()))
    s._native.set(json.dumps(value))
    assert same(s.peek(), json.loads(s._native.get()))


def test_each_read_of_a_list_or_dict_is_a_fresh_copy() -> None:
    s = Signal({"items": [1, 2]})
    first = s.get()
    first["items"].append(3)
    assert s.get() == {"items": [1, 2]}
    assert s.get() is not s.get()


def test_values_other_than_scalars_keep_their_json_form() -> None:
    s = Signal(0)
    s.set((1, 2))  # a tuple is a JSON array
    assert s.get() == [1, 2]
    s.set(Tagged("a", [Tag("x")], Tag("y")))  # nested dataclasses become objects
    assert s.get() == {"title": "a", "tags": [{"name": "x"}], "main": {"name": "y"}}


def test_the_cache_sees_a_write_made_by_another_thread() -> None:
    s = Signal(1)
    assert s.get() == 1
    t = threading.Thread(target=lambda: s.set("from a thread"))
    t.start()
    t.join()
    assert s.get() == "from a thread"
    assert s.peek() == "from a thread"


def test_the_cache_sees_writes_made_through_the_generated_layer() -> None:
    s = Signal(1)
    assert s.get() == 1
    s._native.set("2")  # the Rust object itself, not through this wrapper's fast path
    assert s.get() == 2
    s.update(lambda v: v + 1)  # generated, atomic
    assert s.get() == 3
    assert s.peek() == 3


def test_the_cache_sees_a_write_made_inside_an_effect() -> None:
    source, mirror = Signal(1), Signal(0)
    assert mirror.get() == 0
    e = Effect(lambda: mirror.set(source.get() * 10))
    assert mirror.get() == 10
    source.set(2)
    assert mirror.get() == 20
    with batch():
        source.set(3)
        assert mirror.get() == 20  # deferred until the batch ends
    assert mirror.get() == 30
    e.stop()


def test_setting_an_equal_value_notifies_nobody() -> None:
    s = Signal("a")
    seen: List[str] = []
    sub = s.subscribe(seen.append)
    s.set("a")
    s.set("b")
    s.set("b")
    sub.cancel()
    assert seen == ["a", "b"]


def test_tracked_and_untracked_reads_through_direct_calls() -> None:
    a, b = Signal(1), Signal(10)
    runs: List[int] = []
    e = Effect(lambda: runs.append(a.get() + b.peek()))
    b.set(20)  # peeked: no run
    a.set(2)
    assert runs == [11, 22]
    total = Computed(lambda: a.get() * 100)
    assert total.get() == 200
    a.set(3)
    assert total.get() == 300
    e.stop()


def test_a_closed_signal_raises_closed_on_every_direct_call() -> None:
    s = Signal(1)
    assert s.get() == 1  # cached now: the cache must not hide the close
    sub = s.subscribe(lambda v: None)
    s.close()
    assert sub.cancelled
    for call in (s.get, s.peek, lambda: s.set(2), lambda: s.set("x"), lambda: s.set([1])):
        with pytest.raises(MizuError.Closed):
            call()
    with pytest.raises(MizuError.Closed):
        s.subscribe(lambda v: None)


def test_values_json_cannot_hold_raise_type_error_as_before() -> None:
    s = Signal(1)
    circular: List[Any] = []
    circular.append(circular)
    for bad in (
        float("nan"),
        float("inf"),
        float("-inf"),
        object(),
        {1, 2},
        {"k": object()},
        circular,
    ):
        with pytest.raises(TypeError, match="not JSON-serializable"):
            s.set(bad)
    assert s.get() == 1


def test_an_effect_and_a_listener_run_on_the_thread_that_writes() -> None:
    s = Signal(0)
    effect_threads: List[str] = []
    listener_threads: List[str] = []
    e = Effect(lambda: (s.get(), effect_threads.append(threading.current_thread().name)))
    sub = s.subscribe(lambda v: listener_threads.append(threading.current_thread().name))
    t = threading.Thread(target=lambda: s.set(1), name="writer")
    t.start()
    t.join()
    e.stop()
    sub.cancel()
    me = threading.current_thread().name
    assert effect_threads == [me, "writer"]
    assert listener_threads == [me, "writer"]


def test_effects_and_listeners_keep_up_with_four_writing_threads() -> None:
    s = Signal(0)
    effect_saw: List[int] = []
    listener_saw: List[int] = []
    e = Effect(lambda: effect_saw.append(s.get()))
    sub = s.subscribe(listener_saw.append)
    start = threading.Barrier(4)

    def write(base: int) -> None:
        start.wait()
        for i in range(1, 301):
            s.set(base + i)
            s.get()

    threads = [threading.Thread(target=write, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.get() in {300, 1300, 2300, 3300}
    s.set(-1)
    e.stop()
    sub.cancel()
    written = {k * 1000 + i for k in range(4) for i in range(1, 301)}
    assert set(effect_saw[1:-1]) <= written and set(listener_saw[1:-1]) <= written
    assert effect_saw[-1] == listener_saw[-1] == -1


def test_a_failing_effect_or_listener_is_reported_and_keeps_running() -> None:
    reported: List[MizuError] = []
    sink = on_unhandled_error(reported.append)
    s = Signal(0)

    def body() -> None:
        if s.get() == 1:
            raise ValueError("effect failed at 1")

    def listener(value: int) -> None:
        if value == 1:
            raise KeyError("listener failed at 1")

    e = Effect(body)
    sub = s.subscribe(listener)
    t = threading.Thread(target=lambda: s.set(1))  # failing on another thread too
    t.start()
    t.join()
    s.set(2)
    e.stop()
    sub.cancel()
    sink.cancel()
    assert s.get() == 2
    mine = [e for e in reported if "failed at 1" in str(e)]
    assert len(mine) == 2
    assert all(isinstance(e, MizuError.Callback) for e in mine)
    reasons = sorted(e.reason for e in mine)  # type: ignore[attr-defined]
    assert reasons == ["KeyError: 'listener failed at 1'", "ValueError: effect failed at 1"]


def test_a_callback_raising_a_mizu_error_is_reported_with_its_type() -> None:
    reported: List[MizuError] = []
    sink = on_unhandled_error(reported.append)
    closed = Signal(0)
    closed.close()
    s = Signal(0)
    e = Effect(lambda: s.get() and closed.get())

    def listener(value: int) -> None:
        if value == 1:
            raise MizuError.NotFound("direct-listener")

    sub = s.subscribe(listener)
    s.set(1)
    e.stop()
    sub.cancel()
    sink.cancel()
    assert len(reported) == 2, reported
    assert any(isinstance(r, MizuError.Closed) for r in reported), reported
    assert any(
        isinstance(r, MizuError.NotFound) and r.what == "direct-listener"  # type: ignore[attr-defined]
        for r in reported
    ), reported


def test_handles_are_given_back_when_wrappers_are_collected() -> None:
    baseline = len(_hot.callbacks)
    refs = []
    for i in range(3000):
        s = Signal(i)
        e = Effect(lambda s=s: s.get())
        sub = s.subscribe(lambda v: None)
        s.set(i + 1)
        refs.append(weakref.ref(s))
        if i % 2:
            e.stop()
            sub.cancel()
            s.close()
        del s, e, sub
    gc.collect()
    assert all(r() is None for r in refs)
    assert len(_hot.callbacks) == baseline


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_collected_signals_free_their_values_in_the_library() -> None:
    big = "x" * 100_000  # held by the library as JSON text: 2,000 leaked would be 200 MB
    for i in range(100):  # warm up the allocators
        Signal(big).get()
    gc.collect()
    before = resident_bytes()
    for i in range(2000):
        s = Signal(big)
        assert len(s.get()) == 100_000
        sub = s.subscribe(lambda v: None)
        e = Effect(s.get)
        if i % 2:
            s.close()
        del s, sub, e
    gc.collect()
    assert resident_bytes() - before < 50_000_000


def test_a_dropped_effect_stops() -> None:
    s = Signal(0)
    runs: List[int] = []
    Effect(lambda: runs.append(s.get()))  # not kept
    gc.collect()
    s.set(1)
    assert runs == [0]


def test_an_effect_reports_stopped() -> None:
    s = Signal(0)
    with Effect(lambda: s.get()) as e:
        assert not e.stopped
    assert e.stopped
    e.stop()  # idempotent
    assert e.stopped


# Entities by collection and id.


def test_entity_get_and_set_go_by_id_without_a_generated_entity(todos: Collection[Todo]) -> None:
    e = todos.entity("a")
    assert e.get() is None
    e.set(Todo("first"))
    assert e.get() == Todo("first")
    assert e.value == Todo("first")
    assert todos.get("a") == Todo("first")
    assert todos["a"] == Todo("first")
    todos.set("a", Todo("second", True))
    assert e.get() == Todo("second", True)
    assert e.id == "a"
    assert e._entity is None, "get and set made no generated Entity"
    assert e.exists()  # a generated call: made now
    assert e._entity is not None


def test_create_refuses_an_existing_id_with_invalid_argument(todos: Collection[Todo]) -> None:
    made = todos.create("é/1", Todo("new"))
    assert made.get() == Todo("new")
    assert made.id == "é/1"
    with pytest.raises(MizuError.InvalidArgument):
        todos.create("é/1", Todo("again"))
    assert todos.get("é/1") == Todo("new")


def test_entities_of_plain_json_and_unknown_keys(client: Client) -> None:
    raw = client.collection("raw")
    raw.set("x", {"b": [1, 2], "a": None})
    assert raw.get("x") == {"a": None, "b": [1, 2]}
    assert raw.get("missing", "default") == "default"
    typed = client.collection("raw", Todo)
    raw.set("t", {"title": "T", "completed": True, "extra": 1})
    assert typed.get("t") == Todo("T", True)  # unknown keys are dropped


def test_nested_dataclasses_are_written(client: Client) -> None:
    tagged = client.collection("tagged", Tagged)
    tagged.set("1", Tagged("x", [Tag("a"), Tag("b")], Tag("c")))
    assert client.collection("tagged").get("1") == {
        "main": {"name": "c"},
        "tags": [{"name": "a"}, {"name": "b"}],
        "title": "x",
    }
    with pytest.raises(TypeError, match="expected Tagged"):
        tagged.set("2", Tag("not a Tagged"))  # type: ignore[arg-type]


def test_entity_reads_are_tracked_and_their_listeners_see_direct_writes(
    todos: Collection[Todo],
) -> None:
    e = todos.entity("a")
    seen: List[Optional[str]] = []
    runs: List[Optional[Todo]] = []
    effect = Effect(lambda: runs.append(todos.get("a")))
    sub = e.subscribe(lambda t: seen.append(None if t is None else t.title))
    e.set(Todo("one"))
    todos.set("a", Todo("two"))
    t = threading.Thread(target=lambda: e.set(Todo("three")))
    t.start()
    t.join()
    sub.cancel()
    effect.stop()
    assert seen == [None, "one", "two", "three"]
    assert [None if r is None else r.title for r in runs] == [None, "one", "two", "three"]


def test_closed_collections_and_entities_raise_closed(client: Client) -> None:
    todos = client.collection("closing", Todo)
    e = todos.entity("a")
    e.set(Todo("x"))
    e.close()
    with pytest.raises(MizuError.Closed):
        e.get()
    with pytest.raises(MizuError.Closed):
        e.set(Todo("y"))
    todos.close()
    for call in (
        lambda: todos.get("a"),
        lambda: todos.set("a", Todo("z")),
        lambda: todos.create("b", Todo("z")),
        lambda: todos.entity("a").get(),
    ):
        with pytest.raises(MizuError.Closed):
            call()


def test_a_closed_client_refuses_direct_writes(client: Client) -> None:
    todos = client.collection("todo", Todo)
    todos.set("a", Todo("x"))
    client.close()
    with pytest.raises(MizuError.Closed):
        todos.set("a", Todo("y"))


def test_collections_are_given_back_when_collected() -> None:
    for i in range(200):
        with Client("http://127.0.0.1:9/_sync") as c:
            todos = c.collection(f"c{i}", Todo)
            entity = todos.create("a", Todo("x"))
            assert entity.get() == Todo("x")
        ref = weakref.ref(todos)
        del todos, entity, c
        gc.collect()
        assert ref() is None


def test_direct_effects_and_listeners_run_on_the_sync_thread(
    server: Server, make_client: Callable[..., Client]
) -> None:
    """Server changes arrive on the client's sync thread, a thread Python did not start: the
    direct callbacks run there, and direct reads made there see the change."""
    writer, reader = make_client(server), make_client(server)
    todos = reader.collection("todo", Todo)
    seen: List[Tuple[str, Optional[str]]] = []
    mirror = Signal("")
    heard: List[str] = []

    def on_todo() -> None:
        todo = todos.get("a")  # a direct, tracked read, on whichever thread runs the effect
        seen.append((threading.current_thread().name, None if todo is None else todo.title))
        if todo is not None:
            mirror.set(todo.title)  # a direct write from that thread: runs the listener there

    effect = Effect(on_todo)
    sub = mirror.subscribe(lambda title: heard.append(title))
    writer.collection("todo", Todo).set("a", Todo("from the server"))
    writer.flush(20)
    wait_until("the reader's effect saw the todo", lambda: mirror.peek() == "from the server")
    effect.stop()
    sub.cancel()
    me = threading.current_thread().name
    assert seen[0] == (me, None)
    assert any(name != me and title == "from the server" for name, title in seen[1:])
    assert heard[-1] == "from the server"


# --- Computed: direct reads with a version cache -------------------------------------------


@pytest.mark.parametrize("value", SCALARS + [[1, {"a": "b"}], {"k": [None, 1.5]}])
def test_a_computed_gives_and_reads_every_value_directly(value: Any) -> None:
    source = Signal(value)
    c = Computed(lambda: source.get())
    assert c.get() == value
    assert c.peek() == value
    assert type(c.get()) is type(value)
    assert c.get() == json.loads(json.dumps(value))


def test_an_unchanged_computed_is_served_from_the_cache_and_recomputed_once_per_change() -> None:
    runs: List[int] = []
    source = Signal(1)

    def double() -> int:
        runs.append(1)
        return source.get() * 2

    c = Computed(double)
    assert [c.get() for _ in range(5)] == [2] * 5
    assert len(runs) == 1
    source.set(5)
    assert c.get() == 10 and c.peek() == 10 and len(runs) == 2
    t = threading.Thread(target=lambda: source.set(7))
    t.start()
    t.join()
    assert c.get() == 14 and len(runs) == 3
    # A mutable value is decoded each time: mutating what a read returned changes nothing.
    items = Computed(lambda: [source.get()])
    first = items.get()
    first.append(99)
    assert items.get() == [7]


def test_an_effect_reading_a_computed_reruns_when_its_source_changes() -> None:
    source = Signal(1)
    c = Computed(lambda: source.get() + 100)
    seen: List[int] = []
    e = Effect(lambda: seen.append(c.get()))
    source.set(2)
    source.set(3)
    e.stop()
    assert seen == [101, 102, 103]


def test_a_computed_reraises_what_its_function_raised_and_closed_is_typed() -> None:
    source = Signal(1)

    def check() -> int:
        if source.get() < 0:
            raise ValueError("negative")
        return source.get()

    c = Computed(check)
    assert c.get() == 1
    source.set(-1)
    with pytest.raises(ValueError, match="negative"):
        c.get()
    with pytest.raises(ValueError, match="negative"):
        c.peek()
    source.set(2)
    assert c.get() == 2
    c.close()
    with pytest.raises(MizuError.Closed):
        c.get()


def test_computed_handles_are_given_back_when_collected() -> None:
    source = Signal(3)
    refs = []
    for _ in range(2000):
        c = Computed(lambda: source.get())
        assert c.get() == 3
        refs.append(weakref.ref(c))
        del c
    gc.collect()
    assert all(r() is None for r in refs)


def test_a_computed_of_computeds_nests_and_its_listener_follows() -> None:
    source = Signal(1)
    inner = Computed(lambda: source.get() * 10)
    outer = Computed(lambda: inner.get() + 1)
    seen: List[int] = []
    sub = outer.subscribe(seen.append)
    source.set(2)
    t = threading.Thread(target=lambda: source.set(3))
    t.start()
    t.join()
    assert seen == [11, 21, 31]
    assert outer.get() == 31
    outer.close()
    assert sub.cancelled
    source.set(4)
    assert seen == [11, 21, 31]
    with pytest.raises(MizuError.Closed):
        outer.get()
    assert inner.get() == 40


def test_a_computed_function_raising_a_mizu_error_or_giving_nan_fails_like_before() -> None:
    closed = Signal(0)
    closed.close()
    c = Computed(lambda: closed.get())
    with pytest.raises(MizuError.Closed):
        c.get()
    nan = Computed(lambda: float("nan"))
    with pytest.raises(TypeError):
        nan.get()
    mixed = Computed(lambda: {"n": float("inf")})
    with pytest.raises(TypeError):
        mixed.get()
