"""Benchmarks of the Python bindings' hot operations (issue 14), each next to its peers in the
same run: a plain Python attribute or dict, the ``reaktiv`` signals package (pure Python), the
floor of a generated UniFFI call (``Subscription.is_cancelled``: no arguments, a bool back), the
floor of a direct call (``mizu_hot_noop`` through ctypes), and mizu_sync's public API. Prints a
Markdown table (recorded in BENCHMARKS.md) with each goal and whether it is met.

    MIZU_PYTHON_BENCH=1 bash scripts/test-python.sh     # builds release, installs reaktiv
    python bench/bench_signals.py [--n N] [--out PATH]  # in that venv

Each figure is the median over 5 runs of ``n`` operations, per operation. Derived rows:

- effect dispatch = (set of a signal one effect reads, the effect running once per set)
  minus (set of a signal nobody reads) minus (untracked read of the signal): what delivering
  one change to one effect costs on the writing thread, beyond the write and the effect's own
  read;
- listener dispatch = (set of a signal with one subscribed listener) minus (set of a signal
  nobody reads): the listener receives the value as its argument.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import reaktiv

import mizu_sync
from mizu_sync import Client, Computed, Effect, Signal, _native
from mizu_sync._support import dumps, loads

Loop = Callable[[int], None]


@dataclass
class Todo:
    """The issue's 131-byte todo record (as in ``bench/query_bench.py`` and the sync
    benchmark)."""

    completed: bool
    due: str
    priority: int
    tags: List[str]
    title: str


TODOS = [
    Todo(
        False, "2026-02-02", 1, ["home", "errands"], "Buy oat milk and bread for the week #000001"
    ),
    Todo(
        False, "2026-02-03", 2, ["home", "errands"], "Buy oat milk and bread for the week #000002"
    ),
]
assert all(len(dumps(t).encode()) == 131 for t in TODOS), "the todo record is 131 bytes of JSON"


class Plain:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def per_op(fn: Loop, n: int, repeats: int = 5) -> float:
    """Median seconds per operation over ``repeats`` runs of ``fn(n)``."""
    fn(max(1, n // 10))  # warm up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(n)
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def generated_library() -> ctypes.CDLL:
    """The CDLL object the generated module calls through."""
    for module in (_native, *(getattr(_native, name) for name in dir(_native))):
        candidate = getattr(module, "_UniffiLib", None)
        if isinstance(candidate, ctypes.CDLL):
            return candidate
    raise RuntimeError("the generated module's library (_UniffiLib) was not found")


def noop_library() -> str:
    return generated_library()._name  # type: ignore[no-any-return]


def noop_handle() -> int:
    return generated_library()._handle  # type: ignore[no-any-return]


def direct_noop() -> Callable[[], int]:
    """``mizu_hot_noop`` from the very library the generated module loaded."""
    noop = ctypes.CDLL(noop_library(), handle=noop_handle()).mizu_hot_noop
    noop.argtypes = []
    noop.restype = ctypes.c_int32
    return noop  # type: ignore[no-any-return]


@dataclass
class Row:
    name: str
    plain: Optional[float] = None
    reaktiv: Optional[float] = None
    ours: Optional[float] = None
    goal_us: Optional[float] = None


def set_get_loops(values: List[Any]) -> Tuple[Loop, Loop, Loop]:
    """set + get loops over ``values`` (consecutive ones differ) for the three contenders."""
    m = len(values)
    plain = Plain(values[-1])
    rk = reaktiv.Signal(values[-1])
    ours = Signal(values[-1])

    def plain_loop(k: int) -> None:
        for i in range(k):
            plain.value = values[i % m]
            plain.value

    def reaktiv_loop(k: int) -> None:
        for i in range(k):
            rk.set(values[i % m])
            rk()

    def ours_loop(k: int) -> None:
        for i in range(k):
            ours.set(values[i % m])
            ours.get()

    return plain_loop, reaktiv_loop, ours_loop


def bench(n: int) -> Tuple[List[Row], Dict[str, float]]:
    rows: List[Row] = []
    floors: Dict[str, float] = {}

    probe = Signal(0).subscribe(lambda _: None)
    native_probe = getattr(probe, "_native", None)  # the generated Subscription, if any
    if isinstance(native_probe, _native.Subscription):
        floors["bare generated call: `Subscription.is_cancelled()` (no arguments, a bool back)"] = (
            per_op(lambda k: [native_probe.is_cancelled() for _ in range(k)] and None, n)
        )
    else:  # the wrapper no longer holds one: measure a fresh generated subscription
        raw = _native.Signal("0")

        class _Null(_native.SignalListener):
            def on_change(self, value_json: str) -> None:
                pass

        raw_sub = raw.subscribe(_Null())
        floors["bare generated call: `Subscription.is_cancelled()` (no arguments, a bool back)"] = (
            per_op(lambda k: [raw_sub.is_cancelled() for _ in range(k)] and None, n)
        )
    noop = direct_noop()
    floors["bare direct call: `mizu_hot_noop()` through ctypes"] = per_op(
        lambda k: [noop() for _ in range(k)] and None, n
    )
    probe.cancel()

    # Signal set + get per scalar type.
    cases: List[Tuple[str, List[Any]]] = [
        ("Signal set + get: int", list(range(1000))),
        ("Signal set + get: bool", [True, False]),
        ("Signal set + get: short str", [f"item-{i}" for i in range(1000)]),
    ]
    for name, values in cases:
        p, r, o = set_get_loops(values)
        rows.append(Row(name, per_op(p, n), per_op(r, n), per_op(o, n), 2.0))

    # Dispatch: set alone, get alone, set with one effect, set with one listener.
    counter = [0]

    def setter(target: Callable[[int], Any]) -> Loop:
        def loop(k: int) -> None:
            c = counter[0]
            for i in range(c + 1, c + k + 1):
                target(i)
            counter[0] = c + k

        return loop

    plain_alone, plain_fx = Plain(0), Plain(0)
    rk_alone, rk_fx, rk_ls = reaktiv.Signal(0), reaktiv.Signal(0), reaktiv.Signal(0)
    our_alone, our_fx, our_ls = Signal(0), Signal(0), Signal(0)
    hits = [0, 0, 0, 0]
    subscribers: List[Callable[[], None]] = []

    def plain_fx_set(v: int) -> None:  # a plain attribute with a hand-written notify
        plain_fx.value = v
        for fn in subscribers:
            fn()

    def plain_fx_body() -> None:
        plain_fx.value
        hits[0] += 1

    subscribers.append(plain_fx_body)

    def rk_body() -> None:
        rk_fx()
        hits[1] += 1

    rk_effect = reaktiv.Effect(rk_body)

    def rk_listener_body() -> None:  # reaktiv has no listener: an effect forwarding the value
        _ = rk_ls()

    rk_listener = reaktiv.Effect(rk_listener_body)

    def our_body() -> None:
        our_fx.get()
        hits[2] += 1

    our_effect = Effect(our_body)

    def our_listener(value: int) -> None:
        hits[3] += 1

    our_sub = our_ls.subscribe(our_listener)

    def plain_set_alone(v: int) -> None:
        plain_alone.value = v

    set_alone = {
        "plain": per_op(setter(plain_set_alone), n),
        "reaktiv": per_op(setter(rk_alone.set), n),
        "ours": per_op(setter(our_alone.set), n),
    }
    get_alone = {
        "plain": per_op(lambda k: [plain_alone.value for _ in range(k)] and None, n),
        "reaktiv": per_op(lambda k: [rk_alone() for _ in range(k)] and None, n),
        "ours": per_op(lambda k: [our_alone.peek() for _ in range(k)] and None, n),
    }
    with_effect = {
        "plain": per_op(setter(plain_fx_set), n),
        "reaktiv": per_op(setter(rk_fx.set), n),
        "ours": per_op(setter(our_fx.set), n),
    }
    with_listener = {
        "reaktiv": per_op(setter(rk_ls.set), n),
        "ours": per_op(setter(our_ls.set), n),
    }
    sets = max(1, n // 10) + 5 * n
    assert hits[1] == hits[2] == sets + 1, "each effect ran once on creation and once per set"
    assert hits[3] == sets + 1, "the listener ran once with the current value and once per set"
    our_effect.stop()
    our_sub.cancel()
    rk_effect.dispose()
    rk_listener.dispose()

    rows.append(Row("Signal set, nobody reads it", *set_alone.values()))
    rows.append(Row("Signal untracked read (`peek`)", *get_alone.values()))
    rows.append(Row("Signal set + the effect that reads it", *with_effect.values()))
    rows.append(
        Row(
            "**effect dispatch** (set + effect − set − read)",
            *(max(0.0, with_effect[k] - set_alone[k] - get_alone[k]) for k in with_effect),
            3.0,
        )
    )
    plain_listener = with_effect["plain"] - get_alone["plain"] - set_alone["plain"]
    rows.append(
        Row(
            "**listener dispatch** (set + listener − set)",
            max(0.0, plain_listener),
            max(0.0, with_listener["reaktiv"] - set_alone["reaktiv"]),
            max(0.0, with_listener["ours"] - set_alone["ours"]),
            3.0,
        )
    )

    # Computeds: a read of an unchanged one, and a write of its source followed by a read
    # (which recomputes it: the function is Python, called from the library).
    c_plain = Plain(0)
    c_src_plain = Plain(0)
    rk_src = reaktiv.Signal(0)
    rk_double = reaktiv.Computed(lambda: rk_src() * 2)
    our_src: Signal[int] = Signal(0)
    our_double = Computed(lambda: our_src.get() * 2)

    def plain_c_get(k: int) -> None:
        for _ in range(k):
            c_plain.value

    def rk_c_get(k: int) -> None:
        for _ in range(k):
            rk_double()

    def our_c_get(k: int) -> None:
        for _ in range(k):
            our_double.get()

    def plain_c_recompute(k: int) -> None:
        for i in range(k):
            c_src_plain.value = i
            c_plain.value = c_src_plain.value * 2

    def rk_c_recompute(k: int) -> None:
        for i in range(k):
            rk_src.set(i)
            rk_double()

    def our_c_recompute(k: int) -> None:
        for i in range(k):
            our_src.set(i)
            our_double.get()

    rows.append(
        Row(
            "Computed get, unchanged",
            per_op(plain_c_get, n),
            per_op(rk_c_get, n),
            per_op(our_c_get, n),
        )
    )
    rows.append(
        Row(
            "Signal set + Computed get (recomputes)",
            per_op(plain_c_recompute, n),
            per_op(rk_c_recompute, n),
            per_op(our_c_recompute, n),
        )
    )
    generated_double = getattr(our_double, "_native", None)
    if isinstance(generated_double, _native.Computed):
        floors[
            "generated layer: `Computed.get()` of an unchanged computed (JSON text, decoded)"
        ] = per_op(lambda k: [loads(generated_double.get()) for _ in range(k)] and None, n)

    # Entities: the 131-byte todo, memory store (a client that never syncs).
    with Client("http://127.0.0.1:9/_sync") as client:
        todos = client.collection("todos", Todo)
        todos.set("t", TODOS[0])
        entity = todos.entity("t")
        store: Dict[str, Todo] = {"t": TODOS[0]}
        rk_todo = reaktiv.Signal(TODOS[0])

        def plain_get(k: int) -> None:
            for _ in range(k):
                store["t"]

        def rk_get(k: int) -> None:
            for _ in range(k):
                rk_todo()

        def our_get(k: int) -> None:
            for _ in range(k):
                entity.get()

        rows.append(
            Row(
                "Entity get (131-byte todo)",
                per_op(plain_get, n),
                per_op(rk_get, n),
                per_op(our_get, n),
                8.0,
            )
        )

        def plain_set(k: int) -> None:
            for i in range(k):
                store["t"] = TODOS[i & 1]

        def rk_set(k: int) -> None:
            for i in range(k):
                rk_todo.set(TODOS[i & 1])

        def our_set(k: int) -> None:
            for i in range(k):
                entity.set(TODOS[i & 1])

        rows.append(
            Row(
                "Entity set (131-byte todo)",
                per_op(plain_set, n),
                per_op(rk_set, n),
                per_op(our_set, n),
                8.0,
            )
        )
        hot_handle = getattr(todos, "_h", None)
        if hot_handle:  # the library's own cost of that write: JSON bytes prepared beforehand
            write = ctypes.CDLL(noop_library(), handle=noop_handle()).mizu_hot_collection_write
            write.restype = ctypes.c_int32
            write.argtypes = [ctypes.c_uint64, ctypes.c_char_p, ctypes.c_uint64]
            write.argtypes += [ctypes.c_char_p, ctypes.c_uint64, ctypes.c_int32]
            bodies = [dumps(t).encode() for t in TODOS]

            def direct_write(k: int) -> None:
                for i in range(k):
                    body = bodies[i & 1]
                    write(hot_handle, b"t", 1, body, len(body), 0)

            floors[
                "direct call `mizu_hot_collection_write` of the todo's JSON bytes (no codec)"
            ] = per_op(direct_write, n)

        ids = iter([f"todo-{i:07d}" for i in range(n * 6 + n // 10 + 1)])

        def plain_create(k: int) -> None:
            for _ in range(k):
                id = next(ids)
                if id in store:
                    raise KeyError(id)
                store[id] = TODOS[0]

        ours_ids = iter([f"todo-{i:07d}" for i in range(n * 6 + n // 10 + 1)])

        def our_create(k: int) -> None:
            for _ in range(k):
                todos.create(next(ours_ids), TODOS[0])

        rows.append(
            Row(
                "`Collection.create` (131-byte todo, memory store)",
                per_op(plain_create, n),
                None,
                per_op(our_create, n),
                15.0,
            )
        )
    return rows, floors


def us(seconds: Optional[float]) -> str:
    return "–" if seconds is None else f"{seconds * 1e6:.2f} µs"


def ratio(ours: Optional[float], peer: Optional[float]) -> str:
    if ours is None or not peer:
        return "–"
    return f"{ours / peer:.0f}×" if ours / peer >= 10 else f"{ours / peer:.1f}×"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows, floors = bench(args.n)
    load_after = os.getloadavg()
    lines = [
        "# Python bindings: hot operations (issue 14)",
        "",
        f"`bench/bench_signals.py --n {args.n}` (median of 5 runs), Python "
        f"{platform.python_version()}, {platform.machine()}, mizu_sync "
        f"{getattr(mizu_sync, '__version__', '0.1.0')}, reaktiv {reaktiv_version()}, release build "
        "of the native library.",
        "",
        "| operation | plain Python | reaktiv | mizu_sync | ÷ plain | ÷ reaktiv | goal | |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        goal = "" if row.goal_us is None else f"≤ {row.goal_us:g} µs"
        met = ""
        if row.goal_us is not None and row.ours is not None:
            met = "met" if row.ours * 1e6 <= row.goal_us else "**missed**"
        lines.append(
            f"| {row.name} | {us(row.plain)} | {us(row.reaktiv)} | {us(row.ours)} | "
            f"{ratio(row.ours, row.plain)} | {ratio(row.ours, row.reaktiv)} | {goal} | {met} |"
        )
    lines += ["", "| floor | per call |", "|---|---:|"]
    for name, seconds in floors.items():
        lines.append(f"| {name} | {us(seconds)} |")
    lines += [
        "",
        "Load average: "
        + " / ".join(f"{x:.2f}" for x in load_before)
        + " before, "
        + " / ".join(f"{x:.2f}" for x in load_after)
        + f" after, on {os.cpu_count()} CPUs (numbers scale with load).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text)


def reaktiv_version() -> str:
    try:
        from importlib.metadata import version

        return version("reaktiv")
    except Exception:  # noqa: BLE001 - informative only
        return "?"


if __name__ == "__main__":
    main()
