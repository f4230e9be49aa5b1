package dev.mizu.sync

import dev.mizu.sync.ffi.EntityListener
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow
import dev.mizu.sync.ffi.Entity as FfiEntity

/**
 * One entity of a [Collection], by id. It may or may not exist at any moment; [value] is `null`
 * while it does not.
 *
 * ```kotlin
 * val milk = todos.entity("milk")
 * milk.changes.collect { todo -> println(todo ?: "deleted") }
 * ```
 */
public class Entity<T> internal constructor(
    private val inner: FfiEntity,
    private val codec: ValueCodec<T>,
    private val clientFlows: OpenFlows,
) : AutoCloseable {
    private val flows = OpenFlows()
    private val state = lazy { NativeState(untracked { value }) { emit -> inner.subscribe(entityListener(codec, emit)) } }

    /** The entity's id. */
    public val id: String = inner.id()

    /** The name of the entity's collection. */
    public val collection: String = inner.collection()

    /** The visible value (synced base with pending local writes on top), or `null`. Tracked. */
    public val value: T?
        get() = codec.decodeOrNull(native { inner.get() })

    /** Whether the entity exists. Tracked. */
    public val exists: Boolean
        get() = native { inner.exists() }

    /** Replaces the value (creating the entity when missing), optimistically and durably. */
    public fun set(value: T) {
        val text = codec.encode(value)
        native { inner.set(text) }
    }

    /** Deletes the entity (nothing happens when it does not exist). */
    public fun delete(): Unit = native { inner.delete() }

    /**
     * Calls [listener] with the value now, then after each change (`null` once deleted). What it
     * throws goes to [Client.onError].
     */
    public fun subscribe(listener: (T?) -> Unit): Subscription =
        Subscription(native { inner.subscribe(entityListener(codec, listener)) })

    /**
     * [subscribe] as a cold [Flow]; completes when this handle or its client is closed.
     * Conflated: a collector slower than the writes gets the latest value.
     */
    public val changes: Flow<T?>
        get() = stateFlow(flows, clientFlows) { emit -> inner.subscribe(entityListener(codec, emit)) }

    /** The value as a [StateFlow], kept current by one native subscription until [close]. */
    public fun asStateFlow(): StateFlow<T?> = state.value.flow

    /** Releases this handle and cancels its subscriptions. Idempotent. */
    override fun close() {
        if (state.isInitialized()) state.value.cancel()
        inner.release()
        flows.closeAll()
    }

    override fun toString(): String = "Entity($collection/$id)"
}

private fun <T> entityListener(codec: ValueCodec<T>, listener: (T?) -> Unit): EntityListener =
    object : EntityListener {
        override fun onChange(valueJson: String?) = callback { listener(codec.decodeOrNull(valueJson)) }
    }
