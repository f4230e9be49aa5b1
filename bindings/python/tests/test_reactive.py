"""The seed's reactive examples, in Python, over the Rust graph."""

from __future__ import annotations

import gc
import threading
from typing import Any, List

import pytest

from mizu_sync import (
    Computed,
    Effect,
    MizuError,
    Signal,
    batch,
    batched,
    computed,
    effect,
    on_unhandled_error,
    untracked,
)


def test_signal_goes_from_0_to_5_to_6() -> None:
    count = Signal(0)
    assert count.get() == 0
    count.set(5)
    assert count.get() == 5
    count.update(lambda n: n + 1)
    assert count.value == 6


def test_update_from_four_threads_counts_every_increment() -> None:
    count = Signal(0)
    effect_saw: List[int] = []
    listener_saw: List[int] = []
    e = Effect(lambda: effect_saw.append(count.get()))
    sub = count.subscribe(listener_saw.append)
    start = threading.Barrier(4)

    def increment() -> None:
        start.wait()
        for _ in range(500):
            count.update(lambda v: v + 1)

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    e.stop()
    sub.cancel()
    assert count.get() == 2000
    assert max(effect_saw) == 2000
    assert max(listener_saw) == 2000


def test_update_runs_the_function_again_when_another_thread_wrote_meanwhile() -> None:
    count = Signal(1)
    calls: List[int] = []

    def add_one(v: int) -> int:
        calls.append(v)
        if len(calls) == 1:
            writer = threading.Thread(target=lambda: count.set(10))
            writer.start()
            writer.join()
        return v + 1

    count.update(add_one)
    assert calls == [1, 10]
    assert count.get() == 11


def test_update_reraises_and_leaves_the_value_unchanged() -> None:
    count = Signal(1)
    with pytest.raises(ZeroDivisionError):
        count.update(lambda v: v // 0)
    with pytest.raises(TypeError):
        count.update(lambda v: {v})
    assert count.get() == 1


def test_computed_is_lazy_cached_and_follows_its_signals() -> None:
    price, count = Signal(10), Signal(5.0)
    runs: List[int] = []

    @computed
    def total() -> float:
        runs.append(1)
        return price.get() * count.get()

    assert runs == []
    assert total.get() == 50.0
    assert total.get() == 50.0
    assert len(runs) == 1
    price.set(20)
    assert total.get() == 100.0
    assert len(runs) == 2


def test_effect_prints_on_creation_and_each_set_and_is_silent_after_stop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    count = Signal(0)
    e = Effect(lambda: print(f"count = {count.get()}"))
    count.set(5)
    count.set(6)
    e.stop()
    assert e.stopped
    count.set(7)
    assert capsys.readouterr().out.splitlines() == ["count = 0", "count = 5", "count = 6"]


def test_effect_decorator_and_context_manager_stop_the_effect() -> None:
    name = Signal("Ada")
    seen: List[str] = []
    with Effect(lambda: seen.append(name.get())):
        name.set("Grace")
    name.set("Linus")

    @effect
    def greet() -> None:
        seen.append("hi " + name.get())

    greet.stop()
    name.set("Ken")
    assert seen == ["Ada", "Grace", "hi Linus"]


def test_batch_runs_each_effect_once_with_all_writes() -> None:
    first, last = Signal("Ada"), Signal("Byron")
    seen: List[str] = []
    e = Effect(lambda: seen.append(f"{first.get()} {last.get()}"))

    def rename() -> str:
        first.set("Grace")
        last.set("Hopper")
        return "renamed"

    assert batch(rename) == "renamed"

    @batched
    def swap(a: str, b: str) -> None:
        first.set(a)
        last.set(b)

    swap("Alan", "Turing")
    e.stop()
    assert seen == ["Ada Byron", "Grace Hopper", "Alan Turing"]


def test_batch_as_a_with_block_runs_each_effect_once_after_the_block() -> None:
    first, last = Signal("Ada"), Signal("Byron")
    seen: List[str] = []
    e = Effect(lambda: seen.append(f"{first.get()} {last.get()}"))
    with batch():
        first.set("Grace")
        last.set("Hopper")
        assert seen == ["Ada Byron"], "nothing runs inside the block"
    assert seen == ["Ada Byron", "Grace Hopper"]
    with pytest.raises(KeyError):
        with batch():
            first.set("Ada")
            raise KeyError("the block raised")
    assert seen[-1] == "Ada Hopper", "the batch still ended and ran the effect"
    e.stop()


def test_batch_and_computed_reraise_the_python_exception() -> None:
    with pytest.raises(KeyError):
        batch(lambda: {}["missing"])
    broken = Computed(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        broken.get()


def test_untracked_reads_do_not_rerun_an_effect() -> None:
    tracked, hidden = Signal(1), Signal(1)
    runs: List[int] = []
    e = Effect(lambda: runs.append(tracked.get() + untracked(hidden.get)))
    hidden.set(2)
    tracked.set(2)
    e.stop()
    assert runs == [2, 4]


def test_values_are_json_and_equal_writes_notify_nobody() -> None:
    doc = Signal({"b": [1, 2], "a": None})
    seen: List[Any] = []
    sub = doc.subscribe(seen.append)
    doc.set({"a": None, "b": [1, 2]})
    doc.set({"a": "x", "b": []})
    sub.cancel()
    assert seen == [{"a": None, "b": [1, 2]}, {"a": "x", "b": []}]


def test_closing_a_subscription_or_dropping_it_stops_the_listener() -> None:
    count = Signal(0)
    seen: List[int] = []
    sub = count.subscribe(seen.append)
    count.set(1)
    sub.cancel()
    assert sub.cancelled
    count.set(2)
    count.subscribe(lambda v: seen.append(v * 100))  # dropped at once: the GC cancels it
    gc.collect()
    count.set(3)
    assert seen == [0, 1, 200]


def test_closed_handles_raise_closed() -> None:
    s = Signal(1)
    c = Computed(lambda: s.get() + 1)
    sub = s.subscribe(lambda v: None)
    s.close()
    assert sub.cancelled
    with pytest.raises(MizuError.Closed):
        s.get()
    with pytest.raises(MizuError.Closed):
        s.set(2)
    c.close()
    with pytest.raises(MizuError.Closed):
        c.get()


def test_bad_values_raise_clear_exceptions() -> None:
    with pytest.raises(TypeError, match="not JSON-serializable"):
        Signal(object())
    with pytest.raises(TypeError):
        Signal(1).set({1, 2})
    with pytest.raises(TypeError):
        Signal(float("nan"))


def test_a_raising_listener_is_reported_and_keeps_listening() -> None:
    reported: List[MizuError] = []
    sink = on_unhandled_error(reported.append)
    count = Signal(0)
    seen: List[int] = []

    def listener(value: int) -> None:
        seen.append(value)
        raise RuntimeError(f"listener failed at {value}")

    sub = count.subscribe(listener)
    count.set(1)
    sub.cancel()
    sink.cancel()
    assert seen == [0, 1]
    mine = [e for e in reported if "listener failed at" in str(e)]
    assert len(mine) == 2
    assert all(isinstance(e, MizuError.Callback) for e in mine)


def test_effects_run_on_the_writing_thread() -> None:
    count = Signal(0)
    threads: List[str] = []
    e = Effect(lambda: (count.get(), threads.append(threading.current_thread().name)))
    writer = threading.Thread(target=lambda: count.set(1), name="writer")
    writer.start()
    writer.join()
    e.stop()
    assert threads == [threading.current_thread().name, "writer"]


def test_async_iteration_yields_current_value_then_changes() -> None:
    import asyncio

    async def main() -> List[int]:
        count = Signal(0)
        seen: List[int] = []
        async for value in count.changes():
            seen.append(value)
            if value == 3:
                break
            count.set(value + 1)
        return seen

    assert asyncio.run(main()) == [0, 1, 2, 3]
