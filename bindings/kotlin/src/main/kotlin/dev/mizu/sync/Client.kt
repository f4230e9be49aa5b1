package dev.mizu.sync

import dev.mizu.sync.ffi.ConnectivityListener
import dev.mizu.sync.ffi.RejectionListener
import dev.mizu.sync.ffi.StatusListener
import dev.mizu.sync.ffi.SyncListener
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.withContext
import kotlinx.serialization.KSerializer
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.serializer
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import dev.mizu.sync.ffi.Client as FfiClient
import dev.mizu.sync.ffi.RejectedMutation as FfiRejectedMutation
import dev.mizu.sync.ffi.SyncStatus as FfiSyncStatus
import dev.mizu.sync.ffi.TokenProvider as FfiTokenProvider

/**
 * An offline-first sync client: a local store (SQLite or memory), a durable queue of mutations,
 * and a background engine that pushes, pulls and listens for live notifications.
 *
 * Reads and writes never wait for the network; only [sync] and [flush] do, and they suspend.
 *
 * ```kotlin
 * @Serializable data class Todo(val title: String, val completed: Boolean = false)
 *
 * Client(ClientOptions(baseUrl = "http://10.0.2.2:8080/_sync", scope = "user:demo")).use { client ->
 *     client.start()                                   // works offline, too
 *     val todos = client.collection<Todo>("todo")
 *     todos.create("todo-1", Todo("Learn sync"))
 *     todos.query { where { "completed" eq false } }.asFlow().collect { rows -> render(rows) }
 * }
 * ```
 *
 * **Threading**: every member may be called from any thread. Event listeners and flows
 * ([errors], [rejections], [syncs], [connectivity], [status]) are fed on the client's engine
 * thread; a listener must not block it for long.
 *
 * @param options where and how to sync.
 * @param tokenProvider the bearer token for each request, or `null` for none.
 * @property json how values of this client's collections and mutations become JSON.
 * @throws MizuSyncException.InvalidArgument for an unusable URL or option.
 * @throws MizuSyncException.Storage when the store cannot be opened (corrupt, too new, or held by
 *   another client).
 */
public class Client(
    options: ClientOptions,
    tokenProvider: TokenProvider? = null,
    public val json: Json = MizuJson,
) : AutoCloseable {
    private val inner: FfiClient = run {
        val native = options.toNative()
        val auth = tokenProvider?.let { provider ->
            object : FfiTokenProvider {
                override fun token(refresh: Boolean): String? = callback { provider.token(refresh) }
            }
        }
        native { FfiClient(native, auth) }
    }

    /** The flows collected from this client and its collections and entities. */
    internal val flows = OpenFlows()

    private val statusState = lazy {
        NativeState(statusNow()) { emit -> inner.subscribeStatus(statusListener(emit)) }
    }

    /** Starts syncing in the background (idempotent). Works with the server unreachable. */
    public fun start(): Unit = native { inner.start() }

    /** Stops syncing; local reads and writes keep working, and [start] resumes. */
    public fun stop(): Unit = native { inner.stop() }

    /** Pauses syncing (no requests); local writes keep queueing until [resume]. */
    public fun pause(): Unit = native { inner.pause() }

    /** Resumes syncing after [pause]. */
    public fun resume(): Unit = native { inner.resume() }

    /**
     * Pushes everything pending, then pulls; returns when both are done. Runs on
     * [Dispatchers.IO]; cancelling the coroutine takes effect when the round ends (each request
     * is bounded by [ClientOptions.requestTimeout]).
     *
     * @throws MizuSyncException.Network, [MizuSyncException.Server], ... the round's first error.
     * @throws MizuSyncException.Offline when the client is not started, or paused.
     */
    public suspend fun sync(): Unit = withContext(Dispatchers.IO) { native { inner.sync() } }

    /**
     * Waits until everything queued so far is acknowledged by the server and pulled back. Runs on
     * [Dispatchers.IO].
     *
     * @throws MizuSyncException.Timeout after [timeout].
     * @throws MizuSyncException.Offline when the client is not started.
     */
    public suspend fun flush(timeout: Duration = 30.seconds) {
        val ms = millis("timeout", timeout)
        withContext(Dispatchers.IO) { native { inner.flush(ms) } }
    }

    /**
     * Queues the app-defined mutation [name] with [args] (no local effect), durably, and returns
     * its id (the one a [RejectedMutation] carries).
     *
     * @throws MizuSyncException.InvalidArgument for an empty name.
     */
    public fun mutate(name: String, args: JsonElement? = null): String =
        native { inner.mutate(name, args?.toString()) }

    /** [mutate] with arguments of a `@Serializable` type. */
    public inline fun <reified A> mutate(name: String, args: A): String =
        mutate(name, json.encodeToJsonElement(serializer<A>(), args))

    /**
     * The collection [name], with values of type `T` encoded by [serializer].
     *
     * @throws MizuSyncException.InvalidArgument for an empty name.
     */
    public fun <T> collection(name: String, serializer: KSerializer<T>): Collection<T> =
        Collection(native { inner.collection(name) }, native { inner.collection(name) }, ValueCodec(serializer, json), flows)

    /** The collection [name] of `@Serializable` values of type `T`. */
    public inline fun <reified T> collection(name: String): Collection<T> = collection(name, serializer<T>())

    /** The sync status now (one native call; [status] keeps it as a [StateFlow]). */
    public fun statusNow(): SyncStatus = native { inner.status() }.toPublic()

    /**
     * The sync status as a [StateFlow], kept current by one native subscription made at the first
     * read, until [close].
     */
    public val status: StateFlow<SyncStatus>
        get() = statusState.value.flow

    /** Whether the last exchange with the server succeeded. */
    public val isOnline: Boolean
        get() = native { inner.isOnline() }

    /** Whether the client is started (and not stopped since). */
    public val isStarted: Boolean
        get() = native { inner.isStarted() }

    /** Whether [close] was called. */
    public val isClosed: Boolean
        get() = inner.isClosed()

    /** The pull cursor (0 before the first snapshot). */
    public val cursor: Long
        get() = native { inner.cursor() }.toLong()

    /** How many local mutations wait to be acknowledged. */
    public val pendingCount: Long
        get() = native { inner.pendingCount() }.toLong()

    /** This client's id (kept with the store), the prefix of its mutation ids. */
    public val clientId: String
        get() = native { inner.clientId() }

    /**
     * Tells the client the server has reached [cursor] (for apps with their own notification
     * channel, e.g. push messages): it pulls at once when that is ahead.
     */
    public fun notifyLive(cursor: Long): Unit = native { inner.notifyLive(cursor.toULong()) }

    /**
     * Calls [listener] with each error, on the engine thread: network trouble, rejected
     * mutations, storage failures, and failures of this client's other listeners.
     */
    public fun onError(listener: (MizuSyncException) -> Unit): Subscription =
        Subscription(inner.onError(errorListener(listener)))

    /** Calls [listener] for each mutation the server rejects (after its rollback). */
    public fun onRejected(listener: (RejectedMutation) -> Unit): Subscription =
        Subscription(inner.onRejected(rejectionListener(listener)))

    /** Calls [listener] with the new cursor after each completed pull or snapshot. */
    public fun onSync(listener: (Long) -> Unit): Subscription = Subscription(inner.onSync(syncListener(listener)))

    /** Calls [listener] with `true` on each offline → online transition, `false` on the reverse. */
    public fun onConnectivity(listener: (Boolean) -> Unit): Subscription =
        Subscription(inner.onConnectivity(connectivityListener(listener)))

    /**
     * [onError] as a cold [Flow]. It holds at most [EVENT_BUFFER] errors for a slow collector,
     * then drops the oldest (as do [rejections], [syncs] and [connectivity]).
     */
    public val errors: Flow<MizuSyncException>
        get() = eventFlow(flows, overflow = dropOldest()) { emit -> inner.onError(errorListener(emit)) }

    /** [onRejected] as a cold [Flow]; keeps the newest [EVENT_BUFFER] for a slow collector. */
    public val rejections: Flow<RejectedMutation>
        get() = eventFlow(flows, overflow = dropOldest()) { emit -> inner.onRejected(rejectionListener(emit)) }

    /** [onSync] as a cold [Flow] of cursors; keeps the newest [EVENT_BUFFER] for a slow collector. */
    public val syncs: Flow<Long>
        get() = eventFlow(flows, overflow = dropOldest()) { emit -> inner.onSync(syncListener(emit)) }

    /** [onConnectivity] as a cold [Flow]; keeps the newest [EVENT_BUFFER] for a slow collector. */
    public val connectivity: Flow<Boolean>
        get() = eventFlow(flows, overflow = dropOldest()) { emit -> inner.onConnectivity(connectivityListener(emit)) }

    /**
     * Stops syncing, closes the store and unregisters every listener. Writes
     * already returned are durable. Flows collected from the client, its collections and entities
     * complete. Later calls throw [MizuSyncException.Closed]. Idempotent.
     */
    override fun close() {
        if (statusState.isInitialized()) statusState.value.cancel()
        inner.release()
        flows.closeAll()
    }

    override fun toString(): String = "Client(${if (isClosed) "closed" else runCatching { clientId }.getOrDefault("?")})"
}

private fun statusListener(listener: (SyncStatus) -> Unit): StatusListener = object : StatusListener {
    override fun onStatus(status: FfiSyncStatus) = callback { listener(status.toPublic()) }
}

private fun rejectionListener(listener: (RejectedMutation) -> Unit): RejectionListener = object : RejectionListener {
    override fun onRejected(mutation: FfiRejectedMutation) = callback { listener(mutation.toPublic()) }
}

private fun syncListener(listener: (Long) -> Unit): SyncListener = object : SyncListener {
    override fun onSync(cursor: ULong) = callback { listener(cursor.toLong()) }
}

private fun connectivityListener(listener: (Boolean) -> Unit): ConnectivityListener = object : ConnectivityListener {
    override fun onConnectivity(online: Boolean) = callback { listener(online) }
}
