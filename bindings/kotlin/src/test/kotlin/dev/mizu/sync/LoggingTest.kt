package dev.mizu.sync

import dev.mizu.sync.support.AuthGate
import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.Todo
import dev.mizu.sync.support.waitUntil
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.extension.ExtendWith
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.test.assertFalse
import kotlin.test.assertTrue

private const val STALE = "kt-stale-token-marker-4f0c"
private const val FRESH = "kt-fresh-token-marker-a93e"
private const val HEADER = "kt-header-marker-2d71"

private data class Line(val level: LogLevel, val target: String, val message: String)

@ExtendWith(SyncFixtures::class)
class LoggingTest {
    @Test
    fun `the log listener sees each engine decision and no secret`(server: ReferenceServer, clients: Clients) = runBlocking {
        server.reject("todo.create", "reject-me", "refused for the log")
        val lines = CopyOnWriteArrayList<Line>()
        val refreshed = AtomicBoolean(false)
        AuthGate(server, valid = FRESH).use { gate ->
            val options = clients.options(gate.baseUrl).copy(
                liveUrl = server.wsUrl(clients.scope),
                headers = mapOf("X-App-Secret" to HEADER),
            )
            val client = clients.track(
                Client(
                    options,
                    tokenProvider = { refresh -> if (refresh) refreshed.set(true); if (refreshed.get()) FRESH else STALE },
                    logLevel = LogLevel.TRACE,
                    onLog = { level, target, message -> lines += Line(level, target, message) },
                ),
            )
            client.start()
            val todos = client.collection<Todo>("todo")
            todos.create("kept", Todo("fine"))
            todos.create("doomed", Todo("reject-me"))
            client.flush()
            waitUntil("the live connection is logged") { lines.any { it.target == "mizu_sync::live" && "open" in it.message } }
            client.close()
        }
        fun has(target: String, text: String) = lines.any { it.target == target && text in it.message }
        assertTrue(has("mizu_sync::auth", "retrying once with a refreshed token"))
        assertTrue(has("mizu_sync::snapshot", "applying a snapshot"))
        assertTrue(has("mizu_sync::push", "pushing"))
        assertTrue(has("mizu_sync::pull", "pulled from cursor"))
        assertTrue(has("mizu_sync::rejection", "refused for the log"))
        assertTrue(lines.any { it.level == LogLevel.TRACE && it.target == "mizu_sync::http" })
        assertTrue(lines.any { it.level == LogLevel.WARN && it.target == "mizu_sync::rejection" })
        for (line in lines) {
            for (secret in listOf(STALE, FRESH, HEADER)) {
                assertFalse(secret in line.message || secret in line.target, "a log line holds a secret: $line")
            }
        }
    }

    @Test
    fun `the default level holds back per-request detail`(server: ReferenceServer, clients: Clients) = runBlocking {
        val lines = CopyOnWriteArrayList<Line>()
        val client = clients.track(
            Client(clients.options(server), onLog = { level, target, message -> lines += Line(level, target, message) }),
        )
        client.start()
        client.collection<Todo>("todo").create("a", Todo("one"))
        client.flush()
        assertTrue(lines.any { it.target == "mizu_sync::push" && "1 acknowledged" in it.message })
        assertTrue(lines.all { it.level <= LogLevel.INFO }, "$lines")
    }
}
