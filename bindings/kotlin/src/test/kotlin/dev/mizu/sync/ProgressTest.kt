package dev.mizu.sync

import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.HangingServer
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.Todo
import dev.mizu.sync.support.tempDir
import dev.mizu.sync.support.waitUntil
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.extension.ExtendWith
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

private const val PULL_LIMIT = 100
private const val LONG_PULL = 1_200

/**
 * Sync you can see, against the reference server and real SQLite files: download progress through
 * a long pull (seen by a status listener), `hasSynced` and `waitForFirstSync` (persisted across a
 * reopen), and `syncOnce` for background work, bounded against a server that hangs.
 */
@ExtendWith(SyncFixtures::class)
class ProgressTest {
    @Test
    fun `download progress rises monotonically to complete through a long pull`(
        server: ReferenceServer,
        clients: Clients,
    ) {
        val writer = clients.open(server)
        val todos = writer.collection<Todo>("todo")
        // A first change, so the reader's cursor is past 0 and it pulls (a cursor of 0 snapshots).
        todos.create("first", Todo("x"))
        writer.flushBlocking(20.seconds)
        val reader = clients.track(
            Client(clients.options(server, live = false).copy(pullLimit = PULL_LIMIT)).also { it.start() },
        )
        reader.syncBlocking()
        assertTrue(reader.cursor > 0)
        reader.pause()
        val seen = CopyOnWriteArrayList<SyncProgress>()
        val subscription = reader.subscribeStatus { seen += it.download }

        for (i in 0 until LONG_PULL) todos.create("t%04d".format(i), Todo("x"))
        writer.flushBlocking(30.seconds)
        seen.clear()
        reader.resume()
        reader.syncBlocking()
        assertEquals(LONG_PULL + 1, reader.collection<Todo>("todo").count())
        waitUntil("the listener saw the pull complete") {
            seen.isNotEmpty() && seen.last().isComplete && seen.last().total >= LONG_PULL
        }
        subscription.cancel()

        val downloads = seen.toList()
        assertTrue(downloads.size >= LONG_PULL / PULL_LIMIT, "a status per page at least: $downloads")
        downloads.zipWithNext { before, after ->
            assertTrue(after.done >= before.done, "never backwards: $downloads")
            assertTrue(after.done <= after.total, "$downloads")
        }
        val last = downloads.last()
        assertTrue(last.isComplete && last.total >= LONG_PULL && last.fraction == 1f, "ends complete: $last")
        val partway = downloads.filter { it.done > 0 && !it.isComplete }
        assertTrue(partway.size >= 5, "partway shown page by page: $downloads")
        assertTrue(partway.all { it.fraction > 0f && it.fraction < 1f }, "$partway")
        assertTrue(reader.status.value.download.isComplete)
    }

    @Test
    fun `hasSynced is false before, true after waitForFirstSync, and persisted`(
        server: ReferenceServer,
        clients: Clients,
    ) {
        val db = tempDir("first-sync").resolve("store.db").toString()
        val client = clients.open(server, db, start = false)
        assertFalse(client.status.value.hasSynced)
        assertThrows<MizuSyncException.Offline> { client.waitForFirstSyncBlocking(1.seconds) }
        client.start()
        runBlocking { client.waitForFirstSync() }
        assertTrue(client.status.value.hasSynced)
        client.close()

        val reopened = clients.open(server, db, start = false)
        assertTrue(reopened.status.value.hasSynced, "persisted with the store")
        val mark = TimeSource.Monotonic.markNow()
        reopened.waitForFirstSyncBlocking(0.seconds)
        assertTrue(mark.elapsedNow() < 500.milliseconds, "at once, even before start")
        reopened.clear()
        assertFalse(reopened.status.value.hasSynced, "cleared with the store")
    }

    @Test
    fun `waitForFirstSync times out against a hanging server and cancels at once`(clients: Clients) {
        HangingServer().use { hanging ->
            val client = clients.track(
                Client(clients.options(hanging.baseUrl).copy(requestTimeout = 30.seconds)).also { it.start() },
            )
            val mark = TimeSource.Monotonic.markNow()
            assertThrows<MizuSyncException.Timeout> { client.waitForFirstSyncBlocking(300.milliseconds) }
            val took = mark.elapsedNow()
            assertTrue(took >= 250.milliseconds && took < 2300.milliseconds, "$took")

            runBlocking {
                val wait = async(start = CoroutineStart.UNDISPATCHED) { client.waitForFirstSync(30.seconds) }
                delay(200)
                assertFalse(wait.isCompleted)
                val cancelled = TimeSource.Monotonic.markNow()
                withTimeout(1.seconds) { wait.cancel(); wait.join() }
                assertTrue(wait.isCancelled)
                assertTrue(cancelled.elapsedNow() < 1.seconds)
            }
            assertFalse(client.status.value.hasSynced)
        }
    }

    @Test
    fun `syncOnce catches up a stopped client and leaves it stopped`(server: ReferenceServer, clients: Clients) {
        val other = clients.open(server)
        other.collection<Todo>("todo").create("from-other", Todo("remote"))
        other.flushBlocking(20.seconds)

        val client = clients.open(server, start = false)
        val todos = client.collection<Todo>("todo")
        for (i in 0 until 5) todos.create("t$i", Todo("offline"))
        assertEquals(5L, client.pendingCount)

        val report = client.syncOnce(within = 20.seconds)

        assertTrue(report.caughtUp, "$report")
        assertEquals(5L, report.pushed, "$report")
        assertTrue(report.pulled > 0, "$report")
        assertNull(report.error, "$report")
        assertTrue(report.elapsed < 20.seconds, "$report")
        assertFalse(client.isStarted, "stopped again")
        assertEquals(0L, client.pendingCount)
        assertEquals(Todo("remote"), todos["from-other"])
        other.syncBlocking()
        assertEquals(Todo("offline"), other.collection<Todo>("todo")["t4"], "on the server")
    }

    @Test
    fun `syncOnceAsync runs off the caller and catches up`(server: ReferenceServer, clients: Clients) {
        val client = clients.open(server, start = false)
        client.collection<Todo>("todo").create("t1", Todo("queued"))
        val report = runBlocking { client.syncOnceAsync(20.seconds) }
        assertTrue(report.caughtUp && report.pushed == 1L, "$report")
        assertFalse(client.isStarted)
    }

    @Test
    fun `syncOnce returns at its deadline against a hanging server`(clients: Clients) {
        HangingServer().use { hanging ->
            val client = clients.track(Client(clients.options(hanging.baseUrl).copy(requestTimeout = 30.seconds)))
            client.collection<Todo>("todo").create("t1", Todo("waits"))
            val within = 500.milliseconds
            val mark = TimeSource.Monotonic.markNow()

            val report = client.syncOnce(within)

            val took = mark.elapsedNow()
            assertTrue(took < within + 2.seconds, "returned at its deadline: $took")
            assertTrue(report.elapsed >= 450.milliseconds, "$report")
            assertFalse(report.caughtUp, "$report")
            assertEquals(0L, report.pushed, "$report")
            assertFalse(client.isStarted)
            assertEquals(1L, client.pendingCount, "the write waits for the next chance")
        }
    }
}
