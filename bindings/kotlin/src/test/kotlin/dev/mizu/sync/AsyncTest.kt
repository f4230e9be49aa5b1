package dev.mizu.sync

import dev.mizu.sync.support.AuthGate
import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.HangingServer
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.Todo
import dev.mizu.sync.support.WAIT
import dev.mizu.sync.support.tempDir
import dev.mizu.sync.support.waitUntil
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlin.coroutines.CoroutineContext
import kotlin.test.assertEquals
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

/**
 * The awaited surface (suspend sync, flush and writes, their cancellation), the delivery
 * dispatcher, the suspending token provider and the state holders, against the reference
 * server and real SQLite files.
 */
@ExtendWith(SyncFixtures::class)
class AsyncTest {
    @Test
    fun `an awaited sync and flush complete, as do their blocking forms`(server: ReferenceServer, clients: Clients) = runBlocking {
        val client = clients.open(server, storagePath = tempDir("await").resolve("c.db").toString())
        val todos = client.collection<Todo>("todo")
        todos.createAsync("milk", Todo("Buy milk"))
        client.flush()
        assertEquals(0, client.pendingCount)
        client.sync()
        val id = client.mutateAsync("note.create", ClientTest.NoteArgs("n1", Todo("awaited")))
        assertTrue(id.startsWith(client.clientId), id)
        client.flushBlocking()
        client.syncBlocking()
        assertEquals(Todo("awaited"), client.collection<Todo>("note")["n1"])

        val other = clients.open(server)
        other.sync()
        assertEquals(Todo("Buy milk"), other.collection<Todo>("todo")["milk"])
        other.closeAsync()
        assertTrue(other.isClosed)
    }

    @Test
    fun `cancelling an awaited sync or flush against a server that hangs returns at once`(clients: Clients) = runBlocking {
        val hanging = HangingServer()
        val options = clients.options(hanging.baseUrl).copy(requestTimeout = 20.seconds)
        val client = clients.track(Client(options))
        try {
            client.start()
            client.collection<Todo>("todo").create("pending", Todo("never pushed"))
            val sync = launch(Dispatchers.Default) { client.sync() }
            val flush = launch(Dispatchers.Default) { client.flush(30.seconds) }
            hanging.awaitConnection() // a request is in flight and will not be answered for 20 s

            val syncCancelled = measure { sync.cancelAndJoin() }
            val flushCancelled = measure { flush.cancelAndJoin() }
            println("AsyncTest: cancelling sync took $syncCancelled, flush $flushCancelled (request timeout 20 s)")
            assertTrue(syncCancelled < 2.seconds, "cancelling sync took $syncCancelled")
            assertTrue(flushCancelled < 2.seconds, "cancelling flush took $flushCancelled")
            assertTrue(sync.isCancelled && flush.isCancelled)
        } finally {
            hanging.close() // the engine's request fails now, so closing the client does not wait for it
            client.close()
        }
    }

    @Test
    fun `awaited writes from a single-threaded UI dispatcher leave it free and commit elsewhere, durably`(
        server: ReferenceServer,
        clients: Clients,
    ) {
        val path = tempDir("ui").resolve("ui.db").toString()
        val client = clients.track(Client(clients.options(server, path)))
        val todos = client.collection<Todo>("todo")
        val writers = CopyOnWriteArrayList<Thread>()
        // Without a delivery dispatcher, an awaited write's listeners run on the thread that committed it.
        val listening = todos.subscribe { change ->
            if (change.changed.keys.any { it.startsWith("async") }) writers += Thread.currentThread()
        }
        val writes = 300
        val ui = Executors.newSingleThreadExecutor { Thread(it, "ui") }
        val uiThread = ui.submit<Thread> { Thread.currentThread() }.get()
        try {
            runBlocking(ui.asCoroutineDispatcher()) {
                val ticks = AtomicInteger()
                val ticker = launch {
                    while (isActive) {
                        ticks.incrementAndGet()
                        yield()
                    }
                }
                yield()

                // Control: blocking writes hold the thread, so the ticker cannot tick meanwhile.
                val beforeBlocking = ticks.get()
                val blockingTook = measure { repeat(writes) { todos["blocking$it"] = Todo("blocking $it") } }
                val ticksDuringBlocking = ticks.get() - beforeBlocking

                val beforeAwaited = ticks.get()
                val awaitedTook = measure {
                    repeat(writes) {
                        todos.setAsync("async$it", Todo("awaited $it"))
                        assertEquals(Todo("awaited $it"), todos["async$it"], "visible once awaited")
                    }
                }
                val ticksDuringAwaited = ticks.get() - beforeAwaited
                ticker.cancel()
                println(
                    "AsyncTest: $writes blocking writes took $blockingTook with $ticksDuringBlocking ticks on the UI thread; " +
                        "$writes awaited writes took $awaitedTook with $ticksDuringAwaited ticks",
                )
                assertEquals(0, ticksDuringBlocking, "the control: a blocking write holds the UI thread")
                assertTrue(
                    ticksDuringAwaited >= writes / 2,
                    "the UI thread ticked only $ticksDuringAwaited times during $writes awaited writes",
                )
            }
        } finally {
            ui.shutdown()
        }
        listening.cancel()
        assertTrue(writers.isNotEmpty())
        assertTrue(uiThread !in writers, "the awaited writes committed on ${writers.toSet()}, never on the UI thread")

        client.close()
        Client(clients.options(server, path)).use { reopened ->
            val again = reopened.collection<Todo>("todo")
            assertEquals(2 * writes, again.count(), "every write is in the SQLite file")
            assertEquals(Todo("awaited ${writes - 1}"), again["async${writes - 1}"])
        }
    }

    @Test
    fun `listeners for server changes run on the delivery dispatcher`(server: ReferenceServer, clients: Clients) = runBlocking {
        val delivery = Executors.newSingleThreadExecutor { Thread(it, "delivery") }
        try {
            val reader = clients.track(Client(clients.options(server), delivery = delivery.asCoroutineDispatcher()))
            val todos = reader.collection<Todo>("todo")
            val milk = todos.entity("milk")
            val open = todos.query { where { "completed" eq false } }
            val deliveryThread = delivery.submit<Thread> { Thread.currentThread() }.get()
            val seen = ConcurrentLinkedQueue<Pair<String, Thread>>()
            fun saw(what: String) = seen.add(what to Thread.currentThread())
            val entity = milk.subscribe { if (it != null) saw("entity") }
            val collection = todos.subscribe { if ("milk" in it.changed) saw("collection") }
            val query = open.subscribe { if (it is QueryEvent.Diff) saw("query") }
            val effect = Effect { if (milk.value != null) saw("effect") }
            val syncs = reader.onSync { saw("onSync") }
            reader.start()

            val writer = clients.open(server)
            writer.collection<Todo>("todo").createAsync("milk", Todo("Buy milk"))
            writer.flush()
            val expected = setOf("entity", "collection", "query", "effect", "onSync")
            waitUntil("every listener heard of the server's change") { seen.map { it.first }.toSet() == expected }
            assertEquals(setOf(deliveryThread), seen.map { it.second }.toSet(), "threads: $seen")
            listOf(entity, collection, query, syncs).forEach { it.cancel() }
            effect.stop()
        } finally {
            delivery.shutdown()
        }
    }

    @Test
    fun `deliveries wait until the delivery dispatcher runs them`(server: ReferenceServer, clients: Clients) = runBlocking {
        val gate = GateDispatcher()
        val reader = clients.track(Client(clients.options(server), delivery = gate))
        val todos = reader.collection<Todo>("todo")
        val heard = CopyOnWriteArrayList<Pair<Todo?, Thread>>()
        val entity = todos.entity("milk").subscribe { heard += it to Thread.currentThread() }
        reader.start()
        assertEquals(listOf<Todo?>(null), heard.map { it.first }, "the value now, on the subscribing thread")

        clients.open(server).collection<Todo>("todo").create("milk", Todo("Buy milk"))
        // The pulled change is in the store, and its delivery waits for the dispatcher.
        waitUntil("the change is pulled and a dispatch is waiting") { todos["milk"] != null && gate.waiting() }
        assertEquals(1, heard.size, "no listener ran before the dispatcher did")

        var ran = reader.dispatchPending() // here: this thread is the delivery context now
        waitUntil("the entity listener heard of the change") {
            ran += gate.runAll() + reader.dispatchPending()
            heard.size == 2
        }
        assertTrue(ran > 0)
        assertEquals(Todo("Buy milk") to Thread.currentThread(), heard.last())
        entity.cancel()
    }

    @Test
    fun `status and query results are StateFlows that update on the delivery dispatcher`(
        server: ReferenceServer,
        clients: Clients,
    ) = runBlocking {
        val delivery = Executors.newSingleThreadExecutor { Thread(it, "delivery") }
        try {
            val reader = clients.track(Client(clients.options(server), delivery = delivery.asCoroutineDispatcher()))
            val open = reader.collection<Todo>("todo").query { where { "completed" eq false } }
            val rows = open.asStateFlow()
            assertEquals(emptyList(), rows.value)
            val deliveryThread = delivery.submit<Thread> { Thread.currentThread() }.get()
            val statuses = CopyOnWriteArrayList<Pair<SyncStatus, Thread>>()
            val subscription = reader.subscribeStatus { statuses += it to Thread.currentThread() }
            assertEquals(1, statuses.size, "the status now, first")
            reader.start()
            withTimeout(WAIT) { reader.status.first { it.online && it.cursor != null } }

            clients.open(server).collection<Todo>("todo").create("milk", Todo("Buy milk"))
            val seen = withTimeout(WAIT) { rows.first { it.isNotEmpty() } }
            assertEquals(listOf(Row("milk", Todo("Buy milk"))), seen)
            assertEquals(open.get(), rows.value)
            assertEquals(setOf(deliveryThread), statuses.drop(1).map { it.second }.toSet(), "status changes on the delivery thread")
            subscription.cancel()
        } finally {
            delivery.shutdown()
        }
    }

    @Test
    fun `a suspending token provider is awaited and refreshed after a 401`(server: ReferenceServer, clients: Clients) = runBlocking {
        AuthGate(server, valid = "fresh").use { gate ->
            val refreshes = AtomicInteger()
            val provider = TokenProvider { refresh ->
                delay(20) // e.g. a call to the auth server
                if (refresh) {
                    withContext(Dispatchers.Default) { refreshes.incrementAndGet() }
                    "fresh"
                } else if (refreshes.get() > 0) "fresh" else "expired"
            }
            syncsThroughTheGate(gate, clients, provider)
            assertTrue(refreshes.get() >= 1, "refreshed ${refreshes.get()} times")
        }
    }

    @Test
    fun `a plain token provider still works and is refreshed after a 401`(server: ReferenceServer, clients: Clients) = runBlocking {
        AuthGate(server, valid = "fresh").use { gate ->
            val refreshed = AtomicBoolean()
            syncsThroughTheGate(gate, clients) { refresh ->
                if (refresh) refreshed.set(true)
                if (refreshed.get()) "fresh" else "expired"
            }
            assertTrue(refreshed.get())
        }
    }

    @Test
    fun `a token provider that hangs fails its request, not syncing`(server: ReferenceServer, clients: Clients) = runBlocking {
        AuthGate(server, valid = "fresh").use { gate ->
            val calls = AtomicInteger()
            val cancelled = AtomicBoolean()
            val provider = TokenProvider {
                if (calls.getAndIncrement() == 0) {
                    try {
                        awaitCancellation()
                    } finally {
                        cancelled.set(true)
                    }
                }
                "fresh"
            }
            val options = clients.options(gate.baseUrl).copy(requestTimeout = 1.seconds)
            val client = clients.track(Client(options, tokenProvider = provider))
            client.start()
            client.collection<Todo>("todo").createAsync("milk", Todo("Buy milk"))
            client.flush(WAIT)
            assertEquals(0, client.pendingCount)
            waitUntil("the hanging call is cancelled (after the request timeout)") { cancelled.get() }
        }
    }

    /** Writes and flushes through [gate] with [provider]; the first token is refused with a 401. */
    private suspend fun syncsThroughTheGate(gate: AuthGate, clients: Clients, provider: TokenProvider) {
        val client = clients.track(Client(clients.options(gate.baseUrl), tokenProvider = provider))
        client.start()
        client.collection<Todo>("todo").createAsync("milk", Todo("Buy milk"))
        client.flush(WAIT)
        client.sync()
        assertEquals(0, client.pendingCount)
        assertTrue("Bearer expired" in gate.seen, "the first token was sent: ${gate.seen.toSet()}")
        assertEquals("Bearer fresh", gate.seen.last(), "the refreshed token is sent after the 401")
        assertNotEquals(0L, client.cursor)
    }
}

/** How long [block] took. */
private inline fun measure(block: () -> Unit): kotlin.time.Duration {
    val start = TimeSource.Monotonic.markNow()
    block()
    return start.elapsedNow()
}

/** A delivery dispatcher that runs nothing until the test calls [runAll] (on the test's thread). */
private class GateDispatcher : CoroutineDispatcher() {
    private val queue = ConcurrentLinkedQueue<Runnable>()

    override fun dispatch(context: CoroutineContext, block: Runnable) {
        queue.add(block)
    }

    fun waiting(): Boolean = queue.isNotEmpty()

    /** Runs what waits; returns how many blocks ran. */
    fun runAll(): Int {
        var ran = 0
        while (true) {
            val block = queue.poll() ?: return ran
            block.run()
            ran++
        }
    }
}
