package dev.mizu.sync

import dev.mizu.sync.ffi.ComputedFn
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.serialization.KSerializer
import kotlinx.serialization.json.Json
import kotlinx.serialization.serializer
import dev.mizu.sync.ffi.Computed as FfiComputed

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
    private val codec: ValueCodec<T>,
    compute: () -> T,
) : AutoCloseable {
    /** What the function threw last, to hand back as the cause of [MizuSyncException.Callback]. */
    @Volatile
    private var lastFailure: Throwable? = null

    private val inner = FfiComputed(
        object : ComputedFn {
            override fun compute(): String =
                try {
                    codec.encode(compute())
                } catch (e: Throwable) {
                    lastFailure = e
                    throw callbackFailure(e)
                }
        },
    )

    private val flows = OpenFlows()
    private val state = lazy { NativeState(peek()) { emit -> inner.subscribe(valueListener(codec, emit)) } }

    /**
     * The value, computing it if needed. Reading it inside another [Computed] or an [Effect] makes
     * this computed a dependency.
     *
     * @throws MizuSyncException.Callback when the function threw (kept until a dependency
     *   changes); its cause is what the function threw.
     * @throws MizuSyncException.Closed after [close].
     */
    public val value: T
        get() = codec.decode(read { inner.get() })

    /** The value, without becoming a dependency of the running [Computed] or [Effect]. */
    public fun peek(): T = codec.decode(read { inner.getUntracked() })

    private inline fun read(call: () -> String): String =
        try {
            native(call)
        } catch (e: MizuSyncException.Callback) {
            throw MizuSyncException.Callback(e.reason, lastFailure)
        }

    /**
     * Calls [listener] with the value now, then after each change, until the returned
     * [Subscription] is cancelled. A failure of the function or the listener goes to
     * [onUnhandledError].
     *
     * @throws MizuSyncException.Closed after [close].
     */
    public fun subscribe(listener: (T) -> Unit): Subscription =
        Subscription(native { inner.subscribe(valueListener(codec, listener)) })

    /**
     * The value now, then each new value, as a cold [Flow] (each collector subscribes); it
     * completes when this handle is closed. Conflated: a slow collector gets the latest value.
     */
    public val changes: Flow<T>
        get() = stateFlow(flows) { emit -> inner.subscribe(valueListener(codec, emit)) }

    /**
     * The value as a [StateFlow], kept current by one native subscription made at the first call
     * (which computes the value, and throws as [value] does) until [close].
     */
    public fun asStateFlow(): StateFlow<T> = state.value.flow

    /** Whether [close] was called. */
    public val isClosed: Boolean
        get() = inner.isClosed()

    /**
     * Releases the computed (and its function, once nothing else depends on it) and cancels the
     * subscriptions made through this handle. Idempotent.
     */
    override fun close() {
        if (state.isInitialized()) state.value.cancel()
        inner.release()
        flows.closeAll()
    }
}

/** A [Computed] whose values are stored as JSON with [serializer]. [compute] does not run yet. */
public fun <T> Computed(serializer: KSerializer<T>, json: Json = MizuJson, compute: () -> T): Computed<T> =
    Computed(ValueCodec(serializer, json), compute)

/** A [Computed] of a `@Serializable` (or built-in) type `T`. [compute] does not run yet. */
public inline fun <reified T> Computed(noinline compute: () -> T): Computed<T> = Computed(serializer<T>(), MizuJson, compute)
