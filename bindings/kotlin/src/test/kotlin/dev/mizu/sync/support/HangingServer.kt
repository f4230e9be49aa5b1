package dev.mizu.sync.support

import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Semaphore
import kotlin.concurrent.thread

/**
 * A TCP listener on 127.0.0.1 that accepts connections and never answers: a server that hangs.
 * [awaitConnection] returns once a client has connected (its request is then in flight).
 */
class HangingServer : AutoCloseable {
    private val socket = ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))
    private val held = CopyOnWriteArrayList<Socket>()
    private val connected = Semaphore(0)

    val baseUrl: String = "http://127.0.0.1:${socket.localPort}/_sync"

    private val acceptor = thread(name = "hanging-server", isDaemon = true) {
        while (!socket.isClosed) {
            val connection = runCatching { socket.accept() }.getOrNull() ?: break
            held += connection
            connected.release()
        }
    }

    /** Waits until a client has connected; fails after [WAIT]. */
    fun awaitConnection() {
        check(connected.tryAcquire(WAIT.inWholeMilliseconds, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            "no client connected to the hanging server"
        }
    }

    override fun close() {
        socket.close()
        held.forEach { runCatching { it.close() } }
        acceptor.join(5_000)
    }
}
