package dev.mizu.sync.support

import java.io.BufferedReader
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The reference server (`mizu-sync-server --admin`) as a subprocess. [stop] and [start] keep the
 * address and, with a database file, the data: a client sees a real outage and a real recovery.
 */
class ReferenceServer(private val db: Path? = null) : AutoCloseable {
    private var process: Process? = null

    /** `HOST:PORT`, picked by the first start and kept by restarts. */
    var addr: String = "127.0.0.1:0"
        private set

    init {
        start()
    }

    val baseUrl: String get() = "http://$addr/_sync"

    fun wsUrl(scope: String): String = "ws://$addr/ws?scope=$scope"

    fun start() {
        check(process == null) { "the server is running" }
        val command = mutableListOf(binary(), "--addr", addr, "--admin")
        if (db != null) command += listOf("--db", db.toString())
        val started = ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start()
        val line = BufferedReader(started.inputStream.reader()).readLine()
        if (line == null || !line.startsWith(PREFIX)) {
            started.destroyForcibly()
            error("the server did not start: $line")
        }
        addr = line.removePrefix(PREFIX).trim()
        process = started
    }

    /** Kills the server (no goodbye to its clients), as a crash or a lost network would. */
    fun stop() {
        process?.let {
            it.destroyForcibly()
            it.waitFor(10, TimeUnit.SECONDS)
        }
        process = null
    }

    /** Makes the server reject mutations [name] whose arguments contain [argContains]. */
    fun reject(name: String, argContains: String, error: String) {
        post("/_admin/reject", """{"name":${quote(name)},"arg_contains":${quote(argContains)},"error":${quote(error)}}""")
    }

    private fun post(path: String, body: String) {
        val request = HttpRequest.newBuilder(URI("http://$addr$path"))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() in 200..299) { "POST $path: HTTP ${response.statusCode()} ${response.body()}" }
    }

    override fun close() = stop()

    companion object {
        private const val PREFIX = "listening on http://"
        private val http: HttpClient = HttpClient.newHttpClient()

        /** The server binary: `-Dmizu.server.bin` (set by the pom), or $MIZU_SYNC_SERVER_BIN. */
        fun binary(): String =
            System.getProperty("mizu.server.bin")?.takeIf { it.isNotBlank() && !it.contains("\${") }
                ?: System.getenv("MIZU_SYNC_SERVER_BIN")
                ?: error("set -Dmizu.server.bin or MIZU_SYNC_SERVER_BIN to mizu-sync-server (cargo build --features server --bin mizu-sync-server)")

        private fun quote(s: String): String = "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
    }
}
