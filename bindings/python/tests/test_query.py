"""Live queries from Python against the reference server: the builder and the JSON spec,
reads, diffs replayed on a list (local and pulled writes), tracking in computeds and effects,
the async iterators, the collection change stream, and every bad input."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

import pytest

from conftest import Server, wait_until
from mizu_sync import (
    Change,
    Client,
    Computed,
    Effect,
    Inserted,
    InvalidQuery,
    MizuError,
    Moved,
    Query,
    QueryDiff,
    QueryResult,
    Removed,
    Updated,
    and_,
    apply_diff,
    field,
    not_,
    or_,
)


@dataclass
class Todo:
    title: str
    completed: bool = False
    due: str = "2026-01-01"
    priority: int = 1
    tags: List[str] = dataclasses.field(default_factory=list)


MakeClient = Callable[..., Client]
Rows = List[Tuple[str, Todo]]

SEED: Dict[str, Todo] = {
    "t1": Todo("milk", False, "2026-02-01", 1, ["home", "errands"]),
    "t2": Todo("taxes", False, "2026-04-15", 3, ["work"]),
    "t3": Todo("bread", True, "2026-02-02", 2, ["home"]),
    "t4": Todo("call mum", False, "2026-02-03", 2, []),
    "t5": Todo("garden", False, "2026-03-01", 2, ["home"]),
    "t6": Todo("report", False, "2026-02-03", 5, ["work", "urgent"]),
}


def seed(client: Client) -> Any:
    todos = client.collection("todo", Todo)
    for id, todo in SEED.items():
        todos.create(id, todo)
    return todos


def expected(predicate: Callable[[Todo], bool], key: Callable[[Tuple[str, Todo]], Any]) -> Rows:
    return sorted(((i, t) for i, t in SEED.items() if predicate(t)), key=key)


class Model:
    """A list kept only from a query's result and diffs, as a list UI would."""

    def __init__(self) -> None:
        self.rows: Rows = []
        self.results = 0
        self.diffs: List[QueryDiff[Todo]] = []
        self.errors: List[BaseException] = []

    def on_result(self, rows: Rows) -> None:
        self.results += 1
        self.rows = list(rows)

    def on_diff(self, diff: QueryDiff[Todo]) -> None:
        self.diffs.append(diff)
        try:
            apply_diff(self.rows, diff)
        except Exception as e:  # noqa: BLE001 - kept for the test to report
            self.errors.append(e)
            raise

    def kinds(self) -> set[type]:
        return {type(op) for diff in self.diffs for op in diff}


def test_builder_query_reads_typed_rows_ids_count_and_len(
    server: Server, make_client: MakeClient
) -> None:
    client = make_client(server)
    todos = seed(client)
    open_todos = (
        todos.query()
        .where(field("completed") == False)  # noqa: E712 - builds a filter
        .where(field("priority") >= 2)
        .order_by("due", "desc")
        .limit(2)
    )
    by_due_desc = expected(lambda t: not t.completed and t.priority >= 2, key=lambda r: r[0])
    by_due_desc.sort(key=lambda r: r[1].due, reverse=True)  # stable: ties stay by id
    assert open_todos.get() == by_due_desc[:2]
    assert [id for id, _ in by_due_desc] == ["t2", "t5", "t4", "t6"]
    assert isinstance(open_todos.get()[0][1], Todo)
    assert open_todos.ids() == ["t2", "t5"]
    assert open_todos.count() == 4  # ignores the window
    assert len(open_todos) == 2  # the window
    assert list(open_todos) == by_due_desc[:2]
    assert open_todos.values() == [t for _, t in by_due_desc[:2]]
    assert open_todos.offset(1).limit(10).ids() == ["t5", "t4", "t6"]
    assert open_todos.limit(None).ids() == ["t2", "t5", "t4", "t6"]
    # Builders return new queries; the first one is unchanged.
    assert open_todos.spec == {
        "filter": {
            "and": [
                {"field": "completed", "op": "eq", "value": False},
                {"field": "priority", "op": "ge", "value": 2},
            ]
        },
        "order_by": [{"field": "due", "order": "desc"}],
        "limit": 2,
    }
    # Ties on due are ordered by the next key, then by id.
    two_keys = todos.query().order_by("due").order_by("priority", "desc")
    assert two_keys.ids() == ["t1", "t3", "t6", "t4", "t5", "t2"]
    # A raw JSON spec, as text or dict, is the same query.
    raw = todos.query(spec=open_todos.spec_json)
    assert raw.spec == open_todos.spec
    assert raw.get() == open_todos.get()
    assert todos.query(open_todos.spec).ids() == ["t2", "t5"]
    # ... and can be narrowed further with the builder.
    assert raw.where(field("tags").contains("home")).ids() == ["t5"]
    # No spec: every entity, by id.
    assert todos.query().ids() == sorted(SEED)


@pytest.mark.parametrize(
    ("name", "make_filter", "predicate"),
    [
        ("eq", lambda: field("completed") == True, lambda t: t.completed),  # noqa: E712
        ("ne", lambda: field("priority") != 2, lambda t: t.priority != 2),
        ("lt", lambda: field("due") < "2026-02-03", lambda t: t.due < "2026-02-03"),
        ("le", lambda: field("due").le("2026-02-03"), lambda t: t.due <= "2026-02-03"),
        ("gt", lambda: field("priority") > 2, lambda t: t.priority > 2),
        ("contains element", lambda: field("tags").contains("home"), lambda t: "home" in t.tags),
        ("contains substring", lambda: field("title").contains("re"), lambda t: "re" in t.title),
        ("in", lambda: field("priority").is_in([1, 5]), lambda t: t.priority in (1, 5)),
        ("nested path", lambda: field("tags.0") == "work", lambda t: t.tags[:1] == ["work"]),
        ("exists", lambda: field("tags.1").exists(), lambda t: len(t.tags) > 1),
        ("absent", lambda: field("tags.0").exists(False), lambda t: not t.tags),
        (
            "and / or / not",
            lambda: (
                (field("priority") >= 2) & ~field("tags").contains("work")
                | (field("due") < "2026-02-02")
            ),
            lambda t: (t.priority >= 2 and "work" not in t.tags) or t.due < "2026-02-02",
        ),
        (
            "and_ / or_ / not_",
            lambda: or_(
                and_(field("completed") == False, not_(field("priority") < 3)),  # noqa: E712
                field("title") == "bread",
            ),
            lambda t: (not t.completed and not t.priority < 3) or t.title == "bread",
        ),
        (
            "raw dict filter",
            lambda: {"field": "priority", "op": "ge", "value": 3},
            lambda t: t.priority >= 3,
        ),
    ],
)
def test_each_filter_matches_what_python_says(
    server: Server, make_client: MakeClient, name: str, make_filter: Any, predicate: Any
) -> None:
    todos = seed(make_client(server, start=False))
    rows = todos.query().where(make_filter()).get()
    assert rows == expected(predicate, key=lambda r: r[0]), name
    assert rows, f"{name}: the case must select something"


def test_diffs_replayed_on_a_list_follow_local_and_pulled_writes(
    server: Server, make_client: MakeClient
) -> None:
    alice, bob = make_client(server), make_client(server)
    errors: List[MizuError] = []
    on_error = alice.on_error(errors.append)
    todos = seed(alice)
    alice.flush(20)
    query: Query[Todo] = (
        todos.query().where(field("completed") == False).order_by("due", "desc").limit(3)
    )
    model = Model()
    sub = query.subscribe(model.on_result, model.on_diff)
    assert model.results == 1
    assert model.rows == query.get() == [(i, SEED[i]) for i in ("t2", "t5", "t4")]

    def step(what: str, write: Callable[[], None]) -> None:
        write()
        wait_until(f"the list follows: {what}", lambda: model.rows == query.get())
        assert not model.errors

    step("insert at the top", lambda: todos.create("n1", Todo("new", due="2026-05-01")))
    step(
        "update in place",
        lambda: todos.update("t2", dataclasses.replace(SEED["t2"], title="TAXES")),
    )
    step("move down", lambda: todos.update("n1", Todo("new", due="2026-02-10")))
    step(
        "leave by completing",
        lambda: todos.update("t2", dataclasses.replace(SEED["t2"], completed=True)),
    )
    step("delete", lambda: todos.delete("t5"))
    step(
        "no change outside the filter",
        lambda: todos.update("t3", Todo("bread", True, "2027-01-01")),
    )
    assert model.kinds() >= {Inserted, Removed, Moved, Updated}
    assert query.ids() == ["n1", "t4", "t6"]

    # A change made by another client reaches the query through a pull.
    bob_todos = bob.collection("todo", Todo)
    bob_todos.create("from-bob", Todo("from bob", due="2026-12-24"))
    bob.flush(20)
    alice.sync()
    wait_until(
        "bob's todo is in alice's list", lambda: bool(model.rows) and model.rows[0][0] == "from-bob"
    )
    wait_until("the list equals the query", lambda: model.rows == query.get())
    assert model.rows[0] == ("from-bob", Todo("from bob", due="2026-12-24"))
    bob_todos.update("from-bob", Todo("from bob", completed=True, due="2026-12-24"))
    bob.flush(20)
    alice.sync()
    wait_until("bob's completed todo left alice's list", lambda: "from-bob" not in query.ids())
    wait_until("the list equals the query", lambda: model.rows == query.get())
    assert not model.errors
    assert not errors
    sub.cancel()
    on_error.cancel()


def test_listener_object_cancel_and_close(server: Server, make_client: MakeClient) -> None:
    todos = seed(make_client(server, start=False))
    query = todos.query().where(field("tags").contains("home")).order_by("title")
    model = Model()
    with query.subscribe(model) as sub:
        assert model.rows == [(i, SEED[i]) for i in ("t3", "t5", "t1")]
        todos.create("h", Todo("apples", tags=["home"]))
        assert model.rows == query.get()  # a local write is delivered before it returns
        assert model.rows[0][0] == "h"
    assert sub.cancelled
    todos.delete("h")
    assert model.rows[0][0] == "h"  # no longer told
    with pytest.raises(TypeError):
        query.subscribe(lambda rows: None)  # on_diff is missing
    query.close()
    query.close()  # idempotent
    with pytest.raises(MizuError.Closed):
        query.get()
    with pytest.raises(MizuError.Closed):
        query.subscribe(model)
    assert query.limit(1).ids() == ["t3"]  # a query built from it is its own
    never_read = todos.query()
    never_read.close()
    with pytest.raises(MizuError.Closed):
        never_read.count()


def test_a_raising_diff_listener_is_reported_and_keeps_syncing(
    server: Server, make_client: MakeClient
) -> None:
    client = make_client(server)
    errors: List[MizuError] = []
    on_error = client.on_error(errors.append)
    todos = seed(client)

    def on_diff(diff: QueryDiff[Todo]) -> None:
        raise RuntimeError("ui bug")

    sub = todos.query().subscribe(lambda rows: None, on_diff)
    todos.create("x", Todo("x"))
    client.flush(20)
    wait_until("the error is reported", lambda: bool(errors))
    assert any(isinstance(e, MizuError.Callback) and "ui bug" in str(e) for e in errors)
    assert client.pending_count == 0
    sub.cancel()
    on_error.cancel()


def test_computed_over_query_ids_recomputes_only_when_the_result_changes(
    server: Server, make_client: MakeClient
) -> None:
    todos = seed(make_client(server, start=False))
    top = todos.query().where(field("completed") == False).order_by("priority", "desc").limit(2)
    runs: List[List[str]] = []

    def top_ids() -> List[str]:
        ids = top.ids()
        runs.append(ids)
        return ids

    ids = Computed(top_ids)
    seen: List[List[str]] = []
    sub = ids.subscribe(seen.append)
    assert runs == [["t6", "t2"]]
    todos.create("low", Todo("low", priority=0))  # matches, outside the window
    todos.create("done", Todo("done", completed=True, priority=9))  # does not match
    todos.update("t4", dataclasses.replace(SEED["t4"], title="call dad"))  # outside the window
    assert len(runs) == 1
    todos.create("top", Todo("top", priority=7))  # enters the window
    assert runs[-1] == ["top", "t6"] and len(runs) == 2
    todos.update("t2", dataclasses.replace(SEED["t2"], title="TAXES"))  # no longer in the window
    assert len(runs) == 2
    # A value in the window changed: the result (what get() returns) changed, so the function
    # runs; its ids are equal, so the computed's subscribers are not told.
    todos.update("t6", dataclasses.replace(SEED["t6"], title="REPORT"))
    assert runs == [["t6", "t2"], ["top", "t6"], ["top", "t6"]]
    assert seen == [["t6", "t2"], ["top", "t6"]]

    # count is tracked by the number of matches only.
    counts: List[int] = []
    effect = Effect(lambda: counts.append(top.count()))
    todos.update("t1", dataclasses.replace(SEED["t1"], title="oat milk"))  # same number
    todos.create("more", Todo("more"))  # one more match, outside the window
    effect.stop()
    sub.cancel()
    assert counts == [7, 8]


def test_async_diffs_and_results_see_a_pulled_change(
    server: Server, make_client: MakeClient
) -> None:
    alice, bob = make_client(server), make_client(server)
    todos = seed(alice)
    alice.flush(20)
    query = todos.query().where(field("tags").contains("work")).order_by("due")

    async def follow_diffs() -> List[Any]:
        events: List[Any] = []
        rows: Rows = []
        async for event in query.diffs():
            events.append(event)
            if isinstance(event, QueryResult):
                rows = list(event.rows)
                bob.collection("todo", Todo).create("w", Todo("w", due="2026-01-15", tags=["work"]))
                await asyncio.to_thread(bob.flush, 20)
                await asyncio.to_thread(alice.sync)
            else:
                apply_diff(rows, event)
                if "w" in [id for id, _ in rows]:
                    break
        assert rows == query.get()
        return events

    events = asyncio.run(asyncio.wait_for(follow_diffs(), 30))
    assert isinstance(events[0], QueryResult)
    assert [id for id, _ in events[0].rows] == ["t6", "t2"]
    assert all(isinstance(e, QueryDiff) for e in events[1:])
    assert Inserted(0, "w", Todo("w", due="2026-01-15", tags=["work"])) in events[-1].ops

    async def follow_results() -> List[List[str]]:
        seen: List[List[str]] = []
        async for rows in query.results():
            seen.append([id for id, _ in rows])
            if len(seen) == 1:
                await asyncio.to_thread(bob.sync)  # bob has alice's todos
                assert "t6" in bob.collection("todo", Todo)
                bob.collection("todo", Todo).delete("t6")
                await asyncio.to_thread(bob.flush, 20)
                await asyncio.to_thread(alice.sync)
            elif "t6" not in seen[-1]:
                break
        return seen

    seen = asyncio.run(asyncio.wait_for(follow_results(), 30))
    assert seen[0] == ["w", "t6", "t2"]
    assert seen[-1] == ["w", "t2"]


def test_ensure_index_serves_the_same_results(server: Server, make_client: MakeClient) -> None:
    todos = seed(make_client(server, start=False))
    query = todos.query().where(field("priority") == 2).order_by("due", "desc")
    before = query.get()
    todos.ensure_index("priority")
    todos.ensure_index("due")
    todos.ensure_index("due")  # idempotent
    fresh = todos.query(query.spec)
    assert fresh.get() == before == [(i, SEED[i]) for i in ("t5", "t4", "t3")]
    todos.create("p2", Todo("p2", due="2030-01-01", priority=2))
    assert fresh.ids()[0] == "p2"


def test_collection_changes_carry_only_what_changed(
    server: Server, make_client: MakeClient
) -> None:
    todos = seed(make_client(server, start=False))
    changes: List[Change[Todo]] = []
    sub = todos.subscribe(changes.append)
    todos.update("t1", dataclasses.replace(SEED["t1"], completed=True))
    todos.delete("t2")
    sub.cancel()
    assert not hasattr(changes[0], "entries")
    assert [id for id, _ in changes[0].changed] == sorted(SEED)
    assert changes[1] == Change(
        changed=[("t1", dataclasses.replace(SEED["t1"], completed=True))], removed=[]
    )
    assert changes[2] == Change(changed=[], removed=["t2"])
    entries: Dict[str, Todo] = {}
    for change in changes:
        change.apply_to(entries)
    assert sorted(entries.items()) == todos.items()


def test_apply_diff_replays_steps_in_order() -> None:
    rows: List[Tuple[str, int]] = [("a", 1), ("b", 2), ("c", 3)]
    diff = QueryDiff([Removed(0, "a"), Moved(1, 0, "c"), Inserted(1, "d", 4), Updated(2, "b", 20)])
    assert apply_diff(rows, diff) == [("c", 3), ("d", 4), ("b", 20)]
    assert apply_diff(rows, [Moved(0, 2, "c")]) == [("d", 4), ("b", 20), ("c", 3)]
    for wrong in (
        [Removed(0, "x")],
        [Updated(5, "b", 0)],
        [Inserted(9, "z", 0)],
        [Moved(0, 7, "d")],
    ):
        with pytest.raises(ValueError):
            apply_diff(list(rows), wrong)  # type: ignore[arg-type]


def test_bad_queries_raise_invalid_query_before_or_at_the_crossing(
    server: Server, make_client: MakeClient
) -> None:
    assert issubclass(InvalidQuery, MizuError)
    assert InvalidQuery is MizuError.InvalidQuery
    todos = seed(make_client(server, start=False))
    q = todos.query()

    class NotJson:
        pass

    built_in_python: List[Callable[[], Any]] = [
        lambda: field(""),
        lambda: field("a..b"),
        lambda: field(".a"),
        lambda: field("a."),
        lambda: field(3),  # type: ignore[arg-type]
        lambda: field("x") == NotJson(),
        lambda: field("x") == {1, 2},
        lambda: field("x") < float("nan"),
        lambda: field("x").contains(b"bytes"),
        lambda: field("x").is_in(5),  # type: ignore[arg-type]
        lambda: field("x").is_in("abc"),
        lambda: field("x").is_in([NotJson()]),
        lambda: field("x").exists("yes"),  # type: ignore[arg-type]
        lambda: field("a") == 1 & field("b"),  # parentheses forgotten
        lambda: (field("a") == 1) and (field("b") == 2),  # `and` instead of &
        lambda: (field("a") == 1) & "b == 2",
        lambda: and_(field("a")),  # type: ignore[arg-type]
        lambda: q.where(),
        lambda: q.where("completed"),  # type: ignore[arg-type]
        lambda: q.where({"field": "x", "op": "eq", "value": NotJson()}),
        lambda: q.order_by(""),
        lambda: q.order_by("due", "down"),
        lambda: q.limit(-1),
        lambda: q.limit(1.5),  # type: ignore[arg-type]
        lambda: q.limit(True),
        lambda: q.limit("10"),  # type: ignore[arg-type]
        lambda: q.offset(-3),
        lambda: todos.query(spec={"limit": NotJson()}),
        lambda: todos.ensure_index(""),
        lambda: todos.ensure_index("a..b"),
    ]
    for i, make in enumerate(built_in_python):
        with pytest.raises(InvalidQuery):
            make()
            pytest.fail(f"case {i} did not raise")

    checked_by_the_library: List[Any] = [
        "not json",
        "[]",
        5,
        {"limit": -1},
        {"limit": 1.5},
        {"offset": "3"},
        {"where": {}},
        {"filter": {"field": "a", "op": "like", "value": 1}},
        {"filter": {"field": "a", "op": "eq"}},
        {"filter": {"field": "a", "op": "in", "value": 1}},
        {"filter": {"field": "a..b", "op": "eq", "value": 1}},
        {"filter": {"field": "", "op": "exists"}},
        {"filter": {"and": {}}},
        {"order_by": [{"field": "due", "order": "up"}]},
        {"order_by": [{"field": ""}]},
    ]
    for spec in checked_by_the_library:
        with pytest.raises(InvalidQuery):
            todos.query(spec=spec)
            pytest.fail(f"{spec!r} did not raise")
    bad_dict_filter = q.where({"field": "a", "op": "like", "value": 1})
    with pytest.raises(InvalidQuery, match="like"):
        bad_dict_filter.get()
    # Nothing was silently empty: the collection and good queries are untouched.
    assert q.count() == len(SEED)
