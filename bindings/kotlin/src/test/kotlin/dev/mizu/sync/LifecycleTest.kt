package dev.mizu.sync

import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.Todo
import dev.mizu.sync.support.tempDir
import dev.mizu.sync.support.waitUntil
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.extension.ExtendWith
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Logout and the queue against the reference server and real SQLite files: clear (checked on
 * disk), its refusal without consent, each entity's sync state as a tracked read and a StateFlow,
 * the queued mutations and discarding one.
 */
@ExtendWith(SyncFixtures::class)
class LifecycleTest {
    /** The store file and its WAL, as found on disk, as Latin-1 text (every byte one char). */
    private fun onDisk(db: Path): String = listOf(db, Path.of("$db-wal"))
        .filter { Files.exists(it) }
        .joinToString("") { String(Files.readAllBytes(it), Charsets.ISO_8859_1) }

    @Test
    fun `clear deletes the files and starts afresh with a new client id`(server: ReferenceServer, clients: Clients) {
        val db = tempDir("clear").resolve("store.db")
        val client = clients.open(server, db.toString())
        val todos = client.collection<Todo>("todo")
        todos.create("t1", Todo("secret-groceries-7f3a"))
        client.flushBlocking(20.seconds)
        assertTrue("secret-groceries-7f3a" in onDisk(db))
        val oldId = client.clientId
        val counts = CopyOnWriteArrayList<Int>()
        val effect = Effect { counts += todos.count() }

        client.clear()

        assertFalse("secret-groceries-7f3a" in onDisk(db), "the old file and its WAL are gone")
        assertNotEquals(oldId, client.clientId)
        assertEquals(0, todos.count())
        assertEquals(0, counts.last(), "readers woke to the empty store")
        assertEquals(0L, client.cursor)
        assertTrue(client.isStarted, "syncing again, as before")
        client.syncBlocking()
        assertEquals(Todo("secret-groceries-7f3a"), todos["t1"], "caught up as a new installation")
        assertTrue(client.mutate("todo.noop").startsWith(client.clientId))
        effect.stop()
        val newId = client.clientId
        client.close()
        Client(clients.options(server, db.toString())).use { reopened -> assertEquals(newId, reopened.clientId) }
    }

    @Test
    fun `clear with pending writes refuses without consent and keeps everything`(clients: Clients) {
        val db = tempDir("clear-refuse").resolve("store.db")
        val client = clients.track(Client(clients.options("http://127.0.0.1:9/_sync").copy(storagePath = db.toString())))
        val todos = client.collection<Todo>("todo")
        todos.create("t1", Todo("typed offline"))
        todos.create("t2", Todo("also offline"))
        val id = client.clientId

        val refused = assertThrows<MizuSyncException.PendingWrites> { client.clear() }
        assertEquals(2L, refused.count)
        assertEquals(Todo("typed offline"), todos["t1"])
        assertEquals(2, todos.count())
        assertEquals(2L, client.pendingCount)
        assertEquals(id, client.clientId)
        assertTrue("typed offline" in onDisk(db))

        runBlocking { client.clearAsync(discardPending = true) }
        assertEquals(0, todos.count())
        assertEquals(0L, client.pendingCount)
        assertNotEquals(id, client.clientId)
        assertFalse("typed offline" in onDisk(db))
    }

    @Test
    fun `clear can flush first and then needs no consent`(server: ReferenceServer, clients: Clients) {
        val client = clients.open(server, tempDir("clear-flush").resolve("store.db").toString())
        client.collection<Todo>("todo").create("t1", Todo("pushed before the wipe"))
        client.clear(flushWithin = 20.seconds)
        assertEquals(0L, client.pendingCount)
        val other = clients.open(server)
        other.syncBlocking()
        assertEquals(Todo("pushed before the wipe"), other.collection<Todo>("todo")["t1"])
    }

    @Test
    fun `sync state goes pending then synced and an effect and a StateFlow follow it`(
        server: ReferenceServer,
        clients: Clients,
    ) = runBlocking {
        val client = clients.open(server)
        val todos = client.collection<Todo>("todo")
        val entity = todos.entity("t1")
        assertEquals(SyncState.Synced, entity.syncState)
        val states = CopyOnWriteArrayList<SyncState>()
        val effect = Effect { states += entity.syncState }
        val flow = entity.syncStates()
        assertEquals(SyncState.Synced, flow.value)

        client.pause()
        entity.set(Todo("first"))
        entity.set(Todo("second"))
        assertEquals(SyncState.Pending(2), entity.syncState)
        assertEquals(SyncState.Pending(2), todos.syncState("t1"))
        assertEquals(SyncState.Pending(2), states.last())
        assertEquals(SyncState.Pending(2), flow.value)
        client.resume()
        client.flush(20.seconds)
        waitUntil("the effect sees Synced") { states.last() == SyncState.Synced }
        withTimeout(20.seconds) { flow.first { it == SyncState.Synced } }
        assertEquals(SyncState.Synced, entity.syncState)
        effect.stop()
        entity.close()
    }

    @Test
    fun `a rejected write shows as rejected until written again`(server: ReferenceServer, clients: Clients) {
        server.reject("todo.create", "reject-me", "sync: not allowed")
        val client = clients.open(server)
        val entity = client.collection<Todo>("todo").entity("t1")
        entity.set(Todo("reject-me"))
        waitUntil("the write is rejected") { entity.syncState is SyncState.Rejected }
        val state = assertIs<SyncState.Rejected>(entity.syncState)
        assertTrue("not allowed" in state.reason, state.reason)
        assertNull(entity.value, "rolled back")

        entity.set(Todo("fine"))
        assertEquals(SyncState.Pending(1), entity.syncState)
        client.flushBlocking(20.seconds)
        assertEquals(SyncState.Synced, entity.syncState)
    }

    @Test
    fun `pending lists the queue and discard rolls one back like a rejection`(clients: Clients) {
        ReferenceServer(tempDir("discard").resolve("server.db")).use { server ->
            val client = clients.open(server)
            val errors = CopyOnWriteArrayList<MizuSyncException>()
            val rejected = CopyOnWriteArrayList<RejectedMutation>()
            val subs = listOf(client.onError { errors += it }, client.onRejected { rejected += it })
            client.syncBlocking()
            server.stop()
            val todos = client.collection<Todo>("todo")
            todos.create("t1", Todo("stuck"))
            todos.create("t2", Todo("kept"))
            waitUntil("a push was attempted") { client.pending().all { it.attempts >= 1 } }

            val queued = client.pending()
            assertEquals(listOf("todo.create", "todo.create"), queued.map { it.name })
            val first = queued[0]
            assertEquals(clients.scope, first.scope)
            assertTrue(first.age >= 0.milliseconds && first.age < 60.seconds, "${first.age}")
            assertTrue(first.id.startsWith(client.clientId))

            client.discard(first.id)
            assertNull(todos["t1"], "rolled back")
            assertEquals(SyncState.Rejected("discarded by the app"), todos.syncState("t1"))
            assertEquals(1L, client.pendingCount)
            assertEquals(listOf(queued[1].id), client.pending().map { it.id })
            waitUntil("onError is told") {
                errors.any { it is MizuSyncException.Rejected && it.mutationId == first.id }
            }
            waitUntil("onRejected is told") { rejected.any { it.mutationId == first.id } }
            assertThrows<MizuSyncException.InvalidArgument> { client.discard(first.id) }

            server.start()
            client.flushBlocking(20.seconds)
            val other = clients.open(server)
            other.syncBlocking()
            val others = other.collection<Todo>("todo")
            assertNull(others["t1"])
            assertEquals(Todo("kept"), others["t2"])
            subs.forEach { it.cancel() }
        }
    }
}
