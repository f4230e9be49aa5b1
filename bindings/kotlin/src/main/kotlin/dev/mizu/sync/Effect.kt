package dev.mizu.sync

import dev.mizu.sync.ffi.BatchFn
import dev.mizu.sync.ffi.ComputedFn
import dev.mizu.sync.ffi.ErrorListener
import dev.mizu.sync.ffi.MizuException
import kotlinx.coroutines.flow.Flow
import dev.mizu.sync.ffi.batch as ffiBatch
import dev.mizu.sync.ffi.onUnhandledError as ffiOnUnhandledError
import dev.mizu.sync.ffi.untracked as ffiUntracked

/**
 * A side effect: [run] runs once now, on this thread, then again after every change of the
 * [Signal]s, [Computed]s, [Collection]s and [Entity]s it read through this library in its last
 * run.
 *
 * It re-runs on the thread whose write triggered it (the client's engine thread for server
 * changes), before that write returns. What [run] throws goes to [onUnhandledError]; the effect
 * keeps running. Keep a reference: a garbage-collected effect stops.
 */
public class Effect(run: () -> Unit) : AutoCloseable {
    // A direct effect: the library calls one JNA callback with this effect's token, which runs
    // [run] (no generated callback layer in between).
    private val token = HotCallbacks.addEffect(run)
    private val handle: Long = Hot.mizu_hot_effect_new(HotCallbacks.effectFn, token).also { handle ->
        if (handle == 0L) {
            HotCallbacks.removeEffect(token)
            Hot.fail()
        }
    }

    @Volatile
    private var stopped = false

    init {
        Hot.releaseWhenCollected(this, Release(handle, token))
    }

    private class Release(private val handle: Long, private val token: Long) : Runnable {
        override fun run() {
            Hot.mizu_hot_effect_release(handle)
            HotCallbacks.removeEffect(token)
        }
    }

    /** Stops the effect: it never runs again once this returns (a run on another thread finishes). Idempotent. */
    public fun stop() {
        Hot.mizu_hot_effect_stop(handle)
        stopped = true // after the call: keeps this effect (and its handle) reachable until it returned
        HotCallbacks.removeEffect(token)
    }

    /** Whether [stop] was called. */
    public val isStopped: Boolean
        get() = stopped

    /** Same as [stop]. */
    override fun close(): Unit = stop()
}

/**
 * Runs [block], deferring the effects its writes trigger on this thread until it returns; each
 * effect then runs once and sees all the writes. What [block] throws propagates unchanged (its
 * writes stay, and their effects still run).
 */
public fun batch(block: () -> Unit) {
    var failure: Throwable? = null
    val fn = object : BatchFn {
        override fun run() =
            try {
                block()
            } catch (e: Throwable) {
                failure = e
                throw callbackFailure(e)
            }
    }
    try {
        native { ffiBatch(fn) }
    } catch (e: MizuSyncException) {
        throw failure ?: e
    }
}

/**
 * Runs [block] without tracking its reads: inside a [Computed] or [Effect], what [block] reads
 * does not become a dependency. What [block] throws propagates unchanged.
 */
public fun <T> untracked(block: () -> T): T {
    var result: Result<T>? = null
    val fn = object : ComputedFn {
        override fun compute(): String {
            result = runCatching(block)
            return "null"
        }
    }
    native { ffiUntracked(fn) }
    return checkNotNull(result) { "untracked: the block did not run" }.getOrThrow()
}

/**
 * Calls [listener] with errors no client error listener takes: failures of signal and computed
 * listeners and of effects, and of a client's listeners while that client has none in
 * [Client.onError] / [Client.errors]. Without any such listener they are printed to standard error.
 */
public fun onUnhandledError(listener: (MizuSyncException) -> Unit): Subscription =
    Subscription(ffiOnUnhandledError(errorListener(listener)))

/**
 * [onUnhandledError] as a cold [Flow]; it holds at most [EVENT_BUFFER] errors for a slow
 * collector, then drops the oldest.
 */
public val unhandledErrors: Flow<MizuSyncException>
    get() = eventFlow(overflow = dropOldest()) { emit -> ffiOnUnhandledError(errorListener(emit)) }

/** A native error listener that hands each error, translated, to [listener]. */
internal fun errorListener(listener: (MizuSyncException) -> Unit): ErrorListener =
    object : ErrorListener {
        override fun onError(error: MizuException) = callback { listener(error.toPublic()) }
    }
