package dev.mizu.sync

import dev.mizu.sync.ffi.EntityListener
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
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
    private val hot: HotCollection,
    /** The entity's id. */
    public val id: String,
    private val codec: ValueCodec<T>,
    private val clientFlows: OpenFlows,
) : AutoCloseable {
    private val flows = OpenFlows()
    private val syncStateHolder = lazy { SyncStateHolder(inner()) }
    private val state = lazy { NativeState(untracked { value }) { emit -> inner().subscribe(entityListener(codec, emit)) } }

    /** The name of the entity's collection. */
    public val collection: String = hot.name

    @Volatile
    private var closed = false

    /**
     * The native entity, made at the first method that is not a direct call ([value] and
     * [set] read and write through the collection's hot handle and the id).
     */
    private val nativeEntity = lazy { hot.entity(id) }

    private fun checkOpen() {
        if (closed) throw MizuSyncException.Closed("entity")
    }

    private fun inner(): FfiEntity {
        checkOpen()
        val entity = nativeEntity.value
        if (closed) {
            // Closed while it was being made.
            entity.release()
            checkOpen()
        }
        return entity
    }

    /** The visible value (synced base with pending local writes on top), or `null`. Tracked. */
    public val value: T?
        get() {
            checkOpen()
            return codec.decodeOrNull(hot.read(id, tracked = true))
        }

    /** Whether the entity exists. Tracked. */
    public val exists: Boolean
        get() = native { inner().exists() }

    /**
     * Where the entity stands with the server: [SyncState.Synced], [SyncState.Pending] or
     * [SyncState.Rejected]. Tracked: a [Computed] or [Effect] that reads it re-runs when the
     * queue changes.
     */
    public val syncState: SyncState
        get() = native { inner().syncState() }.toPublic()

    /**
     * [syncState] as a [StateFlow] (a badge's state holder: `entity.syncStates().collectAsState()`),
     * kept current by one [Effect] until [close].
     */
    public fun syncStates(): StateFlow<SyncState> = syncStateHolder.value.flow

    /** Replaces the value (creating the entity when missing), optimistically and durably. */
    public fun set(value: T) {
        val text = codec.encode(value)
        checkOpen()
        hot.write(id, text, create = false)
    }

    /** Deletes the entity (nothing happens when it does not exist). */
    public fun delete(): Unit = native { inner().delete() }

    /**
     * [set], committed off the calling thread: suspends until the write is durable and visible.
     * Cancelling the coroutine stops the wait, never the write ([Collection.createAsync]).
     */
    public suspend fun setAsync(value: T) {
        val text = codec.encode(value)
        native { inner().setAsync(text) }
    }

    /** [delete], committed off the calling thread (see [setAsync]). */
    public suspend fun deleteAsync(): Unit = native { inner().deleteAsync() }

    /**
     * Calls [listener] with the value now, then after each change (`null` once deleted). What it
     * throws goes to [Client.onError].
     */
    public fun subscribe(listener: (T?) -> Unit): Subscription =
        Subscription(native { inner().subscribe(entityListener(codec, listener)) })

    /**
     * [subscribe] as a cold [Flow]; completes when this handle or its client is closed.
     * Conflated: a collector slower than the writes gets the latest value.
     */
    public val changes: Flow<T?>
        get() = stateFlow(flows, clientFlows) { emit -> inner().subscribe(entityListener(codec, emit)) }

    /**
     * The value as a [StateFlow], kept current by one native subscription until [close]: a
     * plain state holder for Compose (`entity.asStateFlow().collectAsState()`) or a ViewModel.
     */
    public fun asStateFlow(): StateFlow<T?> = state.value.flow

    /** Releases this handle and cancels its subscriptions. Idempotent. */
    override fun close() {
        closed = true
        if (state.isInitialized()) state.value.cancel()
        if (syncStateHolder.isInitialized()) syncStateHolder.value.effect.stop()
        if (nativeEntity.isInitialized()) nativeEntity.value.release()
        flows.closeAll()
    }

    override fun toString(): String = "Entity($collection/$id)"
}

/** An entity's sync state kept in a [MutableStateFlow] by an [Effect] that reads it. */
private class SyncStateHolder(entity: FfiEntity) {
    private val state = MutableStateFlow<SyncState>(SyncState.Synced)
    val flow: StateFlow<SyncState> = state.asStateFlow()

    // Reads the native entity alone (not the wrapper), so the wrapper can be collected.
    val effect = state.let { target -> Effect { target.value = native { entity.syncState() }.toPublic() } }
}

private fun <T> entityListener(codec: ValueCodec<T>, listener: (T?) -> Unit): EntityListener =
    object : EntityListener {
        override fun onChange(valueJson: String?) = callback { listener(codec.decodeOrNull(valueJson)) }
    }
