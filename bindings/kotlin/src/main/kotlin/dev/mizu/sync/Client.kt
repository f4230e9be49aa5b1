package dev.mizu.sync

import dev.mizu.sync.ffi.ConnectivityListener
import dev.mizu.sync.ffi.PendingListener
import dev.mizu.sync.ffi.RejectionListener
import dev.mizu.sync.ffi.StatusListener
import dev.mizu.sync.ffi.SyncListener
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.serialization.KSerializer
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.serializer
import java.lang.ref.WeakReference
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import dev.mizu.sync.ffi.Client as FfiClient
import dev.mizu.sync.ffi.RejectedMutation as FfiRejectedMutation
import dev.mizu.sync.ffi.SyncStatus as FfiSyncStatus

/**
 * An offline-first sync client: a local store (SQLite or memory), a durable queue of mutations,
 * and a background engine that pushes, pulls and listens for live notifications.
 *
 * Reads and writes never wait for the network; only [sync] and [flush] do, and they suspend
 * (natively: no thread waits, and cancelling the coroutine returns at once).
 *
 * ```kotlin
 * @Serializable data class Todo(val title: String, val completed: Boolean = false)
 *
 * Client(ClientOptions(baseUrl = "http://10.0.2.2:8080/_sync", scope = "user:demo"),
 *        delivery = Dispatchers.Main).use { client ->
 *     client.start()                                   // works offline, too
 *     val todos = client.collection<Todo>("todo")
 *     todos.createAsync("todo-1", Todo("Learn sync"))  // committed off the main thread
 *     todos.query { where { "completed" eq false } }.results().collect { rows -> render(rows) }
 * }
 * ```
 *
 * **Threading**: every member may be called from any thread. Listeners and effects woken by
 * server changes and by awaited writes, the status, and the client's events ([onError],
 * [onRejected], [onSync], [onConnectivity] and their flows) run on the client's engine thread
 * (or the thread that committed an awaited write), or on [delivery] when one is given. Local
 * blocking writes run their listeners on the writing thread before they return.
 *
 * @param options where and how to sync.
 * @param tokenProvider the bearer token for each request, or `null` for none: a plain function
 *   or a suspending one, awaited on a library thread, at most [ClientOptions.requestTimeout].
 * @property json how values of this client's collections and mutations become JSON.
 * @param delivery where listeners and effects for server changes, awaited writes and client
 *   events run (e.g. `Dispatchers.Main`): each batch of deliveries is one [dispatchPending] in a
 *   coroutine launched on it. `null` (the default) runs them on the client's engine thread.
 * @param logLevel the least severe record [onLog] receives (default [LogLevel.INFO]).
 * @param onLog receives the engine's decisions (pushes, pulls, snapshots, backoffs,
 *   rejections, auth refreshes, the live connection, store errors) as `(level, target, message)`
 *   on library threads; `null` (the default) logs nothing. Never given a token or header value.
 * @throws MizuSyncException.InvalidArgument for an unusable URL or option.
 * @throws MizuSyncException.Storage when the store cannot be opened (corrupt, too new, or held by
 *   another client).
 */
public class Client(
    options: ClientOptions,
    tokenProvider: TokenProvider? = null,
    public val json: Json = MizuJson,
    delivery: CoroutineDispatcher? = null,
    logLevel: LogLevel = LogLevel.INFO,
    onLog: LogListener? = null,
) : AutoCloseable {
    /** Runs the deliveries on [delivery]; cancelled by [close]. */
    private val deliveryScope: CoroutineScope? = delivery?.let { CoroutineScope(SupervisorJob() + it) }

    private val inner: FfiClient = run {
        val native = options.toNative()
        val auth = tokenProvider?.let { AwaitedTokenProvider(it, options.requestTimeout) }
        val made = CompletableDeferred<WeakReference<FfiClient>>()
        val pending = deliveryScope?.let { scope -> DispatchOn(scope, made) }
        try {
            val log = onLog?.let { ForwardedLogListener(it) }
            native { FfiClient(native, auth, pending, log, logLevel.toNative()) }.also { made.complete(WeakReference(it)) }
        } catch (e: Throwable) {
            deliveryScope?.cancel()
            throw e
        }
    }

    /** The flows collected from this client and its collections and entities. */
    internal val flows = OpenFlows()

    private val statusState = lazy {
        NativeState(native { inner.status() }.toPublic()) { emit -> inner.subscribeStatus(statusListener(emit)) }
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
     * Pushes everything pending, then pulls; returns when both are done. Suspends without
     * holding a thread (the round runs on the library's threads); cancelling the coroutine
     * returns at once (the round itself goes on in the background).
     *
     * @throws MizuSyncException.Network, [MizuSyncException.Server], ... the round's first error.
     * @throws MizuSyncException.Offline when the client is not started, or paused.
     */
    public suspend fun sync(): Unit = native { inner.syncAsync() }

    /**
     * [sync], blocking the calling thread until the round is done (each request is bounded by
     * [ClientOptions.requestTimeout]). Fails when called from a listener on the engine thread.
     */
    public fun syncBlocking(): Unit = native { inner.sync() }

    /**
     * Waits until everything queued so far is acknowledged by the server and pulled back.
     * Suspends without holding a thread; cancelling the coroutine returns at once.
     *
     * @throws MizuSyncException.Timeout after [timeout].
     * @throws MizuSyncException.Offline when the client is not started.
     */
    public suspend fun flush(timeout: Duration = 30.seconds) {
        val ms = millis("timeout", timeout)
        native { inner.flushAsync(ms) }
    }

    /** [flush], blocking the calling thread (at most [timeout]). */
    public fun flushBlocking(timeout: Duration = 30.seconds) {
        val ms = millis("timeout", timeout)
        native { inner.flush(ms) }
    }

    /**
     * Waits until a first full catch-up with the server has completed ([SyncStatus.hasSynced]):
     * returns at once when one ever has (it is persisted with the store, so a reopened file
     * client returns at once, even before [start]). Suspends without holding a thread;
     * cancelling the coroutine stops the wait at once.
     *
     * ```kotlin
     * client.start()
     * try { client.waitForFirstSync() } catch (e: MizuSyncException.Timeout) { showOfflineBanner() }
     * ```
     *
     * @throws MizuSyncException.Timeout after [timeout].
     * @throws MizuSyncException.Offline when the client is not started (and never synced).
     */
    public suspend fun waitForFirstSync(timeout: Duration = 30.seconds) {
        val ms = millis("timeout", timeout)
        native { inner.waitForFirstSyncAsync(ms) }
    }

    /** [waitForFirstSync], blocking the calling thread (at most [timeout]). */
    public fun waitForFirstSyncBlocking(timeout: Duration = 30.seconds) {
        val ms = millis("timeout", timeout)
        native { inner.waitForFirstSync(ms) }
    }

    /**
     * Pushes and pulls until caught up or [within] has passed, and reports what it did: one
     * bounded sync for a background job. A client that is not started is started without its
     * live connection for the call and stopped after; a started one stays started. Against a
     * server that does not answer it returns at its deadline with [SyncReport.caughtUp] false;
     * writes that did not go out stay queued. Blocks the calling thread ([syncOnceAsync] does
     * not).
     *
     * With Android's WorkManager, call it from a `CoroutineWorker` (whose `doWork` runs on
     * `Dispatchers.Default`: use [syncOnceAsync], or `withContext(Dispatchers.IO)`), with a
     * deadline well inside the ten minutes a worker gets:
     *
     * ```kotlin
     * class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
     *     override suspend fun doWork(): Result {
     *         val report = App.client.syncOnceAsync(within = 60.seconds)
     *         return if (report.caughtUp) Result.success() else Result.retry()
     *     }
     * }
     * ```
     *
     * @throws MizuSyncException.Closed when the client is closed; a round's own failures are in
     *   [SyncReport.error].
     */
    public fun syncOnce(within: Duration): SyncReport {
        val ms = millis("within", within)
        return native { inner.syncOnce(ms) }.toPublic()
    }

    /**
     * [syncOnce], on [Dispatchers.IO]: the calling thread is not blocked. Cancelling the
     * coroutine stops the wait, not the round (which ends by [within] at the latest).
     */
    public suspend fun syncOnceAsync(within: Duration): SyncReport =
        withContext(Dispatchers.IO) { syncOnce(within) }

    /**
     * Deletes everything local, for a logout: flushes first for at most [flushWithin] when given
     * (and started), stops syncing, deletes the store's files (the SQLite file with its WAL and
     * SHM), and starts afresh with an empty store and a new [clientId], syncing again if it was.
     * Readers, flows and live queries see the empty store. Blocks the calling thread for the
     * flush and the wipe ([clearAsync] does not).
     *
     * @throws MizuSyncException.PendingWrites when writes still wait for the server and
     *   [discardPending] is false: nothing is deleted then.
     * @throws MizuSyncException.Storage when the files cannot be deleted or made afresh.
     */
    public fun clear(flushWithin: Duration? = null, discardPending: Boolean = false) {
        val ms = flushWithin?.let { millis("flushWithin", it) }
        native { inner.clear(ms, discardPending) }
    }

    /**
     * [clear], on [Dispatchers.IO]: the calling thread is not blocked. Cancelling the coroutine
     * stops the wait, not the clear.
     */
    public suspend fun clearAsync(flushWithin: Duration? = null, discardPending: Boolean = false): Unit =
        withContext(Dispatchers.IO) { clear(flushWithin, discardPending) }

    /** The mutations waiting for the server, oldest first. */
    public fun pending(): List<QueuedMutation> = native { inner.pending() }.map { it.toPublic() }

    /**
     * Rolls back the queued mutation [mutationId] as a server rejection would: its effect is
     * undone, its entity's [Entity.syncState] becomes [SyncState.Rejected] (`"discarded by the
     * app"`), and [onError] and [onRejected] are told.
     *
     * @throws MizuSyncException.InvalidArgument when no queued mutation has that id.
     */
    public fun discard(mutationId: String): Unit = native { inner.discard(mutationId) }

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
     * [mutate], committed off the calling thread (in call order with the other awaited
     * writes); returns the mutation's id once it is durable. Cancelling the coroutine stops the
     * wait, never the write.
     */
    public suspend fun mutateAsync(name: String, args: JsonElement? = null): String =
        native { inner.mutateAsync(name, args?.toString()) }

    /** [mutateAsync] with arguments of a `@Serializable` type. */
    public suspend inline fun <reified A> mutateAsync(name: String, args: A): String =
        mutateAsync(name, json.encodeToJsonElement(serializer<A>(), args))

    /**
     * Runs the deliveries waiting for this client's [delivery] context on the calling thread, in
     * order, and returns how many ran: 0 without a [delivery], or while another thread runs
     * them. The client calls it on [delivery] by itself; call it yourself only to run waiting
     * deliveries sooner on that same context.
     *
     * @throws MizuSyncException.Closed after [close].
     */
    public fun dispatchPending(): Int = native { inner.dispatchPending() }.toInt()

    /**
     * The collection [name], with values of type `T` encoded by [serializer].
     *
     * @throws MizuSyncException.InvalidArgument for an empty name.
     */
    public fun <T> collection(name: String, serializer: KSerializer<T>): Collection<T> =
        Collection(native { inner.collection(name) }, native { inner.collection(name) }, ValueCodec(serializer, json), flows)

    /** The collection [name] of `@Serializable` values of type `T`. */
    public inline fun <reified T> collection(name: String): Collection<T> = collection(name, serializer<T>())

    /**
     * The sync status as a [StateFlow] (`status.value` is the status now), kept current by one
     * native subscription made at the first read, until [close]: the state holder Compose's
     * `collectAsState()` takes. With a [delivery], it changes on that context.
     */
    public val status: StateFlow<SyncStatus>
        get() = statusState.value.flow

    /**
     * Calls [listener] with the status now, then after each change (on the engine thread, or
     * on [delivery]).
     */
    public fun subscribeStatus(listener: (SyncStatus) -> Unit): Subscription =
        Subscription(native { inner.subscribeStatus(statusListener(listener)) })

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

    /**
     * The durability mode the store file is in, read back from SQLite (to check that
     * [ClientOptions.durability] took effect); `null` for a store in memory.
     */
    public val durability: Durability?
        get() = native { inner.durability() }?.toPublic()

    /** This client's id (kept with the store), the prefix of its mutation ids. */
    public val clientId: String
        get() = native { inner.clientId() }

    /**
     * Re-encrypts the store file with [newKey] in one transaction: from then on only [newKey]
     * opens it (as [ClientOptions.encryptionKey]). Blocks for a time in proportion to the file's
     * size: call it off the main thread.
     *
     * @throws MizuSyncException.InvalidArgument for an empty key or a store opened without an
     *   encryption key.
     */
    public fun rekey(newKey: String): Unit = native { inner.rekey(newKey) }

    /**
     * Tells the client the server has reached [cursor] (for apps with their own notification
     * channel, e.g. push messages): it pulls at once when that is ahead.
     */
    public fun notifyLive(cursor: Long): Unit = native { inner.notifyLive(cursor.toULong()) }

    /**
     * Calls [listener] with each error, on the engine thread (or on [delivery]): network trouble, rejected
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
        deliveryScope?.cancel()
    }

    /**
     * [close], awaited: the engine's last step and the store's closing happen off the calling
     * thread.
     */
    public suspend fun closeAsync() {
        if (statusState.isInitialized()) statusState.value.cancel()
        inner.closeAsync()
        flows.closeAll()
        deliveryScope?.cancel()
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

/**
 * The client's [PendingListener] with a delivery context: each time deliveries start waiting,
 * one [FfiClient.dispatchPending] runs in a coroutine launched on [scope] (never inside the
 * call, which comes on a library thread). [made] is the client, once constructed; held weakly,
 * since the native client holds this listener: a strong reference would keep an unreachable
 * client from being collected (and closed by its cleaner).
 */
private class DispatchOn(
    private val scope: CoroutineScope,
    private val made: CompletableDeferred<WeakReference<FfiClient>>,
) : PendingListener {
    override fun onPending() {
        scope.launch {
            val client = made.await().get() ?: return@launch
            // Closed meanwhile: its waiting deliveries were dropped with it.
            runCatching { client.dispatchPending() }
        }
    }
}
