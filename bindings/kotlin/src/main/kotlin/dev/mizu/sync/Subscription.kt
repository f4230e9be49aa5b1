package dev.mizu.sync

import dev.mizu.sync.ffi.SubscriptionInterface

/**
 * A registered listener. [cancel] (or [close], so `use { }` works) stops it: once it returns, the
 * listener is not called again, except for a call already running on another thread.
 *
 * Keep a reference while you want the listener called: when this handle is garbage collected,
 * the listener stops too.
 */
public class Subscription internal constructor(private val inner: SubscriptionInterface) : AutoCloseable {
    /** Stops the listener. Idempotent. */
    public fun cancel() {
        inner.cancel()
    }

    /** Whether [cancel] was called (or the handle it came from was closed). */
    public val isCancelled: Boolean
        get() = inner.isCancelled()

    /** Same as [cancel]. */
    override fun close(): Unit = cancel()
}
