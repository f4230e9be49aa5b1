package dev.mizu.sync.support

import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * An HTTP gate on 127.0.0.1 in front of a [ReferenceServer] (which has no authentication): it
 * answers 401 to every request whose `Authorization` is not `Bearer <valid>`, and forwards the
 * others to the server, as a real backend whose access token expired would. [seen] holds the
 * `Authorization` header of each request (or `-` when there was none).
 */
class AuthGate(private val server: ReferenceServer, private val valid: String) : AutoCloseable {
    val seen = CopyOnWriteArrayList<String>()
    private val http: HttpClient = HttpClient.newHttpClient()
    private val pool: ExecutorService = Executors.newCachedThreadPool()
    private val gate: HttpServer = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)

    val baseUrl: String get() = "http://127.0.0.1:${gate.address.port}/_sync"

    init {
        gate.executor = pool
        gate.createContext("/") { exchange ->
            exchange.use {
                val authorization = exchange.requestHeaders.getFirst("Authorization")
                seen += authorization ?: "-"
                val body = exchange.requestBody.readAllBytes()
                if (authorization != "Bearer $valid") {
                    val text = "authentication failed".toByteArray()
                    exchange.sendResponseHeaders(401, text.size.toLong())
                    exchange.responseBody.write(text)
                    return@use
                }
                val request = HttpRequest.newBuilder(URI("http://${server.addr}${exchange.requestURI}"))
                    .method(exchange.requestMethod, HttpRequest.BodyPublishers.ofByteArray(body))
                    .apply { exchange.requestHeaders.getFirst("Content-Type")?.let { header("Content-Type", it) } }
                    .build()
                val response = http.send(request, HttpResponse.BodyHandlers.ofByteArray())
                response.headers().firstValue("Content-Type").ifPresent { exchange.responseHeaders.add("Content-Type", it) }
                val answer = response.body()
                exchange.sendResponseHeaders(response.statusCode(), if (answer.isEmpty()) -1 else answer.size.toLong())
                exchange.responseBody.write(answer)
            }
        }
        gate.start()
    }

    override fun close() {
        gate.stop(0)
        pool.shutdownNow()
    }
}
