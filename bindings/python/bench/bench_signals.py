"""Benchmarks of the Python bindings: Signal set + get round trips and effect dispatch, next
to a pure-Python loop doing the same work. Writes a Markdown table to BENCH-RESULTS.md.

    python bench/bench_signals.py [--out PATH] [--n N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import mizu_sync
from mizu_sync import Effect, Signal, _native


class PySignal:
    """The pure-Python baseline: a value, its subscribers, JSON-free."""

    __slots__ = ("value", "subscribers")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.subscribers: List[Callable[[], None]] = []

    def get(self) -> Any:
        return self.value

    def set(self, value: Any) -> None:
        if value != self.value:
            self.value = value
            for fn in list(self.subscribers):
                fn()


class _Null(_native.SignalListener):
    def on_change(self, value_json: str) -> None:
        pass


def per_op(fn: Callable[[int], None], n: int, repeats: int = 5) -> float:
    """Median seconds per operation over ``repeats`` runs of ``n`` operations."""
    fn(max(1, n // 10))  # warm up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(n)
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def bench(n: int) -> Dict[str, float]:
    results: Dict[str, float] = {}

    py = PySignal(0)

    def py_set_get(k: int) -> None:
        for i in range(k):
            py.set(i)
            py.get()

    results["pure Python: set + get"] = per_op(py_set_get, n)

    sig = Signal(0)

    def wrapper_set_get(k: int) -> None:
        for i in range(k):
            sig.set(i)
            sig.get()

    results["mizu_sync.Signal: set + get (JSON)"] = per_op(wrapper_set_get, n)

    def wrapper_set(k: int) -> None:
        for i in range(k):
            sig.set(i)

    def wrapper_get(k: int) -> None:
        for _ in range(k):
            sig.get()

    results["mizu_sync.Signal: set only"] = per_op(wrapper_set, n)
    results["mizu_sync.Signal: get only"] = per_op(wrapper_get, n)

    raw = _native.Signal("0")
    sub_probe = raw.subscribe(_Null())
    texts = [str(i) for i in range(max(n, 1))]

    def native_set_get(k: int) -> None:
        for i in range(k):
            raw.set(texts[i])
            raw.get()

    results["generated module: set + get (JSON text)"] = per_op(native_set_get, n)

    def native_get(k: int) -> None:
        for _ in range(k):
            raw.get()

    results["generated module: get only"] = per_op(native_get, n)
    results["generated module: Subscription.is_cancelled (no arguments, returns a bool)"] = per_op(
        lambda k: [sub_probe.is_cancelled() for _ in range(k)] and None, n
    )

    # Callback dispatch: one subscriber / effect reading the signal; each set runs it once.
    py_dep = PySignal(0)
    py_hits = [0]

    def py_subscriber() -> None:
        py_dep.get()
        py_hits[0] += 1

    py_dep.subscribers.append(py_subscriber)
    py_counter = [0]

    def py_dispatch(k: int) -> None:
        for _ in range(k):
            py_counter[0] += 1
            py_dep.set(py_counter[0])

    results["pure Python: set + subscriber run"] = per_op(py_dispatch, n)

    eff_sig = Signal(0)
    hits = [0]

    def body() -> None:
        eff_sig.get()
        hits[0] += 1

    effect = Effect(body)
    counter = [0]

    def effect_dispatch(k: int) -> None:
        for _ in range(k):
            counter[0] += 1
            eff_sig.set(counter[0])

    with_effect = per_op(effect_dispatch, n)
    effect.stop()
    assert hits[0] == counter[0] + 1, "the effect ran once per set"
    results["mizu_sync: set + effect run (the effect reads the signal)"] = with_effect
    results["mizu_sync: effect dispatch alone (the above minus set only and get only)"] = max(
        0.0,
        with_effect - results["mizu_sync.Signal: set only"] - results["mizu_sync.Signal: get only"],
    )
    sub_probe.cancel()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "BENCH-RESULTS.md")
    args = parser.parse_args()
    results = bench(args.n)
    lines = [
        "# Python bindings: signal benchmarks",
        "",
        f"`bench/bench_signals.py --n {args.n}` (median of 5 runs), Python "
        f"{platform.python_version()}, {platform.machine()}, mizu_sync "
        f"{getattr(mizu_sync, '__version__', '0.1.0')}, release build of the native library.",
        "",
        "| operation | per op |",
        "|---|---:|",
    ]
    for name, seconds in results.items():
        lines.append(f"| {name} | {seconds * 1e6:.2f} µs |")
    set_get = results["mizu_sync.Signal: set + get (JSON)"] * 1e6
    trivial = results["generated module: Subscription.is_cancelled (no arguments, returns a bool)"] * 1e6
    lines += [
        "",
        f"Goal: set + get at most 2 µs. Measured: {set_get:.1f} µs "
        f"({'met' if set_get <= 2 else 'not met'}).",
        "",
        "Where the time goes: every call through UniFFI's generated Python module is several",
        "ctypes crossings (clone the object handle, then the call itself; a string argument adds",
        "a RustBuffer allocation, a string result a free), each with a call-status struct. The",
        f"cheapest call measured here (no arguments, a bool back) costs {trivial:.1f} µs; the Rust",
        "work behind set or get (a mutex, the graph's bookkeeping, a JSON parse) is well under",
        "1 µs. The JSON encoding in the wrapper adds about 1 µs per value. Meeting 2 µs needs",
        "fewer crossings per operation than UniFFI's Python generator makes, e.g. a CPython",
        "extension (PyO3) or ctypes over the crate's C API for hot paths.",
        "",
        f"Load average while measuring: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}"
        f" on {os.cpu_count()} CPUs (the machine is shared; numbers scale with load).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
