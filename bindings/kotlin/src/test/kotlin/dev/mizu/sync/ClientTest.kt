package dev.mizu.sync

import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.Todo
import dev.mizu.sync.support.tempDir
import dev.mizu.sync.support.waitUntil
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.flow.transformWhile
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.Serializable
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.extension.ExtendWith
import java.util.Collections
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotSame
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

@ExtendWith(SyncFixtures::class)
class ClientTest {
    @Test
    fun `the README's quick start works with a todo collection`(server: ReferenceServer, clients: Clients) = runBlocking {
        val client = clients.open(server)
        val todos = client.collection<Todo>("todo")
        val todo = todos.create("todo-1", Todo("Learn sync"))

        val printed = CopyOnWriteArrayList<String>()
        val effect = Effect {
            todo.value?.let { printed += "${it.title} [${if (it.completed) "done" else "pending"}]" }
        }
        todo.set(Todo("Learn sync", completed = true))
        client.flush(10.seconds)

        assertEquals(listOf("Learn sync [pending]", "Learn sync [done]"), printed)
        assertEquals(0, client.pendingCount)
        assertTrue(client.cursor > 0)
        effect.stop()
    }

    @Test
    fun `two clients converge`(server: ReferenceServer, clients: Clients) = runBlocking {
        val phone = clients.open(server).collection<Todo>("todo")
        val laptopClient = clients.open(server)
        val laptop = laptopClient.collection<Todo>("todo")

        phone.create("milk", Todo("Buy milk"))
        phone["docs"] = Todo("Read the docs")
        waitUntil("the laptop sees both todos") { laptop.count() == 2 }

        laptop.update("milk") { it.copy(completed = true) }
        laptop.delete("docs")
        laptopClient.flush()
        waitUntil("the phone sees the laptop's writes") { phone["milk"]?.completed == true && "docs" !in phone }
        assertEquals(mapOf("milk" to Todo("Buy milk", true)), phone.entries())
        assertEquals(phone.entries(), laptop.entries())
    }

    @Test
    fun `offline writes reach the server after it comes back`(clients: Clients) = runBlocking {
        ReferenceServer(tempDir("server").resolve("server.db")).use { server ->
            val storage = tempDir("client").resolve("phone.db").toString()
            val phone = clients.open(server, storagePath = storage)
            val todos = phone.collection<Todo>("todo")
            todos.create("before", Todo("written online"))
            phone.flush()

            val offline = CompletableDeferred<Unit>()
            val connectivity = phone.onConnectivity { online -> if (!online) offline.complete(Unit) }
            server.stop()
            todos.create("during", Todo("written offline"))
            assertEquals(Todo("written offline"), todos["during"], "visible at once, offline")
            assertThrows<MizuSyncException.Timeout> { runBlocking { phone.flush(300.milliseconds) } }
            withTimeout(20.seconds) { offline.await() }
            assertEquals(false, phone.status.value.online)

            server.start()
            phone.flush(20.seconds)
            connectivity.cancel()

            val laptop = clients.open(server).collection<Todo>("todo")
            waitUntil("a second client sees both writes") { laptop.count() == 2 }
            assertEquals(Todo("written offline"), laptop["during"])
        }
    }

    @Test
    fun `a rejected mutation rolls back and is reported`(server: ReferenceServer, clients: Clients) = runBlocking {
        server.reject("todo.create", "forbidden", "titles may not say forbidden")
        val client = clients.open(server)
        val todos = client.collection<Todo>("todo")
        val rejected = CompletableDeferred<RejectedMutation>()
        val error = CompletableDeferred<MizuSyncException>()
        val onRejected = client.onRejected { rejected.complete(it) }
        val onError = client.onError { if (it is MizuSyncException.Rejected) error.complete(it) }

        todos.create("bad", Todo("a forbidden title"))
        todos.create("good", Todo("a fine title"))
        val mutation = withTimeout(20.seconds) { rejected.await() }
        assertEquals("todo.create", mutation.name)
        assertTrue("forbidden" in mutation.reason, mutation.reason)
        val failure = assertIs<MizuSyncException.Rejected>(withTimeout(20.seconds) { error.await() })
        assertEquals(mutation.mutationId, failure.mutationId)
        client.flush()
        assertNull(todos["bad"], "the optimistic create is rolled back")
        assertEquals(Todo("a fine title"), todos["good"], "the next mutation is not wedged")
        onRejected.cancel()
        onError.cancel()
    }

    @Test
    fun `a snapshot over maxSnapshotBytes is reported and the client stays online`(server: ReferenceServer, clients: Clients) = runBlocking {
        val writer = clients.open(server)
        val todos = writer.collection<Todo>("todo")
        repeat(3) { todos.create("t$it", Todo("x".repeat(2000))) }
        writer.flush()
        val reader = clients.track(Client(clients.options(server).copy(maxSnapshotBytes = 1000)))
        val errors = CopyOnWriteArrayList<MizuSyncException>()
        val onError = reader.onError { errors += it }
        reader.start()
        waitUntil("the limit is reported") {
            errors.any { it is MizuSyncException.SnapshotTooLarge && it.limit == 1000L }
        }
        val status = reader.status.value
        assertTrue(status.online)
        assertTrue(status.lastError?.contains("limit of 1000 bytes") == true, status.lastError)
        assertEquals(0, reader.collection<Todo>("todo").count())
        onError.cancel()
    }

    @Test
    fun `a throwing listener does not break sync`(server: ReferenceServer, clients: Clients) {
        val errors = CopyOnWriteArrayList<MizuSyncException>()
        val reader = clients.open(server)
        val onError = reader.onError { errors += it }
        val todos = reader.collection<Todo>("todo")
        val calls = AtomicInteger()
        val throwing = todos.subscribe {
            calls.incrementAndGet()
            if (it.changed.isNotEmpty()) throw IllegalStateException("listener is broken")
        }
        val writer = clients.open(server).collection<Todo>("todo")

        writer.create("one", Todo("first"))
        waitUntil("the first change arrives and the listener's failure is reported") {
            todos.count() == 1 && errors.any { it is MizuSyncException.Callback }
        }
        writer.create("two", Todo("second"))
        waitUntil("sync goes on after the failure") { todos.count() == 2 }
        val failure = errors.filterIsInstance<MizuSyncException.Callback>().first()
        assertTrue("listener is broken" in failure.reason, failure.reason)
        assertTrue(calls.get() >= 3)
        throwing.cancel()
        onError.cancel()
    }

    @Test
    fun `callbacks from the sync thread run while a test thread calls in`(server: ReferenceServer, clients: Clients) {
        val reader = clients.open(server)
        val todos = reader.collection<Todo>("todo")
        val testThread = Thread.currentThread()
        val threads = Collections.synchronizedSet(mutableSetOf<Thread>())
        val seenSizes = CopyOnWriteArrayList<Int>()
        // Only the listener's own failures count: onError also hears of transient network trouble
        // (a refused or reset connection on a loaded machine), which made this test flaky.
        val errors = CopyOnWriteArrayList<MizuSyncException>()
        val onError = reader.onError { if (it is MizuSyncException.Callback) errors += it }
        val subscription = todos.subscribe {
            threads += Thread.currentThread()
            // Call back into the library from the callback (on the engine thread for server changes).
            seenSizes += todos.count()
            reader.status.value
            todos.entries()
            todos.ids()
        }
        val writer = clients.open(server).collection<Todo>("todo")
        val writing = thread(name = "writer") {
            repeat(30) { writer["w$it"] = Todo("remote $it") }
        }
        // Meanwhile this thread reads and writes through the same client.
        repeat(30) {
            todos["local$it"] = Todo("local $it")
            todos.entries()
            reader.pendingCount
        }
        writing.join()
        waitUntil("all 60 todos arrive on the reader") { todos.count() == 60 }
        // Then server changes alone, while this thread keeps calling in (polling).
        val threadsBefore = threads.size
        repeat(10) { writer["late$it"] = Todo("late $it") }
        waitUntil("the late todos arrive on the reader") { todos.count() == 70 && reader.pendingCount == 0L }
        assertTrue(
            threads.any { it != testThread },
            "server changes called back on the engine thread (threads seen: ${threads.map { it.name }}, before the late writes: $threadsBefore, last sizes seen: ${seenSizes.takeLast(5)})",
        )
        assertTrue(seenSizes.isNotEmpty())
        assertEquals(emptyList(), errors.toList(), "no callback failed")
        subscription.cancel()
        onError.cancel()
    }

    @Test
    fun `StateFlows collect entity values and sync status`(server: ReferenceServer, clients: Clients) = runBlocking {
        val reader = clients.open(server)
        val status = withTimeout(20.seconds) { reader.status.first { it.online && it.cursor != null } }
        assertTrue(status.online)

        val milk = reader.collection<Todo>("todo").entity("milk")
        val state = milk.asStateFlow()
        assertNull(state.value)
        val done = async { withTimeout(20.seconds) { state.first { it?.completed == true } } }

        val writerClient = clients.open(server)
        val writer = writerClient.collection<Todo>("todo")
        writer.create("milk", Todo("Buy milk"))
        writer.update("milk", Todo("Buy milk", completed = true))
        writerClient.flush()
        assertEquals(Todo("Buy milk", true), done.await())
        waitUntil("the reader's pending count is 0 in its status") { reader.status.value.pending == 0L }
    }

    @Test
    fun `collection changes carry only what changed, and arrive as flows`(server: ReferenceServer, clients: Clients) = runBlocking {
        val client = clients.open(server, start = false) // local writes only: every change is ours
        val todos = client.collection<Todo>("todo")
        todos.create("a", Todo("first"))
        todos.create("c", Todo("third"))
        val started = CompletableDeferred<Unit>()
        val changes = async {
            withTimeout(20.seconds) {
                todos.changes.onEach { started.complete(Unit) }.transformWhile { emit(it); it.removed != listOf("a") }.toList()
            }
        }
        val entityValues = async { withTimeout(20.seconds) { todos.entity("b").changes.first { it != null } } }
        started.await()
        todos.create("b", Todo("second"))
        todos.delete("a")
        assertEquals(
            listOf(
                CollectionChange(mapOf("a" to Todo("first"), "c" to Todo("third")), emptyList()),
                CollectionChange(mapOf("b" to Todo("second")), emptyList()),
                CollectionChange(emptyMap(), listOf("a")),
            ),
            changes.await(),
            "every entity first, then only the entity each write changed",
        )
        assertEquals(Todo("second"), entityValues.await())
    }

    @Test
    fun `closing handles ends calls and flows`(server: ReferenceServer, clients: Clients) = runBlocking {
        val client = clients.open(server)
        val todos = client.collection<Todo>("todo")
        val entity = todos.create("x", Todo("x"))
        val started = CompletableDeferred<Unit>()
        val events = async { withTimeout(20.seconds) { client.syncs.onEach { started.complete(Unit) }.toList() } }
        val values = async { withTimeout(20.seconds) { entity.changes.toList() } }
        withTimeout(20.seconds) { started.await() }

        client.close()
        client.close()
        assertTrue(client.isClosed)
        assertTrue(events.await().isNotEmpty(), "the syncs flow completed when the client closed")
        assertEquals(Todo("x"), values.await().first(), "the entity's flow completed too")
        assertEquals("client", assertThrows<MizuSyncException.Closed> { client.start() }.what)
        assertThrows<MizuSyncException.Closed> { client.collection<Todo>("todo") }
        assertThrows<MizuSyncException.Closed> { runBlocking { client.sync() } }

        todos.close()
        assertEquals("collection", assertThrows<MizuSyncException.Closed> { todos["x"] }.what)
        entity.close()
        assertEquals("entity", assertThrows<MizuSyncException.Closed> { entity.value }.what)

        // `use` closes a client, and its storage file can then be opened again.
        val path = tempDir("reopen").resolve("c.db").toString()
        Client(clients.options(server, path)).use { it.collection<Todo>("todo")["kept"] = Todo("kept") }
        Client(clients.options(server, path)).use { assertEquals(Todo("kept"), it.collection<Todo>("todo")["kept"]) }
    }

    @Test
    fun `bad input throws clear exceptions`(server: ReferenceServer, clients: Clients) {
        assertThrows<MizuSyncException.InvalidArgument> { Client(ClientOptions(baseUrl = "not a url")) }
        assertThrows<MizuSyncException.InvalidArgument> { Client(clients.options(server).copy(pushInterval = (-1).seconds)) }
        assertThrows<MizuSyncException.InvalidArgument> { Client(clients.options(server).copy(pushBatchSize = 0)) }

        val client = clients.track(Client(clients.options(server)))
        assertThrows<MizuSyncException.Offline> { runBlocking { client.sync() } }
        assertThrows<MizuSyncException.Offline> { runBlocking { client.flush(1.seconds) } }
        assertThrows<MizuSyncException.InvalidArgument> { client.collection<Todo>("") }
        assertThrows<MizuSyncException.InvalidArgument> { client.mutate("") }

        val todos = client.collection<Todo>("todo")
        todos.create("a", Todo("a"))
        assertThrows<MizuSyncException.InvalidArgument> { todos.create("a", Todo("again")) }
        assertThrows<MizuSyncException.InvalidArgument> { todos.create("", Todo("no id")) }
        assertEquals("todo/missing", assertThrows<MizuSyncException.NotFound> { todos.update("missing", Todo("m")) }.what)
        assertThrows<MizuSyncException.NotFound> { todos.update("missing") { it } }

        // A value of another shape under the same name does not decode as a Todo.
        client.collection<JsonPrimitive>("todo")["number"] = JsonPrimitive(42)
        val error = assertThrows<MizuSyncException.InvalidJson> { todos["number"] }
        assertNotSame(null, error.cause)

        client.pause()
        assertThrows<MizuSyncException.Offline> { runBlocking { client.sync() } }
        assertTrue(client.status.value.paused)
    }

    @Test
    fun `a token provider is asked and app mutations carry serializable arguments`(server: ReferenceServer, clients: Clients) = runBlocking {
        val asked = AtomicInteger()
        val client = clients.track(Client(clients.options(server), tokenProvider = { asked.incrementAndGet(); "secret" }))
        client.start()
        val id = client.mutate("note.create", NoteArgs("n1", Todo("an argument")))
        assertTrue(id.startsWith(client.clientId), id)
        client.mutate("note.create", buildJsonObject {
            put("id", "n2")
            put("data", buildJsonObject { put("title", "json") })
        })
        client.flush()
        client.sync()
        val notes = client.collection<Todo>("note")
        assertEquals(Todo("an argument"), notes["n1"])
        assertEquals(Todo("json"), notes["n2"])
        assertTrue(asked.get() > 0)
    }

    @Serializable
    data class NoteArgs(val id: String, val data: Todo)
}
