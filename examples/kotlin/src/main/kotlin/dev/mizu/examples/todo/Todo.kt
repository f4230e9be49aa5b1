// A todo list synced between two clients, with reactive state, in Kotlin on the JVM.
//
// Run against a server you started (`mizu-sync-server --addr 127.0.0.1:8080`):
//     mvn compile exec:java -Dexec.args=http://127.0.0.1:8080/_sync
// or let the program start one (the binary from `cargo build --features server --bin
// mizu-sync-server`, found through $MIZU_SYNC_SERVER_BIN):
//     mvn compile exec:java
package dev.mizu.examples.todo

import dev.mizu.sync.Client
import dev.mizu.sync.ClientOptions
import dev.mizu.sync.Computed
import dev.mizu.sync.Effect
import dev.mizu.sync.QueryEvent
import dev.mizu.sync.batch
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.Serializable
import java.nio.file.Files
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

@Serializable
data class Todo(val title: String, val completed: Boolean = false)

fun main(args: Array<String>) {
    val server = if (args.isEmpty()) startServer() else null
    val url = args.firstOrNull() ?: "http://${server!!.second}/_sync"
    val storage = Files.createTempDirectory("mizu-todo-").resolve("phone.db").toString()
    val options = ClientOptions(baseUrl = url, scope = "user:demo", pushInterval = 200.milliseconds)
    try {
        // The phone keeps its data in SQLite; the laptop in memory.
        Client(options.copy(storagePath = storage)).use { phone ->
            Client(options).use { laptop ->
                runBlocking { demo(phone, laptop) }
            }
        }
    } finally {
        server?.first?.destroy()
    }
}

private suspend fun demo(phone: Client, laptop: Client) {
    phone.start()
    laptop.start()
    val phoneTodos = phone.collection<Todo>("todo")
    val laptopTodos = laptop.collection<Todo>("todo")

    // A Kotlin computed over synced state: re-runs when the laptop's collection changes.
    val remaining = Computed { laptopTodos.entries().values.count { !it.completed } }
    val summary = Effect { println("laptop: ${remaining.value} to do") }
    // A live query on the laptop (open todos by title) and the keyed diffs a list UI would apply.
    val open = laptopTodos.query {
        where { "completed" eq false }
        orderBy("title")
    }
    val rows = open.subscribe { event ->
        when (event) {
            is QueryEvent.Result -> println("laptop's open todos: ${event.rows.map { it.value.title }}")
            is QueryEvent.Diff -> println("laptop's open todos changed: ${event.diff.ops}")
        }
    }
    val synced = phone.onSync { cursor -> println("phone synced up to $cursor") }

    batch {
        phoneTodos.create("milk", Todo("Buy milk"))
        phoneTodos.create("docs", Todo("Read the sync docs"))
    }
    phone.flush(10.seconds)
    laptop.sync()

    laptopTodos.update("milk") { it.copy(completed = true) }
    laptop.flush(10.seconds)
    phone.sync()
    println("phone sees: ${phoneTodos["milk"]}")

    summary.stop()
    rows.cancel()
    open.close()
    synced.cancel()
    remaining.close()
    println("${phoneTodos.count()} todos, ${phone.pendingCount} pending")
}

/** Starts the reference server on a free port; returns the process and its address. */
private fun startServer(): Pair<Process, String> {
    val binary = System.getenv("MIZU_SYNC_SERVER_BIN")
        ?: error("pass a server URL, or set MIZU_SYNC_SERVER_BIN to mizu-sync-server")
    val process = ProcessBuilder(binary, "--addr", "127.0.0.1:0").redirectError(ProcessBuilder.Redirect.INHERIT).start()
    val line = process.inputStream.bufferedReader().readLine() ?: error("the server did not start")
    return process to line.removePrefix("listening on http://").trim()
}
