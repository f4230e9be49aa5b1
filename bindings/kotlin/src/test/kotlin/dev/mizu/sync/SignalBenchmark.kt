package dev.mizu.sync

import com.sun.jna.Native
import com.sun.jna.NativeLibrary
import dev.mizu.sync.ffi.ComputedFn
import dev.mizu.sync.ffi.SignalListener
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.launchIn
import kotlinx.coroutines.flow.onEach
import kotlinx.serialization.Serializable
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import java.io.File
import dev.mizu.sync.ffi.Computed as FfiComputed
import dev.mizu.sync.ffi.Signal as FfiSignal

/**
 * Per-call cost of the Kotlin binding next to pure Kotlin doing the same work, in one run:
 * plain Kotlin and `MutableStateFlow` (the peers), the bare generated UniFFI call and the bare
 * direct call (the floors of the two native layers), and the binding's signals, entities,
 * effects, listeners and `create` (issue 14's goals next to each). Tagged `bench` (left out of
 * `mvn test`); `MIZU_KOTLIN_BENCH=1 scripts/test-kotlin.sh` runs it and writes BENCH-RESULTS.md.
 */
@Tag("bench")
class SignalBenchmark {
    private class PlainSignal(var value: Int) {
        val subscribers = mutableListOf<() -> Unit>()

        fun set(v: Int) {
            if (v != value) {
                value = v
                subscribers.forEach { it() }
            }
        }
    }

    /** The sync benchmark's todo record: 131 bytes of JSON. */
    @Serializable
    data class BenchTodo(
        val completed: Boolean,
        val due: String,
        val priority: Int,
        val tags: List<String>,
        val title: String,
    )

    /** `mizu_hot_noop` through JNA direct mapping: the floor of a direct call. */
    private object DirectFloor {
        init {
            Native.register(DirectFloor::class.java, NativeLibrary.getInstance("mizu_sync"))
        }

        @JvmStatic
        external fun mizu_hot_noop(): Int
    }

    private class Row(val name: String, val ns: Double, val goalUs: Double?)

    private val rows = mutableListOf<Row>()

    /** Median nanoseconds per operation over [repeats] runs of [n] operations, after warm-up runs. */
    private fun perOp(n: Int, repeats: Int = 5, body: (Int) -> Unit): Double {
        repeat(3) { body(n) } // warm-up: JIT (C2) and caches
        val samples = (1..repeats).map {
            val start = System.nanoTime()
            body(n)
            (System.nanoTime() - start).toDouble() / n
        }
        return samples.sorted()[repeats / 2]
    }

    private fun record(name: String, goalUs: Double? = null, n: Int, body: (Int) -> Unit): Double =
        perOp(n, body = body).also { rows += Row(name, it, goalUs) }

    /** A row computed from others: a difference of medians, shown as n/a when noise makes it negative. */
    private fun derived(name: String, ns: Double, goalUs: Double? = null) {
        rows += Row(name, ns, goalUs)
    }

    @Test
    fun `measures signal calls and dispatch`() {
        val n = System.getProperty("mizu.bench.n")?.toIntOrNull() ?: 20_000
        val load = runCatching { File("/proc/loadavg").readText().split(" ").take(3).joinToString(" ") }.getOrDefault("unknown")
        var sink = 0L

        // Peers: plain Kotlin and MutableStateFlow.
        val plain = PlainSignal(0)
        record("plain Kotlin: set + get", n = n) { k -> repeat(k) { plain.set(it); sink += plain.value } }
        val stateFlow = MutableStateFlow(0)
        record("MutableStateFlow<Int>: value set + get", n = n) { k -> repeat(k) { stateFlow.value = it; sink += stateFlow.value } }
        val plainDep = PlainSignal(0)
        plainDep.subscribers += { sink += plainDep.value }
        var plainCounter = 0
        record("plain Kotlin: set + subscriber run", n = n) { k -> repeat(k) { plainDep.set(++plainCounter) } }
        // A collector on Dispatchers.Unconfined resumes inside the setter, on the writing thread,
        // like our listeners: the check below makes sure it saw every value.
        val collected = MutableStateFlow(0)
        var collectorRuns = 0
        val scope = CoroutineScope(Dispatchers.Unconfined)
        collected.onEach { sink += it; collectorRuns++ }.launchIn(scope)
        var flowCounter = 0
        record("MutableStateFlow<Int>: set + collector run (onEach on Dispatchers.Unconfined)", n = n) { k ->
            repeat(k) { collected.value = ++flowCounter }
        }
        scope.cancel()
        check(collectorRuns == flowCounter + 1) { "the collector ran once per set: $collectorRuns runs for $flowCounter sets" }

        // Floors of the two native layers.
        val raw = FfiSignal("0")
        val probe = raw.subscribe(
            object : SignalListener {
                override fun onChange(valueJson: String) {}
            },
        )
        record("generated layer: Subscription.isCancelled (no arguments, a bool back)", n = n) { k ->
            repeat(k) { if (probe.isCancelled()) sink++ }
        }
        probe.cancel()
        record("direct call: mizu_hot_noop (JNA direct mapping)", n = n) { k -> repeat(k) { sink += DirectFloor.mizu_hot_noop() } }
        val texts = Array(n) { it.toString() }
        record("generated layer: Signal set + get (JSON text)", n = n) { k -> repeat(k) { raw.set(texts[it]); sink += raw.get().length } }

        // Signals.
        val signal = Signal(0)
        record("Signal<Int>: set + get", goalUs = 2.0, n = n) { k -> repeat(k) { signal.value = it; sink += signal.value } }
        val setOnly = record("Signal<Int>: set only", n = n) { k -> repeat(k) { signal.value = it } }
        val getOnly = record("Signal<Int>: get only", n = n) { k -> repeat(k) { sink += signal.value } }
        record("Signal<Int>: peek (untracked get)", n = n) { k -> repeat(k) { sink += signal.peek() } }
        val flag = Signal(false)
        record("Signal<Boolean>: set + get", goalUs = 2.0, n = n) { k ->
            repeat(k) {
                flag.value = it and 1 == 0
                if (flag.value) sink++
            }
        }
        val words = Array(n) { "item-$it" }
        val word = Signal("")
        record("Signal<String>: set + get (short strings)", goalUs = 2.0, n = n) { k ->
            repeat(k) {
                word.value = words[it]
                sink += word.value.length
            }
        }

        // Computeds: a read of an unchanged one, and a read after its signal changed (one
        // recompute, which reads the signal, per write). The generated rows do the same work on
        // the generated layer alone (JSON text both ways).
        val base = Signal(0)
        val doubled = Computed { base.value * 2 }
        record("Computed<Int>: get (unchanged)", n = n) { k -> repeat(k) { sink += doubled.value } }
        var baseCounter = 0
        record("Signal set + Computed get (recompute)", n = n) { k ->
            repeat(k) {
                base.value = ++baseCounter
                sink += doubled.value
            }
        }
        check(doubled.value == baseCounter * 2) { "the computed followed its signal" }
        // Dispatch on the writing thread.
        val effectSignal = Signal(0)
        var hits = 0
        val effect = Effect { sink += effectSignal.value; hits++ }
        var counter = 0
        val withEffect = record("Signal<Int>: set + effect run (the effect reads the signal)", n = n) { k ->
            repeat(k) { effectSignal.value = ++counter }
        }
        effect.stop()
        check(hits == counter + 1) { "the effect ran once per set: $hits runs for $counter sets" }
        derived("effect dispatch alone (the above minus set only and get only)", withEffect - setOnly - getOnly, goalUs = 3.0)

        val listened = Signal(0)
        var calls = 0
        val subscription = listened.subscribe { calls++; sink += it }
        var next = 0
        val withListener = record("Signal<Int>: set + listener call (value decoded)", n = n) { k ->
            repeat(k) { listened.value = ++next }
        }
        subscription.cancel()
        check(calls == next + 1) { "the listener ran once per set: $calls calls for $next sets" }
        derived("listener dispatch alone (the above minus set only)", withListener - setOnly, goalUs = 3.0)

        // Entities: the 131-byte todo in a memory store (a client that is never started).
        val todoA = BenchTodo(false, "2026-01-01", 0, listOf("home", "errands"), "Buy oat milk and bread for the week #000000")
        val todoB = todoA.copy(completed = true)
        val todoBytes = MizuJson.encodeToString(BenchTodo.serializer(), todoA).toByteArray().size
        check(todoBytes == 131) { "the todo record is $todoBytes bytes of JSON, not 131" }
        Client(ClientOptions(baseUrl = "http://127.0.0.1:9/_sync")).use { client ->
            val todos = client.collection<BenchTodo>("todo")
            val entity = todos.create("todo-bench", todoA)
            record("Entity<Todo>.value (get, 131-byte record)", goalUs = 8.0, n = n) { k ->
                repeat(k) { if (entity.value!!.completed) sink++ }
            }
            record("Entity<Todo>.set (131-byte record, alternating values)", goalUs = 8.0, n = n) { k ->
                repeat(k) { entity.set(if (it and 1 == 0) todoB else todoA) }
            }
            record("Collection<Todo>[id] (get by id)", goalUs = 8.0, n = n) { k ->
                repeat(k) { if (todos["todo-bench"]!!.completed) sink++ }
            }
            var created = 0
            record("Collection<Todo>.create (memory store, new ids)", goalUs = 15.0, n = n) { k ->
                repeat(k) { todos.create("todo-${created++}", todoA) }
            }
        }

        // The generated layer's computed rows come last: their garbage (JNA memory whose
        // cleaner falls behind, see the issue) would otherwise slow the rows measured after them.
        val rawBase = FfiSignal("0")
        val rawDoubled = FfiComputed(
            object : ComputedFn {
                override fun compute(): String = (rawBase.get().toInt() * 2).toString()
            },
        )
        record("generated layer: Computed get (unchanged, JSON text)", n = n) { k -> repeat(k) { sink += rawDoubled.get().length } }
        record("generated layer: Signal set + Computed get (recompute, JSON text)", n = n) { k ->
            repeat(k) {
                rawBase.set(texts[it])
                sink += rawDoubled.get().length
            }
        }

        val lines = mutableListOf(
            "# Kotlin bindings: signal benchmarks",
            "",
            "`SignalBenchmark` (JUnit, tag `bench`; `MIZU_KOTLIN_BENCH=1 scripts/test-kotlin.sh`), n = $n per run, " +
                "median of 5 runs after 3 warm-up runs, ${System.getProperty("java.vm.name")} " +
                "${System.getProperty("java.version")}, ${System.getProperty("os.arch")}, " +
                "${Runtime.getRuntime().availableProcessors()} cores (load average before the run: $load), release build of the native " +
                "library, JNA ${Native.VERSION}.",
            "",
            "| operation | per op | goal (issue 14) |",
            "|---|---:|---|",
        )
        rows.forEach { row ->
            val us = row.ns / 1000
            if (us < 0) {
                lines += "| ${row.name} | n/a (negative: noise) | ${row.goalUs?.let { g -> "≤ ${"%.0f".format(g)} µs: unknown" } ?: ""} |"
            } else {
                val goal = row.goalUs?.let { g -> "≤ ${"%.0f".format(g)} µs: " + if (us <= g) "met" else "missed" } ?: ""
                lines += "| ${row.name} | ${(if (us < 1) "%.3f" else "%.2f").format(us)} µs | $goal |"
            }
        }
        val byName = rows.associate { it.name to it.ns }

        fun ratio(label: String, ours: String, peer: String) {
            val a = byName[ours]
            val b = byName[peer]
            if (a == null || b == null || a <= 0 || b <= 0) return
            lines += "- $label: " +
                if (a >= b) "${"%.1f".format(a / b)}×" else "${"%.3f".format(a / b)}× (${"%.0f".format(b / a)} times faster)"
        }
        lines += ""
        lines += "Ratios in this run (ours ÷ peer):"
        lines += ""
        ratio(
            "Signal<Int> set + get ÷ MutableStateFlow<Int> value set + get",
            "Signal<Int>: set + get",
            "MutableStateFlow<Int>: value set + get",
        )
        ratio("Signal<Int> set + get ÷ plain Kotlin set + get", "Signal<Int>: set + get", "plain Kotlin: set + get")
        ratio(
            "Signal<Int> set + listener call ÷ MutableStateFlow set + collector run",
            "Signal<Int>: set + listener call (value decoded)",
            "MutableStateFlow<Int>: set + collector run (onEach on Dispatchers.Unconfined)",
        )
        ratio(
            "Signal<Int> set + get ÷ the generated layer's Signal set + get",
            "Signal<Int>: set + get",
            "generated layer: Signal set + get (JSON text)",
        )
        ratio(
            "Computed<Int> get (unchanged) ÷ the generated layer's Computed get",
            "Computed<Int>: get (unchanged)",
            "generated layer: Computed get (unchanged, JSON text)",
        )
        ratio(
            "Signal set + Computed get (recompute) ÷ the same on the generated layer",
            "Signal set + Computed get (recompute)",
            "generated layer: Signal set + Computed get (recompute, JSON text)",
        )
        ratio(
            "direct call ÷ generated no-argument call",
            "direct call: mizu_hot_noop (JNA direct mapping)",
            "generated layer: Subscription.isCancelled (no arguments, a bool back)",
        )
        val finalLoad = runCatching { File("/proc/loadavg").readText().split(" ").take(3).joinToString(" ") }.getOrDefault("unknown")
        lines += ""
        lines += "Load average after the run: $finalLoad. Effects, listeners and the `MutableStateFlow` collector run on the"
        lines += "writing (JVM) thread, before the write returns (checked: one run per write). Server changes call back from"
        lines += "the client's engine thread, a native thread that JNA attaches to the JVM for each callback. The entity rows"
        lines += "use a client with a memory store that is never started (no network)."
        val text = lines.joinToString("\n") + "\n"
        println(text)
        System.getProperty("mizu.bench.out")?.let { File(it).writeText(text) }
        check(sink != 42L)
    }
}
