package dev.mizu.sync

import com.sun.jna.Callback
import com.sun.jna.Native
import com.sun.jna.Pointer
import dev.mizu.sync.ffi.MizuException
import dev.mizu.sync.ffi.SubscriptionInterface
import dev.mizu.sync.ffi.UniffiLib
import dev.mizu.sync.ffi.hotCallbackError
import dev.mizu.sync.ffi.takeHotError
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong

/**
 * Direct calls: the library's C-ABI fast path (`src/ffi/hot`, functions `mizu_hot_*`) for the
 * hottest operations, bound with JNA direct mapping (static `external` functions taking only
 * numbers and byte arrays: no `Structure`, no `Memory` per call), from the same library the
 * generated UniFFI code loads. A failing direct call returns a negative number (0 for the calls
 * that return a handle); [fail] then raises its typed error through the generated
 * `takeHotError()`, so errors stay exactly as typed as in the generated layer.
 */
internal object Hot {
    // Tags: what a read returned (src/ffi/hot/value.rs).
    const val NULL = 0
    const val FALSE = 1
    const val TRUE = 2
    const val INT = 3
    const val FLOAT = 4
    const val STRING = 5
    const val JSON = 6
    const val UNCHANGED = 7
    const val ABSENT = 8

    // The calling thread's HotSlot (repr C): int @0, float @8, ptr @16, len @24, version @32.
    private const val SLOT_INT = 0
    private const val SLOT_FLOAT = 8
    private const val SLOT_PTR = 16
    private const val SLOT_LEN = 24
    private const val SLOT_VERSION = 32
    private const val SLOT_SIZE = 40L

    init {
        // The name (and the override property) the generated code registers, so JNA hands both
        // the same loaded library.
        Native.register(Hot::class.java, System.getProperty("uniffi.component.mizu_sync.libraryOverride") ?: "mizu_sync")
    }

    @JvmStatic external fun mizu_hot_slot(): Long

    @JvmStatic external fun mizu_hot_noop(): Int

    @JvmStatic external fun mizu_hot_callback_error(message: ByteArray, len: Long)

    @JvmStatic external fun mizu_hot_signal_release(signal: Long)

    @JvmStatic external fun mizu_hot_signal_get(signal: Long, tracked: Int, knownVersion: Long): Int

    @JvmStatic external fun mizu_hot_signal_set_null(signal: Long): Long

    @JvmStatic external fun mizu_hot_signal_set_bool(signal: Long, value: Int): Long

    @JvmStatic external fun mizu_hot_signal_set_int(signal: Long, value: Long): Long

    @JvmStatic external fun mizu_hot_signal_set_float(signal: Long, value: Double): Long

    @JvmStatic external fun mizu_hot_signal_set_string(signal: Long, utf8: ByteArray, len: Long): Long

    @JvmStatic external fun mizu_hot_signal_set_json(signal: Long, utf8: ByteArray, len: Long): Long

    @JvmStatic external fun mizu_hot_signal_subscribe(signal: Long, listener: ValueFn, token: Long): Long

    @JvmStatic external fun mizu_hot_subscription_cancel(subscription: Long)

    @JvmStatic external fun mizu_hot_subscription_release(subscription: Long)

    @JvmStatic external fun mizu_hot_effect_new(run: EffectFn, token: Long): Long

    @JvmStatic external fun mizu_hot_effect_stop(effect: Long)

    @JvmStatic external fun mizu_hot_effect_release(effect: Long)

    @JvmStatic external fun mizu_hot_computed_new(compute: EffectFn, token: Long): Long

    @JvmStatic external fun mizu_hot_result_null()

    @JvmStatic external fun mizu_hot_result_bool(value: Int)

    @JvmStatic external fun mizu_hot_result_int(value: Long)

    @JvmStatic external fun mizu_hot_result_float(value: Double)

    @JvmStatic external fun mizu_hot_result_string(utf8: ByteArray, len: Long)

    @JvmStatic external fun mizu_hot_result_json(utf8: ByteArray, len: Long)

    @JvmStatic external fun mizu_hot_computed_subscribe(computed: Long, listener: ValueFn, token: Long): Long

    @JvmStatic external fun mizu_hot_computed_close(computed: Long)

    @JvmStatic external fun mizu_hot_computed_release(computed: Long)

    @JvmStatic external fun mizu_hot_computed_get(computed: Long, tracked: Int, knownVersion: Long): Int

    @JvmStatic external fun mizu_hot_collection_release(collection: Long)

    @JvmStatic external fun mizu_hot_collection_get(collection: Long, id: ByteArray, idLen: Long, tracked: Int): Int

    @JvmStatic external fun mizu_hot_collection_write(
        collection: Long,
        id: ByteArray,
        idLen: Long,
        valueJson: ByteArray,
        valueLen: Long,
        create: Int,
    ): Int

    /** `HotValueFn`: a listener's C function (`ptr` / `len` valid for the call only). */
    fun interface ValueFn : Callback {
        fun invoke(token: Long, tag: Int, int: Long, float: Double, ptr: Long, len: Long): Int
    }

    /** `HotEffectFn`: an effect's C function (and, same shape, `HotComputeFn`: a computed's). */
    fun interface EffectFn : Callback {
        fun invoke(token: Long): Int
    }

    /** A view of the calling thread's slot, made once per thread (the slot lives as long as it). */
    private val slots: ThreadLocal<ByteBuffer> = object : ThreadLocal<ByteBuffer>() {
        // (Not ThreadLocal.withInitial, which needs Android API 26.)
        override fun initialValue(): ByteBuffer = Pointer(mizu_hot_slot()).getByteBuffer(0, SLOT_SIZE).order(ByteOrder.nativeOrder())
    }

    /** The payload of this thread's last direct read. Read it before the next direct call. */
    @JvmInline
    value class Slot(private val buffer: ByteBuffer) {
        val int: Long get() = buffer.getLong(SLOT_INT)
        val float: Double get() = buffer.getDouble(SLOT_FLOAT)
        val ptr: Long get() = buffer.getLong(SLOT_PTR)
        val len: Long get() = buffer.getLong(SLOT_LEN)
        val version: Long get() = buffer.getLong(SLOT_VERSION)
    }

    fun slot(): Slot = Slot(slots.get())

    private val EMPTY = ByteArray(0)

    /** A copy of the `len` bytes at `ptr`. */
    fun bytes(ptr: Long, len: Long): ByteArray = if (len == 0L) EMPTY else Pointer(ptr).getByteArray(0, Math.toIntExact(len))

    /** The UTF-8 text of the `len` bytes at `ptr`. */
    fun text(ptr: Long, len: Long): String = String(bytes(ptr, len), Charsets.UTF_8)

    /** Raises the error of this thread's failed direct call, as the generated layer would. */
    fun fail(): Nothing {
        native { takeHotError() }
        throw MizuSyncException.Internal("a direct call failed without an error")
    }

    /** How many hot handles wrappers hold (taken minus given back), for the tests' leak checks. */
    val liveHandles = AtomicInteger()

    /**
     * Runs [release] (which gives back a hot handle) once [owner] is unreachable, on the generated
     * code's cleaner (java.lang.ref.Cleaner when there is one, else JNA's).
     */
    fun releaseWhenCollected(owner: Any, release: Runnable) {
        liveHandles.incrementAndGet()
        UniffiLib.CLEANER.register(owner) {
            release.run()
            liveHandles.decrementAndGet()
        }
    }
}

/**
 * The Kotlin functions direct callbacks run, by token: one JNA callback per C signature, kept
 * strongly reachable here for the life of the process, dispatches to them.
 */
internal object HotCallbacks {
    /** A listener of values as a direct callback delivers them (bytes valid for the call only). */
    fun interface ValueListener {
        fun onValue(tag: Int, int: Long, float: Double, ptr: Long, len: Long)
    }

    private val tokens = AtomicLong()
    private val listeners = ConcurrentHashMap<Long, ValueListener>()
    private val effects = ConcurrentHashMap<Long, () -> Unit>()
    private val computes = ConcurrentHashMap<Long, () -> Unit>()

    // Classes of their own (not lambdas): JNA finds the callback method by reflection.
    val valueFn: Hot.ValueFn = object : Hot.ValueFn {
        override fun invoke(token: Long, tag: Int, int: Long, float: Double, ptr: Long, len: Long): Int {
            // A listener removed meanwhile (cancelled while a change was on its way) is skipped.
            val listener = listeners[token] ?: return 0
            return try {
                listener.onValue(tag, int, float, ptr, len)
                0
            } catch (e: Throwable) {
                failed(e)
            }
        }
    }

    val effectFn: Hot.EffectFn = object : Hot.EffectFn {
        override fun invoke(token: Long): Int {
            val run = effects[token] ?: return 0
            return try {
                run()
                0
            } catch (e: Throwable) {
                failed(e)
            }
        }
    }

    /** A computed's function: it gives its value with one `mizu_hot_result_*` call. */
    val computeFn: Hot.EffectFn = object : Hot.EffectFn {
        override fun invoke(token: Long): Int {
            // A token goes only when its computed is closed or collected, after which the library
            // no longer runs it; were it run, it fails with Closed rather than giving no value.
            val compute = computes[token] ?: return failed(MizuSyncException.Closed("computed"))
            return try {
                compute()
                0
            } catch (e: Throwable) {
                failed(e)
            }
        }
    }

    /**
     * Hands what app code threw to the library: one of the library's own exceptions keeps its
     * kind (`hotCallbackError`); anything else goes to `onUnhandledError` as `Callback`.
     */
    private fun failed(e: Throwable): Int {
        if (e is MizuSyncException || e is MizuException) {
            hotCallbackError(callbackFailure(e))
            return 1
        }
        val message = e.describe().toByteArray(Charsets.UTF_8)
        Hot.mizu_hot_callback_error(message, message.size.toLong())
        return 1
    }

    fun addListener(listener: ValueListener): Long = tokens.incrementAndGet().also { listeners[it] = listener }

    /**
     * Registers [listener] (its values decoded by [codec]) and subscribes it with [subscribe], a
     * direct `*_subscribe` call given the token; returns the subscription's hot handle and the
     * token. The registered function captures [codec] and [listener] alone, never a wrapper (the
     * registry holds it strongly until the subscription is cancelled or collected).
     */
    fun <T> subscribe(codec: HotCodec<T>, listener: (T) -> Unit, subscribe: (token: Long) -> Long): Pair<Long, Long> {
        val token = addListener { tag, int, float, ptr, len -> listener(codec.decode(tag, int, float, ptr, len)) }
        val subscription = subscribe(token)
        if (subscription == 0L) {
            removeListener(token)
            Hot.fail()
        }
        return subscription to token
    }

    fun removeListener(token: Long) {
        listeners.remove(token)
    }

    fun addEffect(run: () -> Unit): Long = tokens.incrementAndGet().also { effects[it] = run }

    fun removeEffect(token: Long) {
        effects.remove(token)
    }

    fun addCompute(compute: () -> Unit): Long = tokens.incrementAndGet().also { computes[it] = compute }

    fun removeCompute(token: Long) {
        computes.remove(token)
    }

    /** How many Kotlin functions are registered (for the tests' leak checks). */
    val registered: Int get() = listeners.size + effects.size + computes.size
}

/**
 * A listener registered by a direct call. Cancelled by [cancel], or, when it is garbage
 * collected, by its cleaner (which also gives back its hot handle).
 */
internal class HotSubscription(
    private val handle: Long,
    private val token: Long,
    private val ownerClosed: () -> Boolean,
) : SubscriptionInterface {
    @Volatile
    private var cancelled = false

    init {
        Hot.releaseWhenCollected(this, Release(handle, token))
    }

    override fun cancel() {
        cancelled = true
        Hot.mizu_hot_subscription_cancel(handle)
        HotCallbacks.removeListener(token)
        check(cancelled) // keeps this object (and its handle) alive until the call returned
    }

    override fun isCancelled(): Boolean = cancelled || ownerClosed()

    private class Release(private val handle: Long, private val token: Long) : Runnable {
        override fun run() {
            Hot.mizu_hot_subscription_release(handle)
            HotCallbacks.removeListener(token)
        }
    }
}
