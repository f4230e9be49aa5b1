package dev.mizu.sync.support

import dev.mizu.sync.Client
import dev.mizu.sync.ClientOptions
import kotlinx.serialization.Serializable
import org.junit.jupiter.api.extension.AfterEachCallback
import org.junit.jupiter.api.extension.ExtensionContext
import org.junit.jupiter.api.extension.ParameterContext
import org.junit.jupiter.api.extension.ParameterResolver
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

/** The value type of the tests' `todo` collections. */
@Serializable
data class Todo(val title: String, val completed: Boolean = false)

/** How long a condition may take before a test fails. */
val WAIT: Duration = 20.seconds

/** Polls [condition] until it holds; fails with [what] after [timeout]. */
fun waitUntil(what: String, timeout: Duration = WAIT, condition: () -> Boolean) {
    val deadline = TimeSource.Monotonic.markNow() + timeout
    while (!condition()) {
        if (deadline.hasPassedNow()) throw AssertionError("timed out waiting until $what")
        Thread.sleep(10)
    }
}

/**
 * Per test: a reference server in memory (a parameter of type [ReferenceServer]) and a factory
 * of started clients with fast timers in a unique scope ([Clients]); all closed after the test.
 */
class SyncFixtures : ParameterResolver, AfterEachCallback {
    override fun supportsParameter(parameter: ParameterContext, context: ExtensionContext): Boolean =
        parameter.parameter.type == ReferenceServer::class.java || parameter.parameter.type == Clients::class.java

    override fun resolveParameter(parameter: ParameterContext, context: ExtensionContext): Any {
        val store = context.getStore(ExtensionContext.Namespace.create(SyncFixtures::class.java, context.uniqueId))
        return when (parameter.parameter.type) {
            ReferenceServer::class.java -> {
                val server = ReferenceServer()
                resources(store) += server
                server
            }
            else -> {
                val name = context.requiredTestMethod.name.replace(Regex("[^A-Za-z0-9]+"), "-").trim('-')
                val clients = Clients("$name-${scopes.incrementAndGet()}")
                resources(store) += clients
                clients
            }
        }
    }

    override fun afterEach(context: ExtensionContext) {
        val store = context.getStore(ExtensionContext.Namespace.create(SyncFixtures::class.java, context.uniqueId))
        // Clients first (they may still talk to the server), then servers.
        resources(store).sortedBy { if (it is Clients) 0 else 1 }.forEach { it.close() }
    }

    @Suppress("UNCHECKED_CAST")
    private fun resources(store: ExtensionContext.Store): MutableList<AutoCloseable> =
        store.getOrComputeIfAbsent("resources", { mutableListOf<AutoCloseable>() }, MutableList::class.java)
            as MutableList<AutoCloseable>

    companion object {
        private val scopes = AtomicInteger()
    }
}

/** Makes clients of one scope with fast timers, started; closes them all at the end of a test. */
class Clients(val scope: String) : AutoCloseable {
    private val made = mutableListOf<Client>()

    fun options(server: ReferenceServer, storagePath: String? = null, live: Boolean = true) = ClientOptions(
        baseUrl = server.baseUrl,
        scope = scope,
        storagePath = storagePath,
        liveUrl = if (live) server.wsUrl(scope) else null,
        pushInterval = 200.milliseconds,
        pullInterval = 300.milliseconds,
        requestTimeout = 5.seconds,
        backoffMin = 20.milliseconds,
        backoffMax = 200.milliseconds,
    )

    /** [options] for a server of the test's own at [baseUrl] (a gate, a hanging listener): no live URL. */
    fun options(baseUrl: String) = ClientOptions(
        baseUrl = baseUrl,
        scope = scope,
        pushInterval = 200.milliseconds,
        pullInterval = 300.milliseconds,
        requestTimeout = 5.seconds,
        backoffMin = 20.milliseconds,
        backoffMax = 200.milliseconds,
    )

    fun open(server: ReferenceServer, storagePath: String? = null, start: Boolean = true): Client =
        track(Client(options(server, storagePath)).also { if (start) it.start() })

    fun track(client: Client): Client = client.also { synchronized(made) { made += it } }

    override fun close() = synchronized(made) { made.forEach { it.close() } }
}

/** A fresh directory under the system's temporary directory. */
fun tempDir(prefix: String): Path = Files.createTempDirectory("mizu-kotlin-$prefix-")
