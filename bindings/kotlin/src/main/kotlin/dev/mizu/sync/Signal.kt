package dev.mizu.sync

import dev.mizu.sync.ffi.SignalListener
import dev.mizu.sync.ffi.SignalUpdateFn
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.serialization.KSerializer
import kotlinx.serialization.json.Json
import kotlinx.serialization.serializer
import dev.mizu.sync.ffi.Signal as FfiSignal

/**
 * A writable reactive value, shared with the native graph: [Computed]s and [Effect]s that read
 * it (on either side of the boundary) re-run when it changes.
 *
 * Values are stored as JSON (through kotlinx.serialization); writing a value equal to the
 * current one as JSON notifies nobody.
 *
 * ```kotlin
 * val count = Signal(0)
 * val doubled = Computed { count.value * 2 }
 * count.value = 5          // doubled.value == 10
 * count.update { it + 1 }  // doubled.value == 12 (atomic: no increment is lost between threads)
 * ```
 *
 * **Threading**: every member may be called from any thread. Dependents (effects, listeners,
 * [asStateFlow]) run on the writing thread before the write returns.
 */
public class Signal<T> internal constructor(
    private val inner: FfiSignal,
    codec: ValueCodec<T>,
) : AutoCloseable {
    private val codec = HotCodec(codec)

    /** This wrapper's hot handle for direct calls, given back by the cleaner once it is collected. */
    private val handle: Long = inner.hotHandle().toLong()

    /** The last scalar value read or written, with its version. */
    private val cache = VersionCache(this.codec)

    /** Read (volatile, so the JIT keeps it) after each direct call, see [keepAlive]. */
    @Volatile
    private var reachable = true

    /**
     * Keeps this wrapper reachable until the direct call before it returned: otherwise the JIT
     * may let it be collected during the call, and the cleaner give back the handle in use.
     * (`Reference.reachabilityFence` needs Android API 28.)
     */
    private fun keepAlive() = check(reachable)

    init {
        Hot.releaseWhenCollected(this, Release(handle))
    }

    private class Release(private val handle: Long) : Runnable {
        override fun run() = Hot.mizu_hot_signal_release(handle)
    }

    private val flows = OpenFlows()
    private val state = lazy { NativeState(peek()) { emit -> listen(emit) } }

    /**
     * The value. Reading it inside a [Computed] or [Effect] makes this signal a dependency;
     * setting it re-runs the dependents on this thread before the setter returns.
     *
     * @throws MizuSyncException.Closed after [close].
     * @throws MizuSyncException.InvalidJson when the value cannot be encoded.
     */
    public var value: T
        get() = read(tracked = 1)
        set(value) {
            val version = codec.set(handle, value)
            keepAlive()
            if (version < 0) Hot.fail()
            cache.wrote(version, value)
        }

    /**
     * The value, without becoming a dependency of the running [Computed] or [Effect].
     *
     * @throws MizuSyncException.Closed after [close].
     */
    public fun peek(): T = read(tracked = 0)

    private fun read(tracked: Int): T {
        val known = cache.known
        val tag = Hot.mizu_hot_signal_get(handle, tracked, known?.version ?: 0L)
        keepAlive()
        return cache.read(tag, known)
    }

    /** Subscribes [listener] by a direct call: values arrive as arguments, decoded here. */
    private fun listen(listener: (T) -> Unit): HotSubscription {
        val (subscription, token) = HotCallbacks.subscribe(codec, listener) { token ->
            Hot.mizu_hot_signal_subscribe(handle, HotCallbacks.valueFn, token).also { keepAlive() }
        }
        val owner = inner
        return HotSubscription(subscription, token) { owner.isClosed() }
    }

    /**
     * Replaces the value with `transform(current)`, atomically: when another thread changed the
     * value while [transform] ran, [transform] runs again on the newer value, so concurrent
     * updates never lose one another (like `MutableStateFlow.update` and
     * `AtomicReference.updateAndGet`). [transform] may therefore run more than once: keep it
     * free of side effects. No lock is held while it runs (it may read other signals), and the
     * read of the current value is not tracked. An exception thrown by [transform] propagates
     * unchanged, and the value stays as it was.
     *
     * @throws MizuSyncException.Closed after [close].
     */
    public fun update(transform: (T) -> T) {
        var failure: Throwable? = null
        val fn = object : SignalUpdateFn {
            override fun update(valueJson: String): String =
                try {
                    codec.codec.encode(transform(codec.codec.decode(valueJson)))
                } catch (e: Throwable) {
                    failure = e
                    throw callbackFailure(e)
                }
        }
        try {
            native { inner.update(fn) }
        } catch (e: MizuSyncException) {
            throw failure ?: e
        }
    }

    /**
     * Calls [listener] with the value now, then after each change, on the writing thread, until
     * the returned [Subscription] is cancelled. What the listener throws goes to [onUnhandledError].
     *
     * @throws MizuSyncException.Closed after [close].
     */
    public fun subscribe(listener: (T) -> Unit): Subscription = Subscription(listen(listener))

    /**
     * The value now, then each new value, as a cold [Flow] (each collector subscribes); it
     * completes when this handle is closed. Conflated: a collector slower than the writes gets
     * the latest value, not every intermediate one.
     */
    public val changes: Flow<T>
        get() = stateFlow(flows) { emit -> listen(emit) }

    /**
     * The value as a [StateFlow]: `asStateFlow().value` always equals [peek] (it is updated on the
     * writing thread before the write returns), and collectors see each new value (conflated, as
     * a StateFlow is). One native subscription, made at the first call, serves every collector
     * until [close].
     */
    public fun asStateFlow(): StateFlow<T> = state.value.flow

    /** Whether [close] was called. */
    public val isClosed: Boolean
        get() = inner.isClosed()

    /**
     * Releases the value and cancels the subscriptions made through this handle; later reads and
     * writes throw [MizuSyncException.Closed]. A [StateFlow] from [asStateFlow] keeps its last value.
     * Idempotent.
     */
    override fun close() {
        if (state.isInitialized()) state.value.cancel()
        inner.release()
        flows.closeAll()
    }

    override fun toString(): String = "Signal(${runCatching { inner.peek() }.getOrDefault("closed")})"
}

/**
 * A [Signal] holding [initial], stored as JSON with [serializer].
 *
 * @throws MizuSyncException.InvalidJson when [initial] cannot be encoded.
 */
public fun <T> Signal(initial: T, serializer: KSerializer<T>, json: Json = MizuJson): Signal<T> {
    val codec = ValueCodec(serializer, json)
    val text = codec.encode(initial)
    return Signal(native { FfiSignal(text) }, codec)
}

/**
 * A [Signal] holding [initial]; `T` is a `@Serializable` class or a type kotlinx.serialization
 * knows (numbers, strings, lists, maps, ...).
 *
 * @throws MizuSyncException.InvalidJson when [initial] cannot be encoded.
 */
public inline fun <reified T> Signal(initial: T): Signal<T> = Signal(initial, serializer<T>())

/** A native listener that decodes each value and hands it to [listener]. */
internal fun <T> valueListener(codec: ValueCodec<T>, listener: (T) -> Unit): SignalListener =
    object : SignalListener {
        override fun onChange(valueJson: String) = callback { listener(codec.decode(valueJson)) }
    }
