package dev.mizu.sync

import dev.mizu.sync.support.SlowCollector
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.Serializable
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertSame
import kotlin.test.assertTrue

class ReactiveTest {
    @Serializable
    data class Point(val x: Int, val y: Int)

    @Test
    fun `the seed's reactive example runs lazily, cuts off equal writes and batches`() {
        // examples/reactive.rs in Kotlin.
        val log = Collections.synchronizedList(mutableListOf<String>())
        val count = Signal(5)
        val price = Signal(10.0)
        val total = Computed {
            log += "computing"
            count.value * price.value
        }
        assertEquals(emptyList(), log, "a computed is lazy")

        val effect = Effect { log += "total = ${total.value}" }
        assertEquals(listOf("computing", "total = 50.0"), log)

        log.clear()
        count.value = 10
        assertEquals(listOf("computing", "total = 100.0"), log)

        log.clear()
        count.value = 10
        assertEquals(emptyList(), log, "an equal write notifies nobody")

        log.clear()
        batch {
            count.value = 2
            price.value = 2.5
        }
        assertEquals(listOf("computing", "total = 5.0"), log, "one run after the batch")

        log.clear()
        var effectThread: Thread? = null
        val tracker = Effect {
            price.value
            effectThread = Thread.currentThread()
        }
        val writer = thread { price.value = 4.0 }
        writer.join()
        assertEquals(listOf("computing", "total = 8.0"), log)
        assertSame(writer, effectThread, "effects run on the writing thread")

        effect.stop()
        tracker.close()
        log.clear()
        count.value = 3
        assertEquals(emptyList(), log, "a stopped effect never runs")
        assertEquals(12.0, total.value)
    }

    @Test
    fun `a signal goes from 0 to 5 to 6 and holds serializable classes`() {
        val count = Signal(0)
        count.value = 5
        count.update { it + 1 }
        assertEquals(6, count.value)

        val point = Signal(Point(1, 2))
        point.update { it.copy(y = 3) }
        assertEquals(Point(1, 3), point.value)
        assertEquals(Point(1, 3), point.peek())

        val list = Signal(listOf("a"))
        list.update { it + "b" }
        assertEquals(listOf("a", "b"), list.value)
    }

    @Test
    fun `untracked reads do not rerun an effect`() {
        val tracked = Signal(1)
        val ignored = Signal(1)
        var runs = 0
        val effect = Effect {
            tracked.value
            untracked { ignored.value }
            ignored.peek()
            runs++
        }
        ignored.value = 2
        assertEquals(1, runs)
        tracked.value = 2
        assertEquals(2, runs)
        assertEquals(42, untracked { 42 })
        effect.stop()
    }

    @Test
    fun `exceptions of update, batch, untracked and computed reach the caller with their cause`() {
        val signal = Signal(1)
        val boom = IllegalStateException("boom")
        assertSame(boom, assertThrows<IllegalStateException> { signal.update { throw boom } })
        assertEquals(1, signal.value, "a failed update leaves the value")
        assertSame(boom, assertThrows<IllegalStateException> { batch { throw boom } })
        assertSame(boom, assertThrows<IllegalStateException> { untracked<Int> { throw boom } })

        val fails = Computed<Int> { if (signal.value > 0) throw boom else 0 }
        val error = assertThrows<MizuSyncException.Callback> { fails.value }
        assertSame(boom, error.cause)
        assertTrue("boom" in error.reason)
        signal.value = 0
        assertEquals(0, fails.value, "the computed recovers when a dependency changes")
    }

    @Test
    fun `a signal's StateFlow follows writes from any thread`() = runBlocking {
        val signal = Signal(0)
        val flow = signal.asStateFlow()
        assertSame(flow, signal.asStateFlow(), "one StateFlow per signal")
        assertEquals(0, flow.value)
        val seen = async { withTimeout(WAIT_MS) { flow.first { it == 3 } } }
        thread { (1..3).forEach { signal.value = it } }.join()
        assertEquals(3, flow.value, "updated before the write returned")
        assertEquals(3, seen.await())

        val doubled = Computed { signal.value * 2 }
        val doubledFlow = doubled.asStateFlow()
        signal.value = 10
        assertEquals(20, doubledFlow.value)
        signal.close()
        assertEquals(10, flow.value, "a closed signal's StateFlow keeps its last value")
    }

    @Test
    fun `changes flows deliver the current value then each change`() = runBlocking {
        val signal = Signal("a")
        val subscribed = CompletableDeferred<Unit>()
        val collected = async {
            withTimeout(WAIT_MS) { signal.changes.onEach { subscribed.complete(Unit) }.take(3).toList() }
        }
        subscribed.await()
        signal.value = "b"
        signal.value = "c"
        assertEquals(listOf("a", "b", "c"), collected.await())
        signal.close()
    }

    @Test
    fun `a subscription stops its listener when cancelled`() {
        val signal = Signal(1)
        val seen = mutableListOf<Int>()
        val subscription = signal.subscribe { seen += it }
        signal.value = 2
        subscription.cancel()
        subscription.cancel()
        signal.value = 3
        assertEquals(listOf(1, 2), seen)
        assertTrue(subscription.isCancelled)
    }

    @Test
    fun `a throwing signal listener is reported as unhandled and keeps listening`() {
        val errors = Collections.synchronizedList(mutableListOf<MizuSyncException>())
        val unhandled = onUnhandledError { errors += it }
        val signal = Signal(0)
        val seen = mutableListOf<Int>()
        val subscription = signal.subscribe {
            seen += it
            if (it == 1) throw IllegalArgumentException("listener failed on 1")
        }
        signal.value = 1
        signal.value = 2
        assertEquals(listOf(0, 1, 2), seen)
        val error = errors.single()
        assertIs<MizuSyncException.Callback>(error)
        assertTrue("listener failed on 1" in error.reason, error.reason)
        subscription.cancel()
        unhandled.cancel()
    }

    @Test
    fun `closed handles throw Closed`() {
        val signal = Signal(1)
        val computed = Computed { signal.value + 1 }
        val effect = Effect { signal.value }
        signal.close()
        signal.close()
        computed.close()
        effect.close()
        assertTrue(signal.isClosed && computed.isClosed && effect.isStopped)
        assertEquals("signal", assertThrows<MizuSyncException.Closed> { signal.value }.what)
        assertThrows<MizuSyncException.Closed> { signal.value = 2 }
        assertThrows<MizuSyncException.Closed> { signal.subscribe { } }
        assertEquals("computed", assertThrows<MizuSyncException.Closed> { computed.value }.what)
        assertFalse(Signal(1).isClosed)
    }

    @Test
    fun `values that are not representable throw InvalidJson`() {
        assertThrows<MizuSyncException.InvalidJson> { Signal(Double.NaN) }
        val text = Signal("x")
        val asNumber = Computed { text.value.length }
        assertEquals(1, asNumber.value)
    }

    @Test
    fun `update from eight threads counts every increment, and dependents see the total`() {
        val counter = Signal(0)
        val effectSaw = AtomicInteger(-1)
        val effect = Effect { effectSaw.accumulateAndGet(counter.value, ::maxOf) }
        val listenerSaw = AtomicInteger(-1)
        val subscription = counter.subscribe { listenerSaw.accumulateAndGet(it, ::maxOf) }
        val runs = AtomicInteger()
        val start = CountDownLatch(1)
        val threads = List(8) {
            thread {
                start.await()
                repeat(500) {
                    counter.update {
                        runs.incrementAndGet()
                        it + 1
                    }
                }
            }
        }
        start.countDown()
        threads.forEach { it.join() }

        assertEquals(8 * 500, counter.value, "no increment was lost")
        assertEquals(8 * 500, effectSaw.get(), "the effect saw the total")
        assertEquals(8 * 500, listenerSaw.get(), "the listener saw the total")
        assertEquals(8 * 500, counter.asStateFlow().value)
        assertTrue(runs.get() >= 8 * 500, "the function ran at least once per update (${runs.get()} runs)")
        subscription.cancel()
        effect.stop()
    }

    @Test
    fun `a slow collector of a signal's changes gets the latest value, not a backlog`() = runBlocking {
        val signal = Signal(0)
        val total = 10_000
        val slow = SlowCollector(this, signal.changes, done = { it == total })
        try {
            slow.awaitFirst()
            for (i in 1..total) signal.value = i
            slow.release()
            slow.awaitDone("the collector saw $total")
        } finally {
            slow.release()
            slow.job.cancel()
        }
        assertTrue(slow.received.size <= 2, "a conflated flow held at most one value: got ${slow.received}")
        assertEquals(total, slow.received.last())
        signal.close()
    }

    @Test
    fun `a slow collector of unhandled errors keeps the newest EVENT_BUFFER`() = runBlocking {
        val signal = Signal(0)
        val failing = signal.subscribe { if (it > 0) throw IllegalStateException("failed on $it") }
        val total = 10_000
        val slow = SlowCollector(this, unhandledErrors, done = { "failed on $total" in it.message.orEmpty() })
        try {
            signal.value = 1 // the first error, which the collector blocks in
            slow.awaitFirst()
            for (i in 2..total) signal.value = i
            slow.release()
            slow.awaitDone("the collector saw the last error")
        } finally {
            slow.release()
            slow.job.cancel()
            failing.cancel()
        }
        val seen = slow.received.map { Regex("failed on (\\d+)").find(it.message.orEmpty())!!.groupValues[1].toInt() }
        assertTrue(seen.size <= EVENT_BUFFER + 1, "at most EVENT_BUFFER held (+ the one in flight): got ${seen.size}")
        assertEquals(((total - seen.size + 1)..total).toList(), seen, "the oldest were dropped, the newest kept in order")
        signal.close()
    }

    companion object {
        const val WAIT_MS = 20_000L
    }
}
