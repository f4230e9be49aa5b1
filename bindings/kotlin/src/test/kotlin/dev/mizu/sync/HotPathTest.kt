package dev.mizu.sync

import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.Todo
import dev.mizu.sync.support.waitUntil
import kotlinx.serialization.Serializable
import kotlinx.serialization.builtins.serializer
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.extension.ExtendWith
import java.lang.ref.WeakReference
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotSame
import kotlin.test.assertNull
import kotlin.test.assertSame
import kotlin.test.assertTrue
import dev.mizu.sync.ffi.Signal as FfiSignal

/**
 * The direct calls under the public API (issue 14): typed scalars and JSON values, the version
 * cache against writes made elsewhere, typed errors, callbacks on other threads, failing
 * callbacks, and handles given back when wrappers are closed or collected.
 */
@ExtendWith(SyncFixtures::class)
class HotPathTest {
    @Serializable
    data class Point(val x: Int, val y: Int)

    private fun <T> roundTrips(signal: Signal<T>, vararg values: T) {
        for (v in values) {
            signal.value = v
            assertEquals(v, signal.value, "read back after a write")
            assertEquals(v, signal.peek(), "peeked")
            assertEquals(v, signal.value, "read again (cached)")
        }
    }

    @Test
    fun `every scalar type and JSON values round-trip`() {
        roundTrips(Signal(0), 1, -1, Int.MAX_VALUE, Int.MIN_VALUE, 0)
        roundTrips(Signal(0L), Long.MAX_VALUE, Long.MIN_VALUE, 42L)
        roundTrips(Signal(0.0), 0.1, 5.0, -2.5, 1e300, 4.9e-324, Double.MAX_VALUE)
        roundTrips(Signal(false), true, false, true)
        roundTrips(Signal(""), "a", "", "é ✓ 😀", "quote \" backslash \\ newline \n tab \t", "\u0000nul", "x".repeat(10_000))
        roundTrips(Signal<Int?>(null), 3, null, -7)
        roundTrips(Signal<String?>("s"), null, "t")
        roundTrips(Signal<Boolean?>(null), true, null)
        roundTrips(Signal<Double?>(1.5), null, 2.0)
        roundTrips(Signal<Long?>(null), 1L shl 40, null)
        roundTrips(Signal(Point(1, 2)), Point(3, 4), Point(-1, 0))
        roundTrips(Signal(listOf("a")), listOf(), listOf("b", "c"))
        roundTrips(Signal(mapOf("k" to 1)), mapOf("z" to 2, "a" to 3), mapOf())
        roundTrips<Point?>(Signal<Point?>(null), Point(0, 0), null)
        roundTrips<JsonElement>(
            Signal<JsonElement>(JsonPrimitive(1)),
            JsonPrimitive("s"),
            JsonPrimitive(2.5),
            JsonPrimitive(true),
            buildJsonObject { put("a", 1) },
            JsonObject(emptyMap()),
        )
    }

    @Test
    fun `the cache sees writes made through the generated layer, other threads and effects`() {
        // Two wrappers over one native signal: one writes through the generated layer, as the
        // Rust side and the other bindings do; the other must never serve a stale cached value.
        val raw = FfiSignal("1")
        val ints = Signal(raw, ValueCodec(Int.serializer(), MizuJson))
        val doubles = Signal(raw, ValueCodec(Double.serializer(), MizuJson))
        assertEquals(1, ints.value)
        raw.set("2")
        assertEquals(2, ints.value)
        assertEquals(2.0, doubles.value, "an integer read as a Double")
        ints.value = 3
        assertEquals(3.0, doubles.peek())
        doubles.value = 2.5
        assertEquals(2.5, doubles.value)
        assertEquals("2.5", raw.get())
        assertEquals("invalid JSON", assertThrows<MizuSyncException.InvalidJson> { ints.value }.message!!.substringBefore(':'))
        raw.set("6")
        ints.update { it + 1 } // generated layer
        assertEquals(7, ints.value)

        // Another thread.
        val signal = Signal("a")
        assertEquals("a", signal.value)
        thread { signal.value = "b" }.join()
        assertEquals("b", signal.value)
        assertEquals("b", signal.peek())

        // A write inside an effect, and an equal write (which keeps the version) after it.
        val source = Signal(0)
        val doubled = Signal(0)
        val effect = Effect { doubled.value = source.value * 2 }
        assertEquals(0, doubled.value)
        source.value = 21
        assertEquals(42, doubled.value)
        doubled.value = 42
        assertEquals(42, doubled.value)
        source.value = 1
        assertEquals(2, doubled.value)
        effect.stop()
    }

    @Test
    fun `errors are typed as in the generated layer`() {
        val signal = Signal(1)
        signal.close()
        assertEquals("signal", assertThrows<MizuSyncException.Closed> { signal.value }.what)
        assertEquals("signal", assertThrows<MizuSyncException.Closed> { signal.peek() }.what)
        assertEquals("signal", assertThrows<MizuSyncException.Closed> { signal.value = 2 }.what)
        assertEquals("signal", assertThrows<MizuSyncException.Closed> { signal.subscribe { } }.what)
        assertEquals("signal", assertThrows<MizuSyncException.Closed> { signal.asStateFlow() }.what)

        val number = Signal(1.0)
        assertThrows<MizuSyncException.InvalidJson> { number.value = Double.NaN }
        assertThrows<MizuSyncException.InvalidJson> { number.value = Double.POSITIVE_INFINITY }
        assertEquals(1.0, number.value, "a refused write leaves the value")

        val raw = FfiSignal("1099511627776") // 2^40: not an Int
        assertThrows<MizuSyncException.InvalidJson> { Signal(raw, ValueCodec(Int.serializer(), MizuJson)).value }
        raw.set("\"text\"")
        assertThrows<MizuSyncException.InvalidJson> { Signal(raw, ValueCodec(Int.serializer(), MizuJson)).value }
        raw.set("null")
        assertThrows<MizuSyncException.InvalidJson> { Signal(raw, ValueCodec(String.serializer(), MizuJson)).peek() }
    }

    @Test
    fun `a computed reads directly scalars and JSON, unchanged reads, and recomputes after changes made anywhere`() {
        val number = Signal(1)
        val runs = AtomicInteger()
        val doubled = Computed {
            runs.incrementAndGet()
            number.value * 2
        }
        assertEquals(0, runs.get(), "nothing computed before the first read")
        assertEquals(2, doubled.value)
        assertEquals(2, doubled.peek())
        assertEquals(2, doubled.value, "read again (cached)")
        assertEquals(1, runs.get(), "reads of an unchanged computed do not compute again")
        number.value = 5
        assertEquals(10, doubled.peek())
        assertEquals(10, doubled.value)
        assertEquals(2, runs.get())

        // A write on another thread; then a recompute on another thread, read here after it.
        thread { number.value = 7 }.join()
        assertEquals(14, doubled.value)
        number.value = 8
        val readThere = AtomicInteger()
        thread { readThere.set(doubled.value) }.join()
        assertEquals(16, readThere.get())
        assertEquals(16, doubled.value, "this thread's cached 14 is not served")
        assertEquals(4, runs.get())

        // Each scalar type, nullable ones, and JSON values (objects, lists, a JsonObject).
        val text = Signal("a")
        val shout = Computed { text.value.uppercase() + "!" }
        assertEquals("A!", shout.value)
        text.value = "é ✓ 😀 \" \u0000"
        assertEquals("É ✓ 😀 \" \u0000!", shout.value)
        assertEquals("É ✓ 😀 \" \u0000!", shout.peek())
        assertEquals(8L shl 40, Computed { number.value.toLong() shl 40 }.value)
        assertEquals(4.0, Computed { number.value / 2.0 }.value)
        assertEquals(true, Computed { number.value > 0 }.peek())
        val maybe = Computed<String?> { if (number.value > 10) "big" else null }
        assertNull(maybe.value)
        number.value = 11
        assertEquals("big", maybe.value)
        val point = Computed { Point(number.value, -number.value) }
        assertEquals(Point(11, -11), point.value)
        assertEquals(Point(11, -11), point.value, "an unchanged JSON value read again")
        thread { number.value = 3 }.join()
        assertEquals(Point(3, -3), point.peek())
        val obj = Computed<JsonElement> { buildJsonObject { put("n", number.value); put("s", text.value) } }
        assertEquals(buildJsonObject { put("n", 3); put("s", "é ✓ 😀 \" \u0000") }, obj.value)
        assertEquals(listOf(3, 3), Computed { List(2) { number.value } }.value)
    }

    @Test
    fun `a computed read directly inside an effect or another computed is a dependency, a peeked one is not`() {
        val source = Signal(1)
        val squared = Computed { source.value * source.value }
        val plusOne = Computed { squared.value + 1 }
        val seen = Collections.synchronizedList(mutableListOf<Int>())
        val peeked = Collections.synchronizedList(mutableListOf<Int>())
        val effect = Effect { seen += plusOne.value }
        val peeking = Effect { peeked += squared.peek() }
        source.value = 2
        thread { source.value = 3 }.join()
        source.value = -3 // squared stays 9: nothing downstream runs
        assertEquals(listOf(2, 5, 10), seen)
        assertEquals(listOf(1), peeked, "a peek inside an effect does not make it a dependency")
        assertEquals(9, squared.peek())
        effect.stop()
        peeking.stop()
    }

    @Test
    fun `a computed's failure is rethrown as before, the app's exception its cause`() {
        val signal = Signal(0)
        val boom = IllegalStateException("boom")
        val fails = Computed { if (signal.value > 0) throw boom else signal.value }
        assertEquals(0, fails.value, "cached, with its version")
        signal.value = 1
        val error = assertThrows<MizuSyncException.Callback> { fails.value }
        assertSame(boom, error.cause)
        assertTrue("IllegalStateException: boom" in error.reason, error.reason)
        assertSame(boom, assertThrows<MizuSyncException.Callback> { fails.peek() }.cause, "kept until a dependency changes")
        thread { signal.value = -4 }.join()
        assertEquals(-4, fails.value, "recovers when a dependency changes")

        // A library exception keeps its kind, as through the generated layer.
        val missing = Computed<String> { throw MizuSyncException.NotFound("thing ${signal.value}") }
        assertEquals("thing -4", assertThrows<MizuSyncException.NotFound> { missing.value }.what)
    }

    @Test
    fun `a closed computed throws Closed on direct reads, cached value or not`() {
        val signal = Signal(1)
        val computed = Computed { signal.value + 1 }
        assertEquals(2, computed.value)
        computed.close()
        assertTrue(computed.isClosed)
        assertEquals("computed", assertThrows<MizuSyncException.Closed> { computed.value }.what)
        assertEquals("computed", assertThrows<MizuSyncException.Closed> { computed.peek() }.what)
        computed.close()
        val never = Computed { signal.value }
        never.close()
        assertEquals("computed", assertThrows<MizuSyncException.Closed> { never.value }.what)
        assertEquals(1, signal.value, "its signal is still open")
    }

    @Test
    fun `computeds nest, a computed reading computeds, each recomputed once per change, on any thread`() {
        val base = Signal(2)
        val label = Signal("n")
        val runs = AtomicInteger()
        val squared = Computed { runs.incrementAndGet(); base.value * base.value }
        val plusOne = Computed { squared.value + 1 }
        val text = Computed { "${label.value}=${plusOne.value}" }
        // A diamond: both branches read `squared`, itself computed once per change.
        val both = Computed { listOf(plusOne.value, squared.value, text.value.length) }
        assertEquals(listOf(5, 4, 3), both.value)
        assertEquals("n=5", text.value)
        assertEquals(1, runs.get())
        base.value = 3
        assertEquals("n=10", text.peek())
        assertEquals(listOf(10, 9, 4), both.value)
        assertEquals(2, runs.get(), "recomputed once for both branches")
        val there = AtomicReference<String>()
        thread { base.value = 4; there.set(text.value) }.join()
        assertEquals("n=17", there.get())
        label.value = "m"
        assertEquals("m=17", text.value)
        assertEquals(3, runs.get(), "a change of `label` alone does not recompute `squared`")

        // An inner computed failing: the outer one fails with what its function threw (the inner
        // read's Callback, whose cause is the app's exception), as through the generated layer.
        val boom = IllegalStateException("inner boom")
        val inner = Computed { if (base.value > 10) throw boom else base.value }
        val outer = Computed { inner.value * 10 }
        assertEquals(40, outer.value)
        base.value = 11
        val error = assertThrows<MizuSyncException.Callback> { outer.value }
        assertSame(boom, assertIs<MizuSyncException.Callback>(error.cause).cause)
        assertTrue("inner boom" in error.reason, error.reason)
        base.value = 1
        assertEquals(10, outer.value)
    }

    @Test
    fun `a computed's listener runs on the writing thread, and close cancels its listeners`() {
        val signal = Signal(1)
        val computed = Computed { signal.value * 10 }
        val seen = Collections.synchronizedList(mutableListOf<Pair<Int, String>>())
        val subscription = computed.subscribe { seen += it to Thread.currentThread().name }
        val flow = computed.asStateFlow()
        assertEquals(10, flow.value)
        thread(name = "writer") { signal.value = 2 }.join()
        signal.value = 1 // back to 10: a change, the listener runs on this thread
        val here = Thread.currentThread().name
        assertEquals(listOf(10 to here, 20 to "writer", 10 to here), seen.toList())
        assertEquals(10, flow.value)

        computed.close()
        assertTrue(computed.isClosed)
        assertTrue(subscription.isCancelled, "closing cancels the computed's subscriptions")
        thread { signal.value = 3 }.join()
        signal.value = 4
        assertEquals(3, seen.size, "no listener runs after close")
        assertEquals(10, flow.value, "the StateFlow keeps its last value")
        assertEquals("computed", assertThrows<MizuSyncException.Closed> { computed.subscribe { } }.what)
        subscription.cancel()
        assertEquals(4, signal.value)
    }

    @Test
    fun `a computed giving NaN or an infinity fails with InvalidJson, as before, and recovers`() {
        val signal = Signal(0.0)
        val ratio = Computed { 1.0 / signal.value }
        assertThrows<MizuSyncException.InvalidJson> { ratio.value }
        val nan = Computed { signal.value / signal.value }
        assertThrows<MizuSyncException.InvalidJson> { nan.peek() }
        val inJson = Computed { listOf(signal.value / signal.value) }
        assertThrows<MizuSyncException.InvalidJson> { inJson.value }
        val nullable = Computed<Double?> { if (signal.value > 5) null else Double.NaN }
        assertThrows<MizuSyncException.InvalidJson> { nullable.value }
        signal.value = 8.0
        assertEquals(0.125, ratio.value)
        assertEquals(1.0, nan.value)
        assertEquals(listOf(1.0), inJson.value)
        assertNull(nullable.value)
    }

    /** A computed whose function holds the returned object, read once and dropped. */
    private fun droppedComputed(): WeakReference<Any> {
        val captured = Any()
        val source = Signal(1)
        val computed = Computed { source.value + captured.hashCode() }
        computed.value
        return WeakReference(captured)
    }

    @Test
    fun `computeds give back their handles and functions when collected`() {
        val handles = Hot.liveHandles.get()
        repeat(2_000) { i ->
            val signal = Signal(i)
            val computed = Computed { signal.value + 1 }
            assertEquals(i + 1, computed.value)
            val effect = Effect { computed.value }
            signal.value = i + 1
            assertEquals(i + 2, computed.peek())
            if (i % 2 == 0) {
                effect.stop()
                computed.close()
            }
        }
        // The native computed must not keep its wrapper reachable (through its function): else
        // neither would ever be collected.
        val function = droppedComputed()
        waitUntil("the cleaners ran") {
            System.gc()
            Hot.liveHandles.get() <= handles && function.get() == null
        }
    }

    @Test
    fun `entities read and write by id, with the errors of the generated layer`(server: ReferenceServer, clients: Clients) {
        val client = clients.open(server, start = false)
        val todos = client.collection<Todo>("todo")
        val milk = todos.create("milk", Todo("milk"))
        assertEquals("milk", milk.id)
        assertEquals("todo", milk.collection)
        assertEquals(Todo("milk"), milk.value)
        assertEquals(Todo("milk"), todos["milk"])
        milk.set(Todo("milk", completed = true))
        assertEquals(Todo("milk", completed = true), todos["milk"])
        todos["bread"] = Todo("bread")
        assertEquals(Todo("bread"), todos.entity("bread").value)
        assertNull(todos["missing"])
        assertNull(todos.entity("missing").value)
        assertTrue(milk.exists)
        todos["é ✓"] = Todo("unicode id")
        assertEquals(listOf("bread", "milk", "é ✓"), todos.ids())

        assertThrows<MizuSyncException.InvalidArgument> { todos.create("milk", Todo("again")) }
        assertThrows<MizuSyncException.InvalidArgument> { todos.create("", Todo("no id")) }
        assertThrows<MizuSyncException.InvalidArgument> { todos[""] = Todo("no id") }
        client.collection<JsonElement>("todo")["number"] = JsonPrimitive(42)
        assertThrows<MizuSyncException.InvalidJson> { todos["number"] }

        // An effect reading an entity by id re-runs on its writes, from either path.
        val seen = Collections.synchronizedList(mutableListOf<String?>())
        val effect = Effect { seen += todos["bread"]?.title }
        todos.entity("bread").set(Todo("rye bread"))
        todos.update("bread", Todo("white bread")) // generated layer
        assertEquals(listOf("bread", "rye bread", "white bread"), seen)
        effect.stop()

        // Closing the collection closes its direct calls, not its entities.
        milk.delete()
        assertNull(milk.value)
        todos.close()
        assertEquals("collection", assertThrows<MizuSyncException.Closed> { todos["bread"] }.what)
        assertEquals("collection", assertThrows<MizuSyncException.Closed> { todos["bread"] = Todo("x") }.what)
        assertEquals("collection", assertThrows<MizuSyncException.Closed> { todos.create("new", Todo("x")) }.what)
        val bread = client.collection<Todo>("todo").entity("bread")
        assertEquals(Todo("white bread"), bread.value)
        milk.set(Todo("milk again"))
        assertEquals(Todo("milk again"), milk.value)
        milk.close()
        assertEquals("entity", assertThrows<MizuSyncException.Closed> { milk.value }.what)
        assertEquals("entity", assertThrows<MizuSyncException.Closed> { milk.set(Todo("x")) }.what)
        assertEquals("entity", assertThrows<MizuSyncException.Closed> { milk.exists }.what)
        assertEquals("entity", assertThrows<MizuSyncException.Closed> { milk.subscribe { } }.what)
        assertEquals(Todo("white bread"), bread.value, "another handle of the same entity is still open")
    }

    @Test
    fun `effects and listeners run on the writing thread, a native one included`(server: ReferenceServer, clients: Clients) {
        val signal = Signal(0)
        val effectThread = AtomicReference<Thread>()
        val listenerThread = AtomicReference<Thread>()
        val effect = Effect { if (signal.value > 0) effectThread.set(Thread.currentThread()) }
        val subscription = signal.subscribe { if (it > 0) listenerThread.set(Thread.currentThread()) }
        val writer = thread { signal.value = 1 }
        writer.join()
        assertSame(writer, effectThread.get())
        assertSame(writer, listenerThread.get())
        effect.stop()
        subscription.cancel()

        // A server change arrives on the client's engine thread (a native thread): the effect
        // reading the entity by id runs there, and so does the listener of the signal it writes.
        val reader = clients.open(server)
        val writerClient = clients.open(server)
        val todos = reader.collection<Todo>("todo")
        val mirror = Signal<String?>(null)
        val arrived = CountDownLatch(2)
        val effectRanOn = AtomicReference<Thread>()
        val listenerRanOn = AtomicReference<Thread>()
        val remote = Effect {
            val title = todos["remote"]?.title
            mirror.value = title
            if (title != null) {
                effectRanOn.set(Thread.currentThread())
                arrived.countDown()
            }
        }
        val mirrored = mirror.subscribe { title ->
            if (title != null) {
                listenerRanOn.set(Thread.currentThread())
                arrived.countDown()
            }
        }
        writerClient.collection<Todo>("todo").create("remote", Todo("from the other client"))
        assertTrue(arrived.await(20, TimeUnit.SECONDS), "the effect and the listener saw the pulled entity")
        // (JNA attaches the native thread for each callback, so its Thread object differs
        // between runs: only "not this thread" can be checked.)
        assertNotSame(Thread.currentThread(), effectRanOn.get())
        assertNotSame(Thread.currentThread(), listenerRanOn.get())
        assertEquals("from the other client", mirror.value)
        remote.stop()
        mirrored.cancel()
    }

    @Test
    fun `a library exception thrown by an effect or listener keeps its kind`() {
        val errors = Collections.synchronizedList(mutableListOf<MizuSyncException>())
        val unhandled = onUnhandledError { errors += it }
        val signal = Signal(0)
        val effect = Effect { if (signal.value == 1) throw MizuSyncException.NotFound("direct-effect") }
        val subscription = signal.subscribe { if (it == 2) throw MizuSyncException.InvalidArgument("direct-listener") }
        signal.value = 1
        signal.value = 2
        assertEquals(2, errors.size, "$errors")
        assertEquals("direct-effect", assertIs<MizuSyncException.NotFound>(errors[0]).what)
        assertEquals("direct-listener", assertIs<MizuSyncException.InvalidArgument>(errors[1]).reason)
        effect.close()
        subscription.cancel()
        unhandled.cancel()
    }

    @Test
    fun `a failing effect or listener is reported and the next writes still work`() {
        val errors = Collections.synchronizedList(mutableListOf<MizuSyncException>())
        val unhandled = onUnhandledError { errors += it }
        val signal = Signal(0)
        val effect = Effect { if (signal.value == 1) throw IllegalStateException("effect failed on 1") }
        val subscription = signal.subscribe { if (it == 2) error("listener failed on 2") }
        signal.value = 1
        thread { signal.value = 2 }.join()
        signal.value = 3
        assertEquals(3, signal.value)
        assertEquals(2, errors.size, "$errors")
        errors.forEach { assertIs<MizuSyncException.Callback>(it) }
        assertTrue("IllegalStateException: effect failed on 1" in errors[0].message!!, errors[0].message)
        assertTrue("listener failed on 2" in errors[1].message!!, errors[1].message)
        assertTrue(!effect.isStopped)
        effect.close()
        assertTrue(effect.isStopped)
        subscription.close()
        assertTrue(subscription.isCancelled)
        unhandled.cancel()
    }

    @Test
    fun `a subscription reports being cancelled when its signal is closed`() {
        val signal = Signal(0)
        val seen = mutableListOf<Int>()
        val subscription = signal.subscribe { seen += it }
        signal.value = 1
        signal.close()
        assertTrue(subscription.isCancelled)
        assertEquals(listOf(0, 1), seen)
    }

    @Test
    fun `handles are given back when wrappers are closed or collected`(server: ReferenceServer, clients: Clients) {
        val client = clients.open(server, start = false)
        val todos = client.collection<Todo>("todo")
        val baseline = HotCallbacks.registered
        val handles = Hot.liveHandles.get()
        val keep = Signal(0)
        repeat(2_000) { i ->
            val signal = Signal(i)
            signal.value = i + 1
            val sub = signal.subscribe { }
            val effect = Effect { signal.value }
            if (i % 3 == 0) assertEquals(i + 1, signal.asStateFlow().value)
            signal.value = i + 2
            if (i % 2 == 0) {
                sub.cancel()
                effect.stop()
                signal.close()
            }
            todos.entity("e${i % 10}").set(Todo("t$i"))
            keep.value = i
        }
        // Dropped wrappers give back their hot handles once collected (their cleaners run), and
        // dropped effects and subscriptions unregister their Kotlin functions.
        waitUntil("the cleaners ran") {
            System.gc()
            HotCallbacks.registered <= baseline && Hot.liveHandles.get() <= handles + 1 // `keep`
        }
        assertEquals(1999, keep.value)
        assertEquals(Todo("t1999"), todos["e9"])
    }

    @Test
    fun `wrappers used once and dropped survive collections running during their calls`(server: ReferenceServer, clients: Clients) {
        val todos = clients.open(server, start = false).collection<Todo>("todo")
        todos["x"] = Todo("x")
        val done = AtomicBoolean()
        val collector = thread {
            while (!done.get()) System.gc()
        }
        try {
            repeat(3_000) { i ->
                // Nothing refers to these wrappers once their last call started: only the
                // reachability kept after each direct call keeps their handles from being
                // given back by the cleaner during the call.
                Signal(i).let { it.value = i + 1; assertEquals(i + 1, it.value) }
                assertEquals("x", todos.entity("x").value?.title)
                Effect { }.stop()
                Computed { i }.let { assertEquals(i, it.value) }
            }
        } finally {
            done.set(true)
            collector.join()
        }
    }
}
