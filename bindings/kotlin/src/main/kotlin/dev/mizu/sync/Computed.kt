package dev.mizu.sync

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.serialization.KSerializer
import kotlinx.serialization.json.Json
import kotlinx.serialization.serializer

/**
 * A value derived by a Kotlin function from [Signal]s, other [Computed]s, [Collection]s and
 * [Entity]s: whatever the function reads through this library becomes its dependency.
 *
 * The function runs lazily (at the first read, then at the next read after a dependency
 * changed), on the reading thread, and its result is cached. A result equal to the previous one
 * (as JSON) wakes nobody downstream.
 *
 * ```kotlin
 * val todos = client.collection<Todo>("todo")
 * val remaining = Computed { todos.entries().values.count { !it.completed } }
 * ```
 */
public class Computed<T> internal constructor(
    codec: ValueCodec<T>,
    compute: () -> T,
) : AutoCloseable {
    private val codec = HotCodec(codec)

    /** The function as the native computed runs it; it refers to [codec] and [compute] alone. */
    private val function = AppFunction(this.codec, compute)

    // A direct computed: the library calls one JNA callback with this computed's token, which runs
    // [function] (no generated callback layer in between). Its hot handle is its only handle.
    private val token = HotCallbacks.addCompute(function)

    /** This computed's hot handle, given back by the cleaner once this wrapper is collected. */
    private val handle: Long = Hot.mizu_hot_computed_new(HotCallbacks.computeFn, token).also { handle ->
        if (handle == 0L) {
            HotCallbacks.removeCompute(token)
            Hot.fail()
        }
    }

    /** The last scalar value read, with its version. */
    private val cache = VersionCache(this.codec)

    @Volatile
    private var closed = false

    /** Read (volatile, so the JIT keeps it) after each direct call, see [keepAlive]. */
    @Volatile
    private var reachable = true

    /** Keeps this wrapper (and so its handle) reachable until the direct call before it returned. */
    private fun keepAlive() = check(reachable)

    init {
        Hot.releaseWhenCollected(this, Release(handle, token))
    }

    private class Release(private val handle: Long, private val token: Long) : Runnable {
        override fun run() {
            Hot.mizu_hot_computed_release(handle)
            HotCallbacks.removeCompute(token)
        }
    }

    /**
     * Runs the app's function for the native computed and gives its value. What it threw last is
     * kept here (not in the wrapper, which the native computed must not keep reachable) to hand
     * back as the cause of [MizuSyncException.Callback].
     */
    private class AppFunction<T>(private val codec: HotCodec<T>, private val run: () -> T) : () -> Unit {
        @Volatile
        var lastFailure: Throwable? = null

        override fun invoke() =
            try {
                codec.give(run())
            } catch (e: Throwable) {
                lastFailure = e
                throw e
            }
    }

    private val flows = OpenFlows()
    private val state = lazy { NativeState(peek()) { emit -> listen(emit) } }

    /**
     * The value, computing it if needed. Reading it inside another [Computed] or an [Effect] makes
     * this computed a dependency.
     *
     * @throws MizuSyncException.Callback when the function threw (kept until a dependency
     *   changes); its cause is what the function threw.
     * @throws MizuSyncException.Closed after [close].
     */
    public val value: T
        get() = read(tracked = 1)

    /** The value, without becoming a dependency of the running [Computed] or [Effect]. */
    public fun peek(): T = read(tracked = 0)

    /** A direct read (computing first when needed), with the scalar cache a [Signal] has. */
    private fun read(tracked: Int): T {
        val known = cache.known
        val tag = Hot.mizu_hot_computed_get(handle, tracked, known?.version ?: 0L)
        keepAlive()
        return try {
            cache.read(tag, known)
        } catch (e: MizuSyncException.Callback) {
            throw MizuSyncException.Callback(e.reason, function.lastFailure)
        }
    }

    /** Subscribes [listener] by a direct call: values arrive as arguments, decoded here. */
    private fun listen(listener: (T) -> Unit): HotSubscription {
        // The subscription refers to this wrapper (through `closed`): while it is reachable, so
        // is the function it runs.
        val (subscription, token) = HotCallbacks.subscribe(codec, listener) { token ->
            Hot.mizu_hot_computed_subscribe(handle, HotCallbacks.valueFn, token).also { keepAlive() }
        }
        return HotSubscription(subscription, token) { closed }
    }

    /**
     * Calls [listener] with the value now, then after each change, until the returned
     * [Subscription] is cancelled. A failure of the function or the listener goes to
     * [onUnhandledError].
     *
     * @throws MizuSyncException.Closed after [close].
     */
    public fun subscribe(listener: (T) -> Unit): Subscription = Subscription(listen(listener))

    /**
     * The value now, then each new value, as a cold [Flow] (each collector subscribes); it
     * completes when this handle is closed. Conflated: a slow collector gets the latest value.
     */
    public val changes: Flow<T>
        get() = stateFlow(flows) { emit -> listen(emit) }

    /**
     * The value as a [StateFlow], kept current by one native subscription made at the first call
     * (which computes the value, and throws as [value] does) until [close].
     */
    public fun asStateFlow(): StateFlow<T> = state.value.flow

    /** Whether [close] was called. */
    public val isClosed: Boolean
        get() = closed

    /**
     * Releases the computed (and its function, once nothing else depends on it) and cancels the
     * subscriptions made through this handle. Idempotent.
     */
    override fun close() {
        if (state.isInitialized()) state.value.cancel()
        Hot.mizu_hot_computed_close(handle)
        closed = true // after the call: keeps this computed (and its handle) reachable until it returned
        HotCallbacks.removeCompute(token)
        flows.closeAll()
    }
}

/** A [Computed] whose values are stored as JSON with [serializer]. [compute] does not run yet. */
public fun <T> Computed(serializer: KSerializer<T>, json: Json = MizuJson, compute: () -> T): Computed<T> =
    Computed(ValueCodec(serializer, json), compute)

/** A [Computed] of a `@Serializable` (or built-in) type `T`. [compute] does not run yet. */
public inline fun <reified T> Computed(noinline compute: () -> T): Computed<T> = Computed(serializer<T>(), MizuJson, compute)
